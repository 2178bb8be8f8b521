// The behaviour suite on the local schedulers, plus thread-pool specifics.
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

struct SyncTag {};
struct Threads1Tag {};
struct Threads2Tag {};
struct Threads4Tag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  if constexpr (std::is_same_v<Tag, SyncTag>) return std::make_shared<tessera::SyncScheduler>();
  else if constexpr (std::is_same_v<Tag, Threads1Tag>)
    return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{1});
  else if constexpr (std::is_same_v<Tag, Threads2Tag>)
    return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{2});
  else return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{4});
}

#define TESSERA_TEST_SCHEDULERS SyncTag, Threads1Tag, Threads2Tag, Threads4Tag
#include "support/behaviour_suite.hpp"

TEST_SUITE("scheduling.threads") {

TEST_CASE("independent tasks run concurrently on the pool") {
  // Two tasks that each wait for the other to start can only finish if they run at once.
  tessera::ThreadScheduler threads({.num_threads = 2});
  auto started = std::make_shared<std::atomic<int>>(0);
  auto rendezvous = tessera::delayed([started](int id) {
    started->fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started->load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return started->load() >= 2 ? id : -1;
  }, {.name = "rendezvous"});
  auto [a, b] = tessera::compute(rendezvous(1), rendezvous(2), threads);
  CHECK(a == 1);
  CHECK(b == 2);
}

TEST_CASE("a task that fails stops its dependants from running") {
  tessera::ThreadScheduler threads({.num_threads = 2});
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto bad = tessera::delayed([](int) -> int { throw std::runtime_error("bad input"); }, {.name = "bad"})(1);
  auto dependant = tessera::delayed([ran](int v) { ran->fetch_add(1); return v; }, {.name = "after"})(bad);
  CHECK_THROWS_AS(tessera::compute(dependant, threads), tessera::TaskError);
  CHECK(ran->load() == 0);
}

TEST_CASE("compute inside a task runs inline instead of deadlocking the pool") {
  tessera::ThreadScheduler threads({.num_threads = 1});
  auto inner = tessera::delayed([](int v) { return v + 1; }, {.name = "inner"});
  auto outer = tessera::delayed([inner](int v) {
    tessera::SyncScheduler unused;
    (void)unused;
    return tessera::compute(inner(v), tessera::default_scheduler()) * 2;
  }, {.name = "outer"})(4);
  tessera::set_default_scheduler(std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{1}));
  CHECK(tessera::compute(outer, threads) == 10);
  tessera::set_default_scheduler(nullptr);
}

TEST_CASE("a deep chain of a hundred thousand tasks neither overflows the stack nor leaks") {
  tessera::ThreadScheduler threads({.num_threads = 2});
  auto step = tessera::delayed([](long v) { return v + 1; }, {.name = "step"});
  tessera::Delayed<long> x = step(0L);
  for (int i = 1; i < 100'000; ++i) x = step(x);
  CHECK(tessera::compute(x, threads) == 100'000);
}

TEST_CASE("the default thread count follows TESSERA_NUM_THREADS, then the affinity mask") {
  ::setenv("TESSERA_NUM_THREADS", "3", 1);
  CHECK(tessera::ThreadScheduler().num_threads() == 3);
  ::unsetenv("TESSERA_NUM_THREADS");
  CHECK(tessera::ThreadScheduler().num_threads() == tessera::available_cores());
}

}  // TEST_SUITE("scheduling.threads")

TEST_SUITE("scheduling") {

TEST_CASE("schedulers are chosen by name, by default and by environment") {
  CHECK(tessera::make_scheduler("sync")->name() == "sync");
  CHECK(tessera::make_scheduler("threads", 2)->name() == "threads");
  CHECK_THROWS_WITH_AS(tessera::make_scheduler("warp-drive"), doctest::Contains("warp-drive"),
                       tessera::ConfigError);
  ::setenv("TESSERA_SCHEDULER", "sync", 1);
  tessera::set_default_scheduler(nullptr);
  tessera::register_scheduler("sync", [](unsigned) { return std::make_shared<tessera::SyncScheduler>(); });
  CHECK(tessera::default_scheduler()->name() == "sync");
  ::unsetenv("TESSERA_SCHEDULER");
  tessera::register_scheduler("sync", [](unsigned) { return std::make_shared<tessera::SyncScheduler>(); });
  CHECK(tessera::default_scheduler()->name() == "threads");
  auto mine = std::make_shared<tessera::SyncScheduler>();
  tessera::set_default_scheduler(mine);
  CHECK(tessera::default_scheduler() == mine);
  tessera::set_default_scheduler(nullptr);
}

TEST_CASE("observers see every task and the progress bar reports the run") {
  struct Counter : tessera::Observer {
    std::atomic<int> done{0};
    std::size_t total = 0;
    bool ended_ok = false;
    void on_run_start(std::size_t n, std::string_view) override { total = n; }
    void on_task_done(const tessera::TaskEvent&) override { ++done; }
    void on_run_end(bool ok) override { ended_ok = ok; }
  };
  auto counter = std::make_shared<Counter>();
  tessera::add_global_observer(counter);
  std::vector<tessera::Delayed<int>> xs;
  for (int i = 0; i < 50; ++i) xs.push_back(tessera::delayed(behaviour::inc)(i));
  tessera::ThreadScheduler threads({.num_threads = 2});
  (void)tessera::compute(xs, threads);
  tessera::remove_global_observer(counter);
  CHECK(counter->total == 50);
  CHECK(counter->done.load() == 50);
  CHECK(counter->ended_ok);

  tessera::ProgressBar bar({.stream = stderr, .min_seconds = 0.0, .log_interval = 0.0});
  bar.on_run_start(4, "threads");
  bar.on_task_done({});
  bar.on_task_done({});
  CHECK(bar.line().find("2/4 tasks") != std::string::npos);
}

}  // TEST_SUITE("scheduling")
