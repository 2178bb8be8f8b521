// Tasks that submit tasks (Dask's get_client / worker_client / secede), on the local schedulers.
#include <tessera/futures/client.hpp>
#include <tessera/scheduling/task_context.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/local_schedulers.hpp"

namespace {

std::atomic<int> g_fib_tasks{0};

long fib(long n) {
  g_fib_tasks.fetch_add(1);
  if (n < 2) return n;
  auto c = tessera::worker_client();
  auto a = c.submit(fib, n - 1);
  auto b = c.submit(fib, n - 2);
  return a.result() + b.result();
}

long fib_impure(long n) {
  g_fib_tasks.fetch_add(1);
  if (n < 2) return n;
  auto c = tessera::worker_client();
  auto a = c.submit_with({.pure = false}, fib_impure, n - 1);
  auto b = c.submit_with({.pure = false}, fib_impure, n - 2);
  return a.result() + b.result();
}

long fib_plain(long n) { return n < 2 ? n : fib_plain(n - 1) + fib_plain(n - 2); }

// Quicksort where each half of each partition is its own task, down to 16 elements.
std::vector<int> quicksort(const std::vector<int>& v) {
  if (v.size() <= 16) {
    auto s = v;
    std::sort(s.begin(), s.end());
    return s;
  }
  const int pivot = v[v.size() / 2];
  std::vector<int> lo, mid, hi;
  for (int x : v) (x < pivot ? lo : x == pivot ? mid : hi).push_back(x);
  auto c = tessera::worker_client();
  auto a = c.submit(quicksort, lo);
  auto b = c.submit(quicksort, hi);
  auto out = a.result();
  out.insert(out.end(), mid.begin(), mid.end());
  const auto& right = b.result();
  out.insert(out.end(), right.begin(), right.end());
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("a task sees the scheduler that runs it, and get_client submits there", S, SyncTag,
                   ThreadsTag) {
  auto scheduler = tessera::testing::local_scheduler<S>(2);
  CHECK(tessera::current_scheduler() == nullptr);  // not inside a task
  const tessera::Scheduler* expected = scheduler.get();
  auto probe = tessera::delayed([expected](int x) {
    // Inside the task: the scheduler is the one running it, and so is a client's.
    const bool same = tessera::current_scheduler().get() == expected;
    auto client = tessera::get_client();
    const bool client_same = client.scheduler().get() == expected;
    return (same ? 10 : 0) + (client_same ? 1 : 0) + 0 * x;
  })(1);
  CHECK(tessera::compute(probe, *scheduler) == 11);
  // Through a Client as well (the task then runs on a batch of the client).
  tessera::Client client(scheduler);
  auto f = client.submit([](int x) {
    auto inner = tessera::get_client();
    return inner.submit([](int y) { return y * 2; }, x).result();  // sync: no thread to free
  }, 21);
  CHECK(f.result() == 42);
}

TEST_CASE_TEMPLATE("recursive fib(16) of tasks on 2 threads: no deadlock, impure or pure", S, SyncTag,
                   ThreadsTag) {
  tessera::Client client(tessera::testing::local_scheduler<S>(2));
  g_fib_tasks = 0;
  auto f = client.submit_with({.pure = false}, fib_impure, 16L);
  REQUIRE(f.wait_for(std::chrono::seconds(120)));
  CHECK(f.result() == fib_plain(16));
  CHECK(g_fib_tasks.load() == 3193);  // 2 fib(17) - 1 calls, each its own task
  // Pure submissions (the default) reuse results that finished already: fewer tasks.
  g_fib_tasks = 0;
  auto g = client.submit(fib, 16L);
  REQUIRE(g.wait_for(std::chrono::seconds(120)));
  CHECK(g.result() == fib_plain(16));
  CHECK(g_fib_tasks.load() >= 17);  // fib(0) .. fib(16), each at least once
  CHECK(g_fib_tasks.load() <= 3193);
}

TEST_CASE_TEMPLATE("recursive quicksort of depth > 10 sorts on 2 threads", S, SyncTag, ThreadsTag) {
  tessera::Client client(tessera::testing::local_scheduler<S>(2));
  std::vector<int> v(20'000);
  std::uint32_t state = 12345;
  for (auto& x : v) x = static_cast<int>((state = state * 1664525u + 1013904223u) >> 8);
  auto f = client.submit(quicksort, v);
  REQUIRE(f.wait_for(std::chrono::seconds(120)));
  auto expected = v;
  std::sort(expected.begin(), expected.end());
  CHECK(f.result() == expected);
}

TEST_CASE("secede frees the pool thread: two waiting tasks on two threads let a third run") {
  auto scheduler = tessera::testing::local_scheduler<ThreadsTag>(2);
  static std::atomic<bool> released{false};
  static std::atomic<int> waiting{0};
  released = false;
  waiting = 0;
  tessera::Client client(scheduler);
  auto waiter = [](int id) {
    tessera::SecededScope seceded;  // without it both threads block and the releaser never runs
    waiting.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!released.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return released.load() ? id : -1;
  };
  auto a = client.submit_with({.pure = false}, waiter, 1);
  auto b = client.submit_with({.pure = false}, waiter, 2);
  while (waiting.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto releaser = client.submit([](int x) {
    released.store(true);
    return x;
  }, 3);
  CHECK(releaser.wait_for(std::chrono::seconds(10)));
  CHECK(a.result() == 1);
  CHECK(b.result() == 2);
}

TEST_CASE("secede and rejoin outside a pool thread are no-ops") {
  tessera::secede();
  tessera::rejoin();
  { tessera::SecededScope scope; }
  CHECK(tessera::current_scheduler() == nullptr);
}
