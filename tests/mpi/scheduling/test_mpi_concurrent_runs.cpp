// Computations started from several driver threads at once run side by side on the MPI
// scheduler: none waits for another to end, results they share stay where each expects them,
// and one that fails leaves the others alone. Registered at 1-4 ranks, two task threads per
// worker (at one rank the threaded fallback runs them).
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

int slow_identity(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x;
}
std::vector<double> filled(int v) { return std::vector<double>(250'000, static_cast<double>(v)); }
double sum_after(const std::vector<double>& xs, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}
int fails(int x) { throw std::runtime_error("planned failure of " + std::to_string(x)); }
}  // namespace

TEST_SUITE("scheduling.mpi.concurrent") {

TEST_CASE("a short computation started while a long one runs is not held behind it") {
  const auto t0 = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto slow = tessera::delayed(slow_identity, {.name = "long_run"})(7, 3000);
  int slow_value = 0;
  double slow_done = 0;
  std::thread long_run([&] {
    slow_value = tessera::compute(slow);
    slow_done = since();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the long run is under way
  std::vector<tessera::Delayed<int>> quick;
  for (int i = 0; i < 20; ++i) quick.push_back(tessera::delayed(slow_identity, {.name = "short_run"})(i, 1));
  const auto got = tessera::compute(quick);
  const double quick_done = since();
  long_run.join();
  for (int i = 0; i < 20; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
  CHECK(slow_value == 7);
  MESSAGE("short run done at ", quick_done, " s, long run at ", slow_done, " s");
  // Held behind the long run, the short one would end after it (3 s).
  CHECK(quick_done < slow_done);
}

TEST_CASE("a persisted result read by two computations at once stays available to both") {
  // Each computation fetches copies of `p` to workers and lets them go when it ends, while the
  // other places tasks on those workers because they hold a copy: a copy goes only when no
  // computation still counts on it.
  auto p = tessera::persist(tessera::delayed(filled, {.name = "shared_input"})(3));
  const double expected = 3.0 * 250'000;
  auto sums_of = [&](const char* name, int n, int ms) {
    std::vector<tessera::Delayed<double>> sums;
    for (int i = 0; i < n; ++i) sums.push_back(tessera::delayed(sum_after, {.name = name})(p, i % (ms + 1)));
    return tessera::compute(sums);
  };
  std::vector<double> other_got;
  std::string other_error;
  std::thread other([&] {
    try {
      for (int round = 0; round < 30; ++round) {
        for (double s : sums_of("other_sum", 8, 0)) other_got.push_back(s);
      }
    } catch (const std::exception& e) {
      other_error = e.what();
    }
  });
  std::vector<double> got;
  std::string error;
  try {
    for (int round = 0; round < 30; ++round) {
      for (double s : sums_of("this_sum", 8, 2)) got.push_back(s);
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  other.join();
  CHECK(error == "");
  CHECK(other_error == "");
  CHECK(got == std::vector<double>(240, expected));
  CHECK(other_got == std::vector<double>(240, expected));
  // And the persisted result itself is still there for later computations.
  CHECK(tessera::compute(tessera::delayed(sum_after)(p, 0)) == expected);
}

TEST_CASE("a computation that fails leaves the one beside it running") {
  auto slow = tessera::delayed(slow_identity, {.name = "survivor"})(5, 1500);
  int slow_value = 0;
  std::thread survivor([&] { slow_value = tessera::compute(slow); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto bad = tessera::delayed(fails, {.name = "planned_failure"})(9);
  CHECK_THROWS_WITH_AS(tessera::compute(bad), doctest::Contains("planned_failure"), tessera::TaskError);
  survivor.join();
  CHECK(slow_value == 5);
  CHECK(tessera::compute(tessera::delayed(slow_identity)(11, 0)) == 11);
}

TEST_CASE("many threads computing at once each get their own results") {
  constexpr int threads = 6;
  std::vector<std::vector<int>> got(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        std::vector<tessera::Delayed<int>> xs;
        for (int i = 0; i < 50; ++i) xs.push_back(tessera::delayed(slow_identity)(1000 * t + i, 0));
        auto total = tessera::delayed([](const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); },
                                      {.name = "total"})(xs);
        got[static_cast<std::size_t>(t)].push_back(tessera::compute(total));
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) {
    const int want = 50 * 1000 * t + 49 * 50 / 2;
    CHECK(got[static_cast<std::size_t>(t)] == std::vector<int>(5, want));
  }
}

}  // TEST_SUITE("scheduling.mpi.concurrent")
