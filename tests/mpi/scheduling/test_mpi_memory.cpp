// Bounded memory on the workers: run with TESSERA_MEMORY_LIMIT set small (see CMakeLists.txt),
// results beyond the target are spilled to the private spill directory and read back, and the
// answers are the sync scheduler's.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>

namespace {
std::vector<double> block(int i) { return std::vector<double>(128 * 1024, 0.5 * i); }  // 1 MiB
double block_sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
double total(const std::vector<double>& parts) { return std::accumulate(parts.begin(), parts.end(), 0.0); }
std::vector<double> combine(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) out[k] = a[k] + 2 * b[k];
  return out;
}
}  // namespace

TEST_SUITE("scheduling.mpi.memory") {

TEST_CASE("results beyond the memory limit are spilled and read back with correct answers") {
  auto& rt = *tessera::Runtime::current();
  // 48 blocks of 1 MiB; every block is read by a late combine step, so all stay alive at once:
  // far more than the 4 MiB each worker may hold.
  std::vector<tessera::Delayed<std::vector<double>>> blocks;
  for (int i = 0; i < 48; ++i) blocks.push_back(tessera::delayed(block)(i));
  std::vector<tessera::Delayed<double>> sums;
  for (int i = 0; i < 48; ++i) {
    sums.push_back(tessera::delayed(block_sum)(tessera::delayed(combine)(blocks[static_cast<std::size_t>(i)], blocks[static_cast<std::size_t>(47 - i)])));
  }
  auto result = tessera::delayed(total)(sums);
  const double want = tessera::compute(result, tessera::SyncScheduler{});
  // The task stream shows the spills and reads back next to the tasks.
  auto trace = std::make_shared<tessera::ChromeTrace>();
  tessera::add_global_observer(trace);
  CHECK(tessera::compute(result) == doctest::Approx(want));
  tessera::remove_global_observer(trace);
  const std::string json = trace->json();
  if (rt.size() > 1) {
    CHECK(json.find("\"spill ") != std::string::npos);
    CHECK(json.find("\"read back ") != std::string::npos);
  }
  if (rt.size() > 1) {
    const auto stats = rt.stats();
    std::uint64_t spilled = 0, unspilled = 0;
    for (std::size_t r = 1; r < stats.size(); ++r) {
      CHECK(stats[r].memory_limit == 4ULL * 1024 * 1024);
      spilled += stats[r].bytes_spilled;
      unspilled += stats[r].bytes_unspilled;
    }
    MESSAGE(tessera::format_worker_stats(stats));
    CHECK(spilled > 0);
    CHECK(unspilled > 0);
  }
}

TEST_CASE("the spill directory is private to the user and unique per rank") {
  const char* root = std::getenv("TESSERA_SPILL_DIR");
  REQUIRE(root != nullptr);
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    const auto perms = std::filesystem::status(entry.path()).permissions();
    CHECK((perms & std::filesystem::perms::group_all) == std::filesystem::perms::none);
    CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
  }
}

}  // TEST_SUITE("scheduling.mpi.memory")
