#pragma once

// Futures behaviour, written once; included by the threads test and the MPI test. Define
// TESSERA_TEST_SCHEDULERS and make_test_scheduler<Tag>() first (see behaviour_suite.hpp).

#include <tessera/futures/client.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>

namespace futures_suite {
inline int inc(int x) { return x + 1; }
inline int add(int a, int b) { return a + b; }
inline int slow_identity(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return x;
}
inline int fails_on_odd(int x) {
  if (x % 2) throw std::domain_error("odd input " + std::to_string(x));
  return x;
}
inline double weighted_sum(const std::vector<double>& data, double w) {
  return w * std::accumulate(data.begin(), data.end(), 0.0);
}
}  // namespace futures_suite

TEST_CASE_TEMPLATE("submitted chains resolve without waiting in between", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto a = client.submit(futures_suite::inc, 1);
  auto b = client.submit(futures_suite::add, a, 10);
  auto c = client.submit(futures_suite::add, b, a);
  CHECK(c.result() == 14);
  CHECK(a.status() == tessera::FutureStatus::finished);
  CHECK(b.get() == 12);
}

TEST_CASE_TEMPLATE("map over ten thousand inputs and gather", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  std::vector<int> xs(10'000);
  std::iota(xs.begin(), xs.end(), 0);
  auto fs = client.map(futures_suite::inc, xs);
  const auto got = tessera::gather(fs);
  REQUIRE(got.size() == xs.size());
  long total = std::accumulate(got.begin(), got.end(), 0L);
  CHECK(total == 10'000L * 10'001L / 2);
}

TEST_CASE_TEMPLATE("as_completed hands futures out in completion order", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto slow = client.submit(futures_suite::slow_identity, 1, 300);
  // Submitted once the slow one runs: the fast one goes in a later batch... or the same one;
  // either way it cannot complete later than the slow one on a free worker.
  auto fast = client.submit(futures_suite::slow_identity, 2, 0);
  std::vector<tessera::Future<int>> fs{slow, fast};
  tessera::AsCompleted<int> ac(fs);
  std::vector<int> order;
  while (auto f = ac.next()) order.push_back(f->result());
  REQUIRE(order.size() == 2);
  CHECK(std::is_permutation(order.begin(), order.end(), std::vector<int>{1, 2}.begin()));
  const auto all = tessera::as_completed(fs);
  CHECK(all.size() == 2);
}

TEST_CASE_TEMPLATE("a cancelled future reports cancellation and never yields a value", S,
                   TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto blocker = client.submit(futures_suite::slow_identity, 7, 200);
  auto f = client.submit(futures_suite::slow_identity, 8, 1);  // queued behind the first batch
  f.cancel();
  CHECK(f.status() == tessera::FutureStatus::cancelled);
  CHECK_THROWS_AS((void)f.result(), tessera::CancelledError);
  CHECK(blocker.result() == 7);
}

TEST_CASE_TEMPLATE("scattered data is reused by many tasks", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto data = client.scatter(std::vector<double>(1000, 0.5));
  CHECK(data.done());
  std::vector<tessera::Future<double>> fs;
  for (int w = 1; w <= 5; ++w) fs.push_back(client.submit(futures_suite::weighted_sum, data, double(w)));
  const auto got = tessera::gather(fs);
  for (int w = 1; w <= 5; ++w) CHECK(got[static_cast<std::size_t>(w - 1)] == doctest::Approx(500.0 * w));
}

TEST_CASE_TEMPLATE("errors surface at result with the key; other futures still finish", S,
                   TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto fs = client.map(futures_suite::fails_on_odd, std::vector<int>{0, 1, 2, 3});
  auto dependant = client.submit(futures_suite::inc, fs[1]);
  CHECK(fs[0].result() == 0);
  CHECK(fs[2].result() == 2);
  try {
    (void)fs[1].result();
    FAIL("expected a TaskError");
  } catch (const tessera::TaskError& e) {
    CHECK(e.key() == fs[1].key());
    CHECK(e.message() == "odd input 1");
    CHECK(e.type() == "std::domain_error");
  }
  CHECK(fs[3].status() == tessera::FutureStatus::error);
  CHECK_THROWS_AS((void)dependant.result(), tessera::TaskError);  // its input failed
}

TEST_CASE_TEMPLATE("retries run a flaky submission again", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  // Fails on its first call in each process, then succeeds: one retry is enough.
  auto flaky = [](int x) {
    static std::atomic<int> calls{0};
    if (calls.fetch_add(1) == 0) throw std::runtime_error("first call fails");
    return x * 3;
  };
  auto f = client.submit_with({.name = "flaky", .retries = 1}, flaky, 5);
  CHECK(f.result() == 15);
  auto g = client.submit_with({.name = "always", .retries = 2},
                              [](int) -> int { throw std::runtime_error("never works"); }, 1);
  CHECK_THROWS_WITH_AS((void)g.result(), doctest::Contains("never works"), tessera::TaskError);
}

TEST_CASE_TEMPLATE("futures mix with delayed graphs in both directions", S, TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  tessera::Client client(sched);
  auto f = client.submit(futures_suite::inc, 41);
  auto lazy = tessera::delayed(futures_suite::add)(f, 0);  // a future as a delayed argument
  CHECK(tessera::compute(lazy, sched) == 42);
  auto g = client.compute(tessera::delayed(futures_suite::inc)(lazy));  // a graph as a future
  CHECK(g.result() == 43);
  CHECK(tessera::compute(f.delayed(), sched) == 42);
}

TEST_CASE_TEMPLATE("wait returns when the first or all futures are done", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto a = client.submit(futures_suite::slow_identity, 1, 0);
  auto b = client.submit(futures_suite::slow_identity, 2, 50);
  auto all = tessera::wait(std::vector<tessera::Future<int>>{a, b});
  CHECK(all.done.size() == 2);
  CHECK(all.not_done.empty());
  auto c = client.submit(futures_suite::slow_identity, 3, 2000);
  auto quick = tessera::wait(std::vector<tessera::Future<int>>{c}, std::chrono::milliseconds(20));
  CHECK(quick.not_done.size() == 1);
  CHECK(c.result() == 3);
}
