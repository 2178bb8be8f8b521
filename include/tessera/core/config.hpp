#pragma once

/// @file
/// Process-level configuration helpers: environment variables, human-readable byte sizes, and
/// the number of cores this process may use.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// Cores this process may run on: the size of its CPU affinity mask (what srun/mpirun binding
/// leaves it), falling back to hardware concurrency; at least 1.
unsigned available_cores() noexcept;

namespace detail {

/// Every TESSERA_* environment variable the library reads, resolved and validated at once.
/// Internal: the runtime and the schedulers read their settings from here, never from the
/// environment directly, so a bad value is rejected the same way on every scheduler.
struct RuntimeConfig {
  std::optional<std::string> scheduler;       ///< TESSERA_SCHEDULER (a known name)
  unsigned num_threads = 0;                   ///< TESSERA_NUM_THREADS (0: every core)
  unsigned threads_per_worker = 0;            ///< TESSERA_THREADS_PER_WORKER (0: every core)
  int task_retries = 0;                       ///< TESSERA_TASK_RETRIES
  std::chrono::milliseconds heartbeat_timeout{10000};  ///< TESSERA_HEARTBEAT_TIMEOUT (s)
  std::optional<std::string> memory_limit;    ///< TESSERA_MEMORY_LIMIT (checked syntax)
  std::optional<std::string> checkpoint;      ///< TESSERA_CHECKPOINT (a file path)
  std::optional<double> memory_target;        ///< TESSERA_MEMORY_TARGET, fraction in (0, 1]
  std::optional<double> memory_spill;         ///< TESSERA_MEMORY_SPILL
  std::optional<double> memory_pause;         ///< TESSERA_MEMORY_PAUSE
  std::optional<std::string> spill_dir;       ///< TESSERA_SPILL_DIR
  std::optional<std::string> trace;           ///< TESSERA_TRACE
  std::optional<std::uint64_t> buffer_pool_bytes;  ///< TESSERA_BUFFER_POOL_BYTES
  bool progress = false;                      ///< TESSERA_PROGRESS
  bool summary = false;                       ///< TESSERA_SUMMARY
  bool worker_stats = false;                  ///< TESSERA_WORKER_STATS
  /// "TESSERA_MEMORY_LIMT is not a tessera variable (did you mean TESSERA_MEMORY_LIMIT?)", one
  /// per set variable whose name is close to, but not, a known one.
  std::vector<std::string> warnings;

  using Lookup = std::function<std::optional<std::string>(const char* name)>;
  /// Resolves every variable through `lookup` (a getenv). `names` lists the TESSERA_* names
  /// that are set (for the misspelling warnings).
  /// Throws: ConfigError, one line: "TESSERA_X='value' is not ...; use ..." for the first
  /// invalid variable.
  static RuntimeConfig resolve(const Lookup& lookup, const std::vector<std::string>& names = {});
  /// resolve() over this process's environment.
  static RuntimeConfig from_environment();
};

/// The names of the TESSERA_* variables the library reads.
const std::vector<std::string_view>& runtime_variable_names();

/// This process's configuration, resolved from the environment on the first call and kept
/// (the warnings are printed on stderr then, by the first rank only under a launcher).
/// Throws: ConfigError if a variable is invalid (nothing is kept then: the next call checks
/// again).
/// Thread safety: any thread.
const RuntimeConfig& runtime_config();

/// Checks a memory-limit text: "auto", a fraction in (0, 1], or a non-zero byte size.
/// Throws: ConfigError "<what>='<spec>' is not a memory limit: use ...".
void check_memory_spec(std::string_view spec, std::string_view what);

}  // namespace detail
}  // namespace tessera
