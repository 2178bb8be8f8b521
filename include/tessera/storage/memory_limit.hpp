#pragma once

/// @file
/// How many bytes a worker rank may hold, and the fractions of that limit at which it starts to
/// spill, spills harder and pauses (Dask's target / spill / pause thresholds).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

/// A resolved per-rank memory limit and where it came from, for logs and `--dry-run` output.
struct MemoryLimit {
  std::uint64_t bytes = 0;
  /// The winning source, e.g. "explicit", "TESSERA_MEMORY_LIMIT",
  /// "SLURM_MEM_PER_CPU*SLURM_CPUS_PER_TASK", "SLURM_MEM_PER_NODE/ranks", "cgroup v2 memory.max/ranks",
  /// "cgroup v1 memory.limit_in_bytes/ranks", "physical memory/ranks".
  std::string source;
};

/// What the machine says about memory, gathered once; tests pass hand-made values.
struct NodeMemoryInfo {
  std::uint64_t physical_bytes = 0;                 ///< total RAM of the node
  std::optional<std::uint64_t> cgroup_v2_max;       ///< memory.max, if limited
  std::optional<std::uint64_t> cgroup_v1_limit;     ///< memory.limit_in_bytes, if limited
};

/// Reads physical memory and this process's cgroup v2 (then v1) memory limit from /proc and
/// /sys/fs/cgroup. Never throws; missing or unreadable files leave the fields empty.
NodeMemoryInfo probe_node_memory() noexcept;

/// Parses the contents of a cgroup v2 `memory.max` file: a byte count, or "max" (no limit ->
/// nullopt). Throws: ConfigError quoting the contents if they are neither.
std::optional<std::uint64_t> parse_cgroup_v2_memory_max(std::string_view contents);

/// Parses the contents of a cgroup v1 `memory.limit_in_bytes` file. Values of 2^62 and above
/// mean "no limit" (the kernel writes 9223372036854771712) -> nullopt.
/// Throws: ConfigError quoting the contents if they are not a byte count.
std::optional<std::uint64_t> parse_cgroup_v1_limit(std::string_view contents);

/// Parses a memory limit specification: a byte size ("2GB", "512MiB", "1073741824"), a fraction
/// of `node_bytes` (a plain number in (0, 1], e.g. "0.25"), or "auto" / "" (-> nullopt: let
/// resolve_memory_limit decide). `what` names the setting in error messages.
/// Throws: ConfigError naming `what` and the value if it is none of these or is zero.
std::optional<std::uint64_t> parse_memory_spec(std::string_view spec, std::uint64_t node_bytes,
                                               std::string_view what);

/// The per-rank memory limit, from the first source that gives one:
///   1. `explicit_spec` (API / command line),
///   2. `TESSERA_MEMORY_LIMIT`,
///   3. `SLURM_MEM_PER_CPU` (MB) x `SLURM_CPUS_PER_TASK` (or x `SLURM_CPUS_ON_NODE` / ranks),
///   4. `SLURM_MEM_PER_NODE` (MB) / ranks (0 means "all memory" and is skipped),
///   5. cgroup v2 memory.max / ranks, else cgroup v1 limit / ranks,
///   6. physical memory / ranks.
/// Fractions ("0.25") are of the node's memory as seen by this job (cgroup limit if smaller than
/// physical memory). `ranks_on_node` is the number of worker ranks sharing the node.
/// Throws: ConfigError naming the variable and its value if a set source is invalid, or if
/// `ranks_on_node` < 1.
MemoryLimit resolve_memory_limit(std::optional<std::string> explicit_spec, int ranks_on_node);

/// Same, with the machine described by `node` instead of probed (for tests and dry runs).
MemoryLimit resolve_memory_limit(std::optional<std::string> explicit_spec, int ranks_on_node,
                                 const NodeMemoryInfo& node);

/// Fractions of the memory limit: above `target` a worker spills least-recently-used results
/// until it is below target again; above `spill` it spills eagerly, also for new results; above
/// `pause` it stops starting tasks until memory falls.
struct MemoryThresholds {
  double target = 0.6;
  double spill = 0.7;
  double pause = 0.8;

  /// `defaults` with TESSERA_MEMORY_TARGET / TESSERA_MEMORY_SPILL / TESSERA_MEMORY_PAUSE applied.
  /// Throws: ConfigError naming the variable and value if one is not a number, or if the result
  /// breaks 0 < target <= spill <= pause <= 1.
  static MemoryThresholds from_env(MemoryThresholds defaults);
  /// from_env() applied to the defaults 0.6 / 0.7 / 0.8.
  /// Throws: as from_env(defaults).
  static MemoryThresholds from_env();

  /// Throws: ConfigError with all three values unless 0 < target <= spill <= pause <= 1.
  void validate() const;
};

}  // namespace tessera
