// detail::RuntimeConfig: every TESSERA_* variable the library reads, resolved and validated
// once, with one message format for every bad value.
#include <tessera/core/config.hpp>

#include <tessera/core/error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

extern char** environ;

namespace tessera::detail {

namespace {

const std::vector<std::string_view> g_names = {
    "TESSERA_SCHEDULER",       "TESSERA_NUM_THREADS",    "TESSERA_THREADS_PER_WORKER",
    "TESSERA_TASK_RETRIES",    "TESSERA_HEARTBEAT_TIMEOUT", "TESSERA_MEMORY_LIMIT",
    "TESSERA_MEMORY_TARGET",   "TESSERA_MEMORY_SPILL",   "TESSERA_MEMORY_PAUSE",
    "TESSERA_SPILL_DIR",       "TESSERA_TRACE",          "TESSERA_BUFFER_POOL_BYTES",
    "TESSERA_PROGRESS",        "TESSERA_SUMMARY",        "TESSERA_WORKER_STATS",
    "TESSERA_CHECKPOINT"};

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

[[noreturn]] void bad(const char* name, const std::string& value, const char* accepted) {
  TESSERA_THROW(ConfigError, name, "='", value, "' is not valid; accepted: ", accepted);
}

long integer(const RuntimeConfig::Lookup& get, const char* name, long fallback, long min,
             const char* accepted) {
  auto v = get(name);
  if (!v) return fallback;
  const std::string t = trim(*v);
  long out = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size() || out < min) {
    bad(name, *v, accepted);
  }
  return out;
}

bool flag(const RuntimeConfig::Lookup& get, const char* name) {
  auto v = get(name);
  if (!v) return false;
  const std::string s = lower(trim(*v));
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  bad(name, *v, "1/0, true/false, yes/no, on/off");
}

std::optional<double> fraction(const RuntimeConfig::Lookup& get, const char* name) {
  auto v = get(name);
  if (!v) return std::nullopt;
  const std::string t = trim(*v);
  double d = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size() || !(d > 0.0 && d <= 1.0)) {
    bad(name, *v, "a fraction of the memory limit in (0, 1], e.g. 0.7");
  }
  return d;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

bool is_first_rank() {
  // Under a launcher, only the first rank prints warnings (the others would repeat them).
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* s = std::getenv(v); s != nullptr && *s != '\0') return std::string(s) == "0";
  }
  return true;
}

}  // namespace

const std::vector<std::string_view>& runtime_variable_names() { return g_names; }

void check_memory_spec(std::string_view spec, std::string_view what) {
  const std::string s = trim(spec);
  const std::string low = lower(s);
  if (s.empty() || low == "auto") return;
  auto reject = [&] {
    TESSERA_THROW(ConfigError, what, "='", spec,
                  "' is not a memory limit; accepted: a size (2GB, 512MiB), a fraction of node "
                  "memory in (0, 1] (0.25), or auto");
  };
  double number = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec == std::errc{} && ptr == s.data() + s.size()) {
    if (!(number > 0) || !std::isfinite(number)) reject();
    if (number <= 1.0) return;
  }
  std::uint64_t bytes = 0;
  try {
    bytes = parse_bytes(s);
  } catch (const ConfigError&) {
    reject();
  }
  if (bytes == 0) reject();
}

RuntimeConfig RuntimeConfig::resolve(const Lookup& get, const std::vector<std::string>& names) {
  RuntimeConfig c;
  if (auto s = get("TESSERA_SCHEDULER")) {
    static const char* known[] = {"threads", "threading", "threaded", "sync", "synchronous",
                                  "single-threaded", "mpi", "distributed"};
    const std::string t = trim(*s);
    if (std::find(std::begin(known), std::end(known), t) == std::end(known)) {
      bad("TESSERA_SCHEDULER", *s, "threads, sync, or mpi (under mpirun/srun)");
    }
    c.scheduler = t;
  }
  c.num_threads = static_cast<unsigned>(
      integer(get, "TESSERA_NUM_THREADS", 0, 0, "an integer >= 0 (0: every core)"));
  c.threads_per_worker = static_cast<unsigned>(integer(
      get, "TESSERA_THREADS_PER_WORKER", 0, 0, "an integer >= 0 (0: every core of the worker)"));
  c.task_retries = static_cast<int>(
      integer(get, "TESSERA_TASK_RETRIES", 0, 0, "an integer >= 0 (tries after the first)"));
  c.heartbeat_timeout = std::chrono::milliseconds(
      1000 * integer(get, "TESSERA_HEARTBEAT_TIMEOUT", 10, 1, "whole seconds >= 1"));
  if (auto m = get("TESSERA_MEMORY_LIMIT")) {
    check_memory_spec(*m, "TESSERA_MEMORY_LIMIT");
    c.memory_limit = *m;
  }
  c.memory_target = fraction(get, "TESSERA_MEMORY_TARGET");
  c.memory_spill = fraction(get, "TESSERA_MEMORY_SPILL");
  c.memory_pause = fraction(get, "TESSERA_MEMORY_PAUSE");
  c.spill_dir = get("TESSERA_SPILL_DIR");
  c.trace = get("TESSERA_TRACE");
  c.checkpoint = get("TESSERA_CHECKPOINT");
  if (c.checkpoint && trim(*c.checkpoint).empty()) bad("TESSERA_CHECKPOINT", *c.checkpoint, "a file path");
  if (auto b = get("TESSERA_BUFFER_POOL_BYTES")) {
    try {
      c.buffer_pool_bytes = parse_bytes(*b);
    } catch (const ConfigError&) {
      bad("TESSERA_BUFFER_POOL_BYTES", *b, "a byte size (0, 64MiB, 1GB)");
    }
  }
  c.progress = flag(get, "TESSERA_PROGRESS");
  c.summary = flag(get, "TESSERA_SUMMARY");
  c.worker_stats = flag(get, "TESSERA_WORKER_STATS");
  for (const auto& n : names) {
    if (std::find(g_names.begin(), g_names.end(), n) != g_names.end()) continue;
    // Only names close to a known one: scripts and apps have TESSERA_* variables of their own.
    std::string_view best;
    std::size_t best_d = 3;
    for (auto k : g_names) {
      const std::size_t d = edit_distance(n, k);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
    if (!best.empty()) {
      c.warnings.push_back(n + " is not a tessera variable and is ignored (did you mean " +
                           std::string(best) + "?)");
    }
  }
  return c;
}

RuntimeConfig RuntimeConfig::from_environment() {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 8) != "TESSERA_") continue;
    names.emplace_back(kv.substr(0, kv.find('=')));
  }
  return resolve([](const char* n) { return env_string(n); }, names);
}

const RuntimeConfig& runtime_config() {
  // Kept once valid; an invalid environment is checked again on the next call (and fails
  // again, with the same message, unless it was fixed meanwhile).
  static std::mutex mutex;
  static std::optional<RuntimeConfig> config;
  std::lock_guard lock(mutex);
  if (!config) {
    config = RuntimeConfig::from_environment();
    if (is_first_rank()) {
      for (const auto& w : config->warnings) std::fprintf(stderr, "tessera: warning: %s\n", w.c_str());
    }
  }
  return *config;
}

}  // namespace tessera::detail
