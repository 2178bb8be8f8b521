#include <tessera/storage/memory_limit.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/storage/process_memory.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace tessera {

namespace {

constexpr std::uint64_t slurm_mb = 1024ULL * 1024ULL;  // Slurm's "MB" are MiB

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  s = trim(s);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Slurm memory variable in MB; nullopt if unset.
std::optional<std::uint64_t> slurm_mb_env(const char* name) {
  auto v = env_string(name);
  if (!v) return std::nullopt;
  auto n = parse_u64(*v);
  if (!n) {
    TESSERA_THROW(ConfigError, "environment variable ", name, "='", *v,
                  "' is not a memory size in MB");
  }
  return *n;
}

std::uint64_t job_node_memory(const NodeMemoryInfo& node) {
  std::uint64_t m = node.physical_bytes;
  for (const auto& limit : {node.cgroup_v2_max, node.cgroup_v1_limit}) {
    if (limit && *limit > 0 && (m == 0 || *limit < m)) m = *limit;
  }
  return m;
}

// The cgroup path of this process for a controller ("" for the v2 unified hierarchy).
std::optional<std::string> cgroup_path(const std::string& proc_cgroup, bool v2) {
  std::istringstream in(proc_cgroup);
  std::string line;
  while (std::getline(in, line)) {
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    if (v2 ? (line.substr(0, c1) == "0" && controllers.empty())
           : (("," + controllers + ",").find(",memory,") != std::string::npos)) {
      return line.substr(c2 + 1);
    }
  }
  return std::nullopt;
}

// Smallest limit among `file` in `base + path` and its ancestors, down to `base`.
template <class Parse>
std::optional<std::uint64_t> min_up_the_tree(const std::string& base, std::string path,
                                             const char* file, Parse parse) {
  std::optional<std::uint64_t> best;
  for (;;) {
    if (auto text = read_small_file(base + path + (path.empty() || path.back() == '/' ? "" : "/") + file)) {
      try {
        if (auto v = parse(*text)) best = best ? std::min(*best, *v) : *v;
      } catch (const ConfigError&) {
        // An unreadable limit is treated as no limit.
      }
    }
    if (path.empty() || path == "/") break;
    const auto slash = path.find_last_of('/');
    path = slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
  }
  return best;
}

}  // namespace

std::optional<std::uint64_t> parse_cgroup_v2_memory_max(std::string_view contents) {
  const std::string_view s = trim(contents);
  if (s == "max") return std::nullopt;
  auto v = parse_u64(s);
  if (!v) TESSERA_THROW(ConfigError, "cgroup v2 memory.max contains '", s, "', not a byte count");
  return v;
}

std::optional<std::uint64_t> parse_cgroup_v1_limit(std::string_view contents) {
  const std::string_view s = trim(contents);
  auto v = parse_u64(s);
  if (!v) {
    TESSERA_THROW(ConfigError, "cgroup v1 memory.limit_in_bytes contains '", s,
                  "', not a byte count");
  }
  if (*v >= (1ULL << 62)) return std::nullopt;
  return v;
}

NodeMemoryInfo probe_node_memory() noexcept {
  NodeMemoryInfo info;
  info.physical_bytes = node_physical_memory();
  try {
    const std::string self = read_small_file("/proc/self/cgroup").value_or("");
    const std::string v2 = cgroup_path(self, true).value_or("");
    info.cgroup_v2_max =
        min_up_the_tree("/sys/fs/cgroup", v2, "memory.max", parse_cgroup_v2_memory_max);
    if (!info.cgroup_v2_max) {
      const std::string v1 = cgroup_path(self, false).value_or("");
      info.cgroup_v1_limit = min_up_the_tree("/sys/fs/cgroup/memory", v1,
                                             "memory.limit_in_bytes", parse_cgroup_v1_limit);
    }
  } catch (...) {
    // Probing is best effort: fall back to physical memory.
  }
  return info;
}

std::optional<std::uint64_t> parse_memory_spec(std::string_view spec, std::uint64_t node_bytes,
                                               std::string_view what) {
  const std::string_view s = trim(spec);
  const std::string low = lower(s);
  if (s.empty() || low == "auto") return std::nullopt;
  if (auto number = parse_double(s)) {
    // A plain number: a fraction of the node's memory if <= 1, else a byte count.
    if (!(*number > 0) || !std::isfinite(*number)) {
      TESSERA_THROW(ConfigError, what, "='", spec,
                    "' is not a memory limit: use a size (2GB, 512MiB), a fraction of node "
                    "memory in (0, 1] (0.25), or auto");
    }
    if (*number <= 1.0) {
      return static_cast<std::uint64_t>(*number * static_cast<double>(node_bytes));
    }
  }
  std::uint64_t bytes = 0;
  try {
    bytes = parse_bytes(s);
  } catch (const ConfigError& e) {
    TESSERA_THROW(ConfigError, what, "='", spec,
                  "' is not a memory limit: use a size (2GB, 512MiB), a fraction of node "
                  "memory in (0, 1] (0.25), or auto (", e.what(), ")");
  }
  if (bytes == 0) TESSERA_THROW(ConfigError, what, "='", spec, "' is a zero memory limit");
  return bytes;
}

MemoryLimit resolve_memory_limit(std::optional<std::string> explicit_spec, int ranks_on_node) {
  return resolve_memory_limit(std::move(explicit_spec), ranks_on_node, probe_node_memory());
}

MemoryLimit resolve_memory_limit(std::optional<std::string> explicit_spec, int ranks_on_node,
                                 const NodeMemoryInfo& node) {
  if (ranks_on_node < 1) {
    TESSERA_THROW(ConfigError, "resolve_memory_limit: ranks_on_node=", ranks_on_node,
                  " must be >= 1");
  }
  const auto ranks = static_cast<std::uint64_t>(ranks_on_node);
  const std::uint64_t node_bytes = job_node_memory(node);

  if (explicit_spec) {
    if (auto b = parse_memory_spec(*explicit_spec, node_bytes, "memory limit")) {
      return {*b, "explicit"};
    }
  }
  if (auto env = env_string("TESSERA_MEMORY_LIMIT")) {
    if (auto b = parse_memory_spec(*env, node_bytes, "TESSERA_MEMORY_LIMIT")) {
      return {*b, "TESSERA_MEMORY_LIMIT"};
    }
  }
  if (auto per_cpu = slurm_mb_env("SLURM_MEM_PER_CPU")) {
    if (auto cpus = env_string("SLURM_CPUS_PER_TASK")) {
      const long n = env_int("SLURM_CPUS_PER_TASK", 1, 1);
      return {*per_cpu * slurm_mb * static_cast<std::uint64_t>(n),
              "SLURM_MEM_PER_CPU*SLURM_CPUS_PER_TASK"};
    }
    if (env_string("SLURM_CPUS_ON_NODE")) {
      const auto n = static_cast<std::uint64_t>(env_int("SLURM_CPUS_ON_NODE", 1, 1));
      return {*per_cpu * slurm_mb * n / ranks, "SLURM_MEM_PER_CPU*SLURM_CPUS_ON_NODE/ranks"};
    }
    return {*per_cpu * slurm_mb, "SLURM_MEM_PER_CPU"};
  }
  if (auto per_node = slurm_mb_env("SLURM_MEM_PER_NODE"); per_node && *per_node > 0) {
    return {*per_node * slurm_mb / ranks, "SLURM_MEM_PER_NODE/ranks"};
  }
  if (node.cgroup_v2_max) return {*node.cgroup_v2_max / ranks, "cgroup v2 memory.max/ranks"};
  if (node.cgroup_v1_limit) {
    return {*node.cgroup_v1_limit / ranks, "cgroup v1 memory.limit_in_bytes/ranks"};
  }
  return {node.physical_bytes / ranks, "physical memory/ranks"};
}

namespace {
double threshold_env(const char* name, double fallback) {
  auto v = env_string(name);
  if (!v) return fallback;
  auto d = parse_double(*v);
  if (!d) {
    TESSERA_THROW(ConfigError, "environment variable ", name, "='", *v,
                  "' is not a number (a fraction of the memory limit, e.g. 0.7)");
  }
  if (!(*d > 0.0 && *d <= 1.0)) {
    TESSERA_THROW(ConfigError, "environment variable ", name, "='", *v,
                  "' must be a fraction in (0, 1]");
  }
  return *d;
}
}  // namespace

MemoryThresholds MemoryThresholds::from_env(MemoryThresholds defaults) {
  MemoryThresholds t = defaults;
  t.target = threshold_env("TESSERA_MEMORY_TARGET", t.target);
  t.spill = threshold_env("TESSERA_MEMORY_SPILL", t.spill);
  t.pause = threshold_env("TESSERA_MEMORY_PAUSE", t.pause);
  try {
    t.validate();
  } catch (const ConfigError& e) {
    TESSERA_THROW(ConfigError, e.what(),
                  " (from TESSERA_MEMORY_TARGET/TESSERA_MEMORY_SPILL/TESSERA_MEMORY_PAUSE)");
  }
  return t;
}

MemoryThresholds MemoryThresholds::from_env() { return from_env(MemoryThresholds{}); }

void MemoryThresholds::validate() const {
  if (!(0.0 < target && target <= spill && spill <= pause && pause <= 1.0)) {
    TESSERA_THROW(ConfigError, "memory thresholds target=", target, " spill=", spill,
                  " pause=", pause, " must satisfy 0 < target <= spill <= pause <= 1");
  }
}

}  // namespace tessera
