#include <tessera/core/error.hpp>
#include <tessera/storage/memory_limit.hpp>
#include <tessera/storage/process_memory.hpp>

#include <doctest/doctest.h>

#include <sys/mman.h>

#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

using tessera::MemoryLimit;
using tessera::NodeMemoryInfo;

namespace {

constexpr std::uint64_t GiB = 1024ULL * 1024 * 1024;
constexpr std::uint64_t MiB = 1024ULL * 1024;

/// Sets the memory-related variables for one test and restores them afterwards; everything not
/// given is unset, so the machine's own SLURM_* or TESSERA_* values cannot leak in.
class MemoryEnv {
public:
  MemoryEnv() : MemoryEnv({}) {}
  MemoryEnv(std::initializer_list<std::pair<const std::string, std::string>> values) {
    for (const char* name : names) {
      if (const char* v = std::getenv(name)) m_saved[name] = v;
      ::unsetenv(name);
    }
    for (const auto& [k, v] : values) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~MemoryEnv() {
    for (const char* name : names) ::unsetenv(name);
    for (const auto& [k, v] : m_saved) ::setenv(k.c_str(), v.c_str(), 1);
  }
  MemoryEnv(const MemoryEnv&) = delete;
  MemoryEnv& operator=(const MemoryEnv&) = delete;

private:
  static constexpr const char* names[] = {
      "TESSERA_MEMORY_LIMIT", "SLURM_MEM_PER_CPU",     "SLURM_CPUS_PER_TASK",
      "SLURM_CPUS_ON_NODE",   "SLURM_MEM_PER_NODE",    "TESSERA_MEMORY_TARGET",
      "TESSERA_MEMORY_SPILL", "TESSERA_MEMORY_PAUSE"};
  std::map<std::string, std::string> m_saved;
};

NodeMemoryInfo node(std::uint64_t physical, std::optional<std::uint64_t> v2 = std::nullopt,
                    std::optional<std::uint64_t> v1 = std::nullopt) {
  NodeMemoryInfo info;
  info.physical_bytes = physical;
  info.cgroup_v2_max = v2;
  info.cgroup_v1_limit = v1;
  return info;
}

}  // namespace

TEST_SUITE("storage.memory_limit") {

TEST_CASE("memory specs parse as sizes, fractions of the node, or auto") {
  using tessera::parse_memory_spec;
  CHECK(parse_memory_spec("2GB", 8 * GiB, "x") == 2'000'000'000ULL);
  CHECK(parse_memory_spec("512MiB", 8 * GiB, "x") == 512 * MiB);
  CHECK(parse_memory_spec("0.25", 8 * GiB, "x") == 2 * GiB);
  CHECK(parse_memory_spec("1", 8 * GiB, "x") == 8 * GiB);
  CHECK(parse_memory_spec("1073741824", 8 * GiB, "x") == GiB);
  CHECK_FALSE(parse_memory_spec("auto", 8 * GiB, "x").has_value());
  CHECK_FALSE(parse_memory_spec(" AUTO ", 8 * GiB, "x").has_value());
  CHECK_FALSE(parse_memory_spec("", 8 * GiB, "x").has_value());
  CHECK_THROWS_WITH_AS(parse_memory_spec("lots", 8 * GiB, "--memory-limit"),
                       doctest::Contains("--memory-limit='lots'"), tessera::ConfigError);
  CHECK_THROWS_AS(parse_memory_spec("0", 8 * GiB, "x"), tessera::ConfigError);
  CHECK_THROWS_AS(parse_memory_spec("-0.5", 8 * GiB, "x"), tessera::ConfigError);
  CHECK_THROWS_AS(parse_memory_spec("0B", 8 * GiB, "x"), tessera::ConfigError);
}

TEST_CASE("cgroup files parse, with 'max' and the v1 sentinel meaning no limit") {
  CHECK(tessera::parse_cgroup_v2_memory_max("4294967296\n") == 4 * GiB);
  CHECK_FALSE(tessera::parse_cgroup_v2_memory_max("max\n").has_value());
  CHECK_THROWS_WITH_AS(tessera::parse_cgroup_v2_memory_max("lots"), doctest::Contains("lots"),
                       tessera::ConfigError);
  CHECK(tessera::parse_cgroup_v1_limit("2147483648\n") == 2 * GiB);
  CHECK_FALSE(tessera::parse_cgroup_v1_limit("9223372036854771712\n").has_value());
  CHECK_THROWS_AS(tessera::parse_cgroup_v1_limit(""), tessera::ConfigError);
}

TEST_CASE("each source wins in its turn: explicit > env > Slurm > cgroup > physical") {
  const NodeMemoryInfo plain = node(64 * GiB);

  SUBCASE("explicit spec beats everything") {
    MemoryEnv env({{"TESSERA_MEMORY_LIMIT", "1GB"}, {"SLURM_MEM_PER_NODE", "1000"}});
    const MemoryLimit m = tessera::resolve_memory_limit("3GiB", 4, plain);
    CHECK(m.bytes == 3 * GiB);
    CHECK(m.source == "explicit");
  }
  SUBCASE("an explicit 'auto' falls through to the environment") {
    MemoryEnv env({{"TESSERA_MEMORY_LIMIT", "0.5"}, {"SLURM_MEM_PER_NODE", "1000"}});
    const MemoryLimit m = tessera::resolve_memory_limit("auto", 4, plain);
    CHECK(m.bytes == 32 * GiB);  // a fraction of the node, not divided by ranks
    CHECK(m.source == "TESSERA_MEMORY_LIMIT");
  }
  SUBCASE("SLURM_MEM_PER_CPU times SLURM_CPUS_PER_TASK") {
    MemoryEnv env({{"SLURM_MEM_PER_CPU", "2000"},
                   {"SLURM_CPUS_PER_TASK", "4"},
                   {"SLURM_MEM_PER_NODE", "1000"}});
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 4, plain);
    CHECK(m.bytes == 2000 * MiB * 4);
    CHECK(m.source == "SLURM_MEM_PER_CPU*SLURM_CPUS_PER_TASK");
  }
  SUBCASE("SLURM_MEM_PER_CPU times cpus on the node shared by the ranks") {
    MemoryEnv env({{"SLURM_MEM_PER_CPU", "1000"}, {"SLURM_CPUS_ON_NODE", "8"}});
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 2, plain);
    CHECK(m.bytes == 1000 * MiB * 8 / 2);
    CHECK(m.source == "SLURM_MEM_PER_CPU*SLURM_CPUS_ON_NODE/ranks");
  }
  SUBCASE("SLURM_MEM_PER_NODE shared by the ranks") {
    MemoryEnv env({{"SLURM_MEM_PER_NODE", "12000"}});
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 3, node(64 * GiB, 8 * GiB));
    CHECK(m.bytes == 4000 * MiB);
    CHECK(m.source == "SLURM_MEM_PER_NODE/ranks");
  }
  SUBCASE("SLURM_MEM_PER_NODE=0 (all of the node) defers to the cgroup") {
    MemoryEnv env({{"SLURM_MEM_PER_NODE", "0"}});
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 2, node(64 * GiB, 8 * GiB));
    CHECK(m.bytes == 4 * GiB);
    CHECK(m.source == "cgroup v2 memory.max/ranks");
  }
  SUBCASE("cgroup v1 when there is no v2 limit") {
    MemoryEnv env;
    const MemoryLimit m =
        tessera::resolve_memory_limit(std::nullopt, 4, node(64 * GiB, std::nullopt, 16 * GiB));
    CHECK(m.bytes == 4 * GiB);
    CHECK(m.source == "cgroup v1 memory.limit_in_bytes/ranks");
  }
  SUBCASE("physical memory shared by the ranks as the last resort") {
    MemoryEnv env;
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 4, plain);
    CHECK(m.bytes == 16 * GiB);
    CHECK(m.source == "physical memory/ranks");
  }
  SUBCASE("fractions are of the memory the cgroup allows, when smaller than physical") {
    MemoryEnv env;
    const MemoryLimit m = tessera::resolve_memory_limit("0.5", 4, node(64 * GiB, 8 * GiB));
    CHECK(m.bytes == 4 * GiB);
  }
  SUBCASE("the probing overload returns something sane on this machine") {
    MemoryEnv env;
    const MemoryLimit m = tessera::resolve_memory_limit(std::nullopt, 1);
    CHECK(m.bytes > 0);
    CHECK(m.bytes <= tessera::node_physical_memory());
    CHECK_FALSE(m.source.empty());
  }
}

TEST_CASE("invalid sources are reported with the variable and its value") {
  SUBCASE("TESSERA_MEMORY_LIMIT") {
    MemoryEnv env({{"TESSERA_MEMORY_LIMIT", "a lot"}});
    CHECK_THROWS_WITH_AS(tessera::resolve_memory_limit(std::nullopt, 1, node(GiB)),
                         doctest::Contains("TESSERA_MEMORY_LIMIT='a lot'"), tessera::ConfigError);
  }
  SUBCASE("SLURM_MEM_PER_NODE") {
    MemoryEnv env({{"SLURM_MEM_PER_NODE", "12G"}});
    CHECK_THROWS_WITH_AS(tessera::resolve_memory_limit(std::nullopt, 1, node(GiB)),
                         doctest::Contains("SLURM_MEM_PER_NODE='12G'"), tessera::ConfigError);
  }
  SUBCASE("SLURM_CPUS_PER_TASK") {
    MemoryEnv env({{"SLURM_MEM_PER_CPU", "100"}, {"SLURM_CPUS_PER_TASK", "x"}});
    CHECK_THROWS_WITH_AS(tessera::resolve_memory_limit(std::nullopt, 1, node(GiB)),
                         doctest::Contains("SLURM_CPUS_PER_TASK='x'"), tessera::ConfigError);
  }
  SUBCASE("ranks on node") {
    MemoryEnv env;
    CHECK_THROWS_WITH_AS(tessera::resolve_memory_limit(std::nullopt, 0, node(GiB)),
                         doctest::Contains("ranks_on_node=0"), tessera::ConfigError);
  }
}

TEST_CASE("memory thresholds come from the environment and are validated") {
  {
    MemoryEnv env;
    const auto t = tessera::MemoryThresholds::from_env();
    CHECK(t.target == doctest::Approx(0.6));
    CHECK(t.spill == doctest::Approx(0.7));
    CHECK(t.pause == doctest::Approx(0.8));
  }
  {
    MemoryEnv env({{"TESSERA_MEMORY_TARGET", "0.5"}, {"TESSERA_MEMORY_PAUSE", "0.95"}});
    const auto t = tessera::MemoryThresholds::from_env();
    CHECK(t.target == doctest::Approx(0.5));
    CHECK(t.spill == doctest::Approx(0.7));
    CHECK(t.pause == doctest::Approx(0.95));
  }
  {
    MemoryEnv env({{"TESSERA_MEMORY_SPILL", "high"}});
    CHECK_THROWS_WITH_AS(tessera::MemoryThresholds::from_env(),
                         doctest::Contains("TESSERA_MEMORY_SPILL='high'"), tessera::ConfigError);
  }
  {
    MemoryEnv env({{"TESSERA_MEMORY_SPILL", "1.5"}});
    CHECK_THROWS_WITH_AS(tessera::MemoryThresholds::from_env(),
                         doctest::Contains("TESSERA_MEMORY_SPILL='1.5'"), tessera::ConfigError);
  }
  {
    MemoryEnv env({{"TESSERA_MEMORY_TARGET", "0.9"}});  // above spill=0.7
    CHECK_THROWS_WITH_AS(tessera::MemoryThresholds::from_env(),
                         doctest::Contains("target <= spill"), tessera::ConfigError);
  }
}

TEST_CASE("process memory comes from /proc/self/status") {
  const std::string status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t   1024 kB\nThreads:\t1\n";
  CHECK(tessera::parse_proc_status_field(status, "VmRSS") == 1024ULL * 1024);
  CHECK(tessera::parse_proc_status_field(status, "VmHWM") == 2048ULL * 1024);
  CHECK_FALSE(tessera::parse_proc_status_field(status, "VmSwap").has_value());
  CHECK_FALSE(tessera::parse_proc_status_field("VmRSS:\tmany kB\n", "VmRSS").has_value());
  CHECK_FALSE(tessera::parse_proc_status_field("VmRSSX:\t5 kB\n", "VmRSS").has_value());

  const std::uint64_t before = tessera::current_rss();
  CHECK(before > 0);
  CHECK(tessera::peak_rss() >= before);
  CHECK(tessera::node_physical_memory() > before);
  // Touch 64 MiB of fresh pages (mmap, so no allocator cache or sanitizer quarantine keeps them
  // after munmap): RSS must grow by most of it.
  constexpr std::size_t block_bytes = 64 * MiB;
  void* block = ::mmap(nullptr, block_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
  REQUIRE(block != MAP_FAILED);
  auto* bytes = static_cast<char*>(block);
  for (std::size_t i = 0; i < block_bytes; i += 4096) bytes[i] = static_cast<char>(i);
  CHECK(tessera::current_rss() >= before + 48 * MiB);
  const std::uint64_t peak_with_block = tessera::peak_rss();
  CHECK(peak_with_block >= before + 48 * MiB);
  ::munmap(block, block_bytes);
  CHECK(tessera::current_rss() + 32 * MiB < peak_with_block);
  if (tessera::reset_peak_rss()) {
    // After a reset the high-water mark restarts from the current RSS, well below the old peak.
    CHECK(tessera::peak_rss() + 32 * MiB < peak_with_block);
  } else {
    MESSAGE("reset_peak_rss() is not permitted here; peak reset not checked");
  }
}

}  // TEST_SUITE
