#pragma once

/// @file
/// Process-level configuration helpers: environment variables, human-readable byte sizes, and
/// the number of cores this process may use.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

/// Value of environment variable `name`, or nullopt when unset or empty.
std::optional<std::string> env_string(const char* name);

/// Integer value of environment variable `name`, or `fallback` when unset.
/// Throws: ConfigError naming the variable and its value if it is not an integer >= `min`.
long env_int(const char* name, long fallback, long min = 0);

/// Boolean environment variable: 1/true/yes/on or 0/false/no/off (case-insensitive).
/// Throws: ConfigError naming the variable if the value is anything else.
bool env_flag(const char* name, bool fallback = false);

/// Parses a byte size: "1024", "512KB", "2GB" (powers of 1000), "512KiB", "2GiB" (powers of 1024).
/// Throws: ConfigError quoting `text` if it is not a size.
std::uint64_t parse_bytes(std::string_view text);

/// Formats a byte count for people: "512 B", "1.50 KiB", "3.20 GiB".
std::string format_bytes(std::uint64_t bytes);

/// The memory this process may use for results, once a runtime has decided it (an MPI
/// worker's limit); 0 while unset. Caches (e.g. the array buffer pool) keep to a fraction of it.
/// Thread safety: atomic.
void set_memory_budget(std::uint64_t bytes) noexcept;
[[nodiscard]] std::uint64_t memory_budget() noexcept;

/// Cores this process may run on: the size of its CPU affinity mask (what srun/mpirun binding
/// leaves it), falling back to hardware concurrency; at least 1.
unsigned available_cores() noexcept;

}  // namespace tessera
