#pragma once

// Futures behaviour, written once; included by the threads test and the MPI test. Define
// TESSERA_TEST_SCHEDULERS and make_test_scheduler<Tag>() first (see behaviour_suite.hpp).

#include <tessera/futures/client.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
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
  const bool parallel = client.scheduler()->name() != "sync";
  // Submitted together; the longest first. The order in which a pool starts them is its own
  // business (a pool may start the 300 ms task before the 0 ms one), so the order handed out is
  // checked against the completion times the futures recorded, not against a guessed schedule.
  const std::vector<int> sleeps = parallel ? std::vector<int>{1500, 0, 300} : std::vector<int>{0, 300, 1500};
  std::vector<tessera::Future<int>> fs;
  for (int ms : sleeps) fs.push_back(client.submit(futures_suite::slow_identity, ms, ms));
  std::vector<int> order;
  for (auto f : tessera::as_completed(fs)) order.push_back(f.result());
  std::vector<std::size_t> by_completion{0, 1, 2};
  std::sort(by_completion.begin(), by_completion.end(),
            [&](std::size_t a, std::size_t b) { return fs[a].state()->completion < fs[b].state()->completion; });
  std::vector<int> expected;
  for (std::size_t i : by_completion) expected.push_back(sleeps[i]);
  CHECK(order == expected);
  // With two or more task slots the 1500 ms task, submitted first, finishes last: the order
  // handed out is not the submission order. (On MPI a burst may be split into batches; they
  // run side by side, as a pool's do.)
  CHECK(order.back() == 1500);
  if (!parallel) CHECK(order == std::vector<int>{0, 300, 1500});
  // AsCompleted::next gives the same order.
  tessera::AsCompleted<int> ac(fs);
  std::vector<int> again;
  while (auto f = ac.next()) again.push_back(f->result());
  CHECK(again == order);
}

TEST_CASE_TEMPLATE("as_completed streams and accepts futures added while iterating", S,
                   TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto ac = tessera::as_completed(std::vector<tessera::Future<int>>{client.submit(futures_suite::inc, 0)});
  std::vector<int> seen;
  for (auto f : ac) {
    const int v = f.result();
    seen.push_back(v);
    if (v < 5) ac.add(client.submit(futures_suite::inc, v));  // refine: one more per result
  }
  CHECK(seen == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(ac.empty());
}

TEST_CASE_TEMPLATE("a future resolves when its own task finishes, not when its batch does", S,
                   TESSERA_TEST_SCHEDULERS) {
  using Clock = std::chrono::steady_clock;
  tessera::Client client(make_test_scheduler<S>());
  const bool parallel = client.scheduler()->name() != "sync";
  const auto t0 = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  // One 2 s task and 100 tasks of 10 ms, submitted together.
  auto slow = client.submit(futures_suite::slow_identity, -1, 2000);
  std::vector<tessera::Future<int>> fast;
  for (int i = 0; i < 100; ++i) fast.push_back(client.submit(futures_suite::slow_identity, i, 10));
  std::vector<double> at;
  for (auto f : tessera::as_completed(fast)) at.push_back(since());
  slow.wait();
  const double slow_at = since();
  REQUIRE(at.size() == 100);
  MESSAGE(client.scheduler()->name(), ": first 10 ms future at ", at.front() * 1e3, " ms, last at ",
          at.back() * 1e3, " ms, the 2 s task at ", slow_at * 1e3, " ms");
  CHECK(slow_at >= 1.99);
  // They resolve one by one (100 x 10 ms of work: 0.17 s even on 6 threads), not all
  // together when everything submitted with them is done.
  CHECK(at.back() - at.front() > 0.1);
  CHECK(at.front() < slow_at);
  // Batches run side by side on every parallel scheduler (MPI included), so this holds even
  // if the submits were split over two batches.
  if (parallel) {
    CHECK(at.front() < 1.0);   // 10 ms of work (50 ms asked); a loaded sanitizer run can take more
    CHECK(at.back() < slow_at - 0.5);  // all before the 2 s task ends (about 1 s)
  }
}

TEST_CASE_TEMPLATE("exception() returns the error without throwing, done callbacks run once", S,
                   TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto ok = client.submit(futures_suite::fails_on_odd, 2);
  auto bad = client.submit(futures_suite::fails_on_odd, 3);
  CHECK(ok.exception() == nullptr);
  const auto e = bad.exception();
  REQUIRE(e != nullptr);
  try {
    std::rethrow_exception(e);
  } catch (const tessera::TaskError& err) {
    CHECK(err.key() == bad.key());
    CHECK(err.message() == "odd input 3");
  }
  // A callback added to a done future runs at once; one added before runs when it finishes.
  std::atomic<int> calls{0};
  ok.add_done_callback([&](const tessera::Future<int>& f) {
    CHECK(f.status() == tessera::FutureStatus::finished);
    ++calls;
  });
  CHECK(calls.load() == 1);
  std::mutex m;
  std::condition_variable cv;
  std::vector<int> got;
  auto later = client.submit(futures_suite::slow_identity, 9, 100);
  later.add_done_callback([&](tessera::Future<int> f) {
    std::lock_guard lock(m);
    got.push_back(f.result());
    cv.notify_all();
  });
  {
    std::unique_lock lock(m);
    CHECK(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !got.empty(); }));
  }
  CHECK(got == std::vector<int>{9});
  auto cancelled = client.submit(futures_suite::slow_identity, 1, 1);
  cancelled.cancel();
  CHECK_THROWS_AS(std::rethrow_exception(cancelled.exception()), tessera::CancelledError);
}

TEST_CASE_TEMPLATE("wait with first_exception returns at the first failure", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  const bool parallel = client.scheduler()->name() != "sync";
  auto slow = client.submit(futures_suite::slow_identity, 0, parallel ? 3000 : 0);
  auto bad = client.submit(futures_suite::fails_on_odd, 1);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = tessera::wait(std::vector<tessera::Future<int>>{slow, bad}, tessera::ReturnWhen::first_exception);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(std::find(r.done.begin(), r.done.end(), 1U) != r.done.end());
  if (parallel) {
    CHECK(r.not_done == std::vector<std::size_t>{0});
    CHECK(waited < 2.0);
  }
  // Without failures it waits for all.
  auto a = client.submit(futures_suite::slow_identity, 1, 50);
  auto all = tessera::wait(std::vector<tessera::Future<int>>{a}, tessera::ReturnWhen::first_exception);
  CHECK(all.not_done.empty());
}

TEST_CASE_TEMPLATE("a std::vector of futures is a task argument", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto parts = client.map(futures_suite::inc, std::vector<int>{1, 2, 3, 4});
  auto total = client.submit([](const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); },
                             parts);
  CHECK(total.result() == 14);
  auto lazy = tessera::delayed([](const std::vector<int>& v) { return static_cast<int>(v.size()); })(parts);
  CHECK(tessera::compute(lazy, client.scheduler()) == 4);
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

TEST_CASE_TEMPLATE("broadcast data is reused by many tasks", S, TESSERA_TEST_SCHEDULERS) {
  tessera::Client client(make_test_scheduler<S>());
  auto data = client.scatter(std::vector<double>(1000, 0.25), {.broadcast = true});
  CHECK(data.done());
  std::vector<tessera::Future<double>> fs;
  for (int w = 1; w <= 8; ++w) fs.push_back(client.submit(futures_suite::weighted_sum, data, double(w)));
  const auto got = tessera::gather(fs);
  for (int w = 1; w <= 8; ++w) CHECK(got[static_cast<std::size_t>(w - 1)] == doctest::Approx(250.0 * w));
}

TEST_CASE_TEMPLATE("errors surface at result with the key, other futures still finish", S,
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
  fs[3].wait();  // futures resolve one by one: fs[3] may still be running
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
