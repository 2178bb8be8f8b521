#pragma once

// Scheduler behaviour, written once. Include this file in a test translation unit after
// defining a type list macro TESSERA_TEST_SCHEDULERS and a function template
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Every case compares with what the sync scheduler (the oracle) gives.

#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/random_dag.hpp"

namespace behaviour {

inline int inc(int x) { return x + 1; }
inline int add(int a, int b) { return a + b; }
inline int fail_on_three(int x) {
  if (x == 3) throw std::invalid_argument("three is not allowed");
  return x;
}
inline long sum_all(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0L); }

struct Point {
  double x = 0, y = 0;
  std::string label;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& x& y& label;
  }
};

}  // namespace behaviour

TEST_CASE_TEMPLATE("the lesson's diamond gives 5", S, TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  auto x = tessera::delayed(behaviour::inc)(1);
  auto y = tessera::delayed(behaviour::inc)(2);
  auto z = tessera::delayed(behaviour::add)(x, y);
  CHECK(tessera::compute(z, sched) == 5);
}

TEST_CASE_TEMPLATE("a delayed loop and a delayed sum over a list give 44", S, TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  std::vector<tessera::Delayed<int>> out;
  for (int i = 1; i <= 8; ++i) out.push_back(tessera::delayed(behaviour::inc)(i));
  auto total = tessera::delayed(behaviour::sum_all)(out);
  CHECK(tessera::compute(total, sched) == 44);
  CHECK(tessera::compute(out, sched) == std::vector<int>{2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE_TEMPLATE("several outputs computed together share their common work", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  auto x = tessera::delayed(behaviour::inc)(10);
  auto a = tessera::delayed(behaviour::add)(x, x);
  auto b = tessera::delayed([](int v) { return v * 3; }, {.name = "triple"})(x);
  auto [ra, rb] = tessera::compute(a, b, sched);
  CHECK(ra == 22);
  CHECK(rb == 33);
}

TEST_CASE_TEMPLATE("lambdas with captures and user-defined serializable types work", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  const double scale = 2.5;
  auto make = tessera::delayed([scale](double v) {
    return behaviour::Point{v * scale, -v, "p" + std::to_string(static_cast<int>(v))};
  }, {.name = "make_point"});
  auto norm1 = tessera::delayed([](const behaviour::Point& p) { return p.x - p.y; }, {.name = "norm1"});
  std::vector<tessera::Delayed<double>> norms;
  for (int i = 0; i < 6; ++i) norms.push_back(norm1(make(static_cast<double>(i))));
  auto labels = tessera::delayed([](const std::vector<behaviour::Point>& ps) {
    std::string s;
    for (const auto& p : ps) s += p.label;
    return s;
  }, {.name = "labels"})(std::vector<tessera::Delayed<behaviour::Point>>{make(1.0), make(2.0)});
  const auto got = tessera::compute(norms, sched);
  for (int i = 0; i < 6; ++i) CHECK(got[static_cast<std::size_t>(i)] == doctest::Approx(3.5 * i));
  CHECK(tessera::compute(labels, sched) == "p1p2");
}

TEST_CASE_TEMPLATE("an exception in a task reaches compute with the task's key and message", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  std::vector<tessera::Delayed<int>> parts;
  for (int i = 0; i < 6; ++i) parts.push_back(tessera::delayed(behaviour::fail_on_three)(i));
  auto total = tessera::delayed(behaviour::sum_all)(parts);
  const std::string bad_key = parts[3].key();
  try {
    (void)tessera::compute(total, sched);
    FAIL("compute should have thrown");
  } catch (const tessera::TaskError& e) {
    CHECK(e.key() == bad_key);
    CHECK(e.message() == "three is not allowed");
    CHECK(e.type() == "std::invalid_argument");
    CHECK(std::string(e.what()).find(bad_key) != std::string::npos);
  }
  // The scheduler stays usable after a failure.
  CHECK(tessera::compute(parts[4], sched) == 4);
}

TEST_CASE_TEMPLATE("random DAGs give the sync scheduler's results", S, TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  tessera::SyncScheduler oracle;
  for (std::uint32_t seed : {1u, 7u, 42u}) {
    auto outs = tessera::testing::random_dag(seed, 3000, 4, 25);
    const auto want = tessera::compute(outs, oracle);
    const auto got = tessera::compute(outs, sched);
    CHECK(got == want);
  }
}

TEST_CASE_TEMPLATE("persisted results are reused instead of recomputed", S, TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  auto x = tessera::delayed([](int v) { return v * v; }, {.name = "square"})(7);
  auto xp = tessera::persist(x, sched);
  CHECK(xp.key() == x.key());
  auto y = tessera::delayed(behaviour::add)(xp, xp);
  CHECK(tessera::compute(y, sched) == 98);
  CHECK(tessera::compute(xp, sched) == 49);
}

TEST_CASE_TEMPLATE("literal values and plain arguments mix with delayed ones", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  auto v = tessera::literal(std::vector<double>{1.5, 2.5, 3.0}, "data");
  auto s = tessera::delayed([](const std::vector<double>& xs, double w) {
    double t = 0;
    for (double x : xs) t += x * w;
    return t;
  }, {.name = "weighted"})(v, 2.0);
  CHECK(tessera::compute(s, sched) == doctest::Approx(14.0));
}
