#pragma once

// Scheduler behaviour, written once. Include this file in a test translation unit after
// defining a type list macro TESSERA_TEST_SCHEDULERS and a function template
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Every case compares with what the sync scheduler (the oracle) gives.

#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
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

// Attempts are counted as bytes appended to a file: on MPI a retry may run on another rank.
// Returns the number of attempts before this one.
inline std::uintmax_t log_attempt(const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log);
  const auto before = static_cast<std::uintmax_t>(::lseek(fd, 0, SEEK_END));
  const bool wrote = ::write(fd, "x", 1) == 1;
  ::close(fd);
  if (!wrote) throw std::runtime_error("cannot write " + log);
  return before;
}
inline int fails_first_time(const std::string& log) {
  if (log_attempt(log) == 0) throw std::runtime_error("first attempt fails");
  return 42;
}
inline int fails_every_time(const std::string& log) {
  (void)log_attempt(log);
  throw std::runtime_error("always");
}
inline std::uintmax_t attempts_in(const std::string& log) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(log, ec);
  return ec ? 0 : n;
}
inline std::string fresh_log(const std::string& what) {
  static int serial = 0;
  const auto p = std::filesystem::temp_directory_path() /
                 ("tessera-test-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
  std::filesystem::remove(p);
  return p.string();
}
/// TESSERA_TASK_RETRIES as the suite's binary was started with (ctest runs each suite binary
/// once without it and once with TESSERA_TASK_RETRIES=2).
inline int configured_retries() {
  const char* env = std::getenv("TESSERA_TASK_RETRIES");
  return env ? std::atoi(env) : 0;
}

struct Point {
  double x = 0, y = 0;
  std::string label;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& x& y& label;
  }
};

/// Counts runs and finished tasks by name while alive, on every scheduler (on MPI, rank 0
/// observes the workers' tasks).
class CountTasks {
public:
  struct Counts {
    std::mutex mutex;
    std::map<std::string, int, std::less<>> by_name;
    int runs = 0;
  };
  struct Hook final : tessera::Observer {
    std::shared_ptr<Counts> c = std::make_shared<Counts>();
    void on_run_start(std::size_t, std::string_view) override {
      std::lock_guard lock(c->mutex);
      ++c->runs;
    }
    void on_task_done(const tessera::TaskEvent& e) override {
      std::lock_guard lock(c->mutex);
      ++c->by_name[std::string(e.name)];
    }
  };
  CountTasks() : m_hook(std::make_shared<Hook>()) { tessera::add_global_observer(m_hook); }
  ~CountTasks() { tessera::remove_global_observer(m_hook); }
  CountTasks(const CountTasks&) = delete;
  CountTasks& operator=(const CountTasks&) = delete;
  int tasks(const std::string& name) const {
    std::lock_guard lock(m_hook->c->mutex);
    auto it = m_hook->c->by_name.find(name);
    return it == m_hook->c->by_name.end() ? 0 : it->second;
  }
  int runs() const {
    std::lock_guard lock(m_hook->c->mutex);
    return m_hook->c->runs;
  }

private:
  std::shared_ptr<Hook> m_hook;
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

TEST_CASE_TEMPLATE("the same value requested twice in one compute comes back twice", S,
                   TESSERA_TEST_SCHEDULERS) {
  // Under MPI the second request of one result used to wait forever for a second arrival.
  auto sched = make_test_scheduler<S>();
  auto x = tessera::delayed(behaviour::inc)(41);
  auto y = tessera::delayed(behaviour::inc)(x);
  CHECK(tessera::compute(std::vector<tessera::Delayed<int>>{x, y, x, x}, sched) ==
        std::vector<int>{42, 43, 42, 42});
  auto [a, b] = tessera::compute(y, y, sched);
  CHECK(a == 43);
  CHECK(b == 43);
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

TEST_CASE_TEMPLATE("retries run a failed task again, up to TESSERA_TASK_RETRIES times", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  const int retries = behaviour::configured_retries();
  const auto flaky_log = behaviour::fresh_log("flaky");
  const auto bad_log = behaviour::fresh_log("always");
  auto flaky = tessera::delayed(behaviour::fails_first_time, {.name = "fails_first_time"})(flaky_log);
  auto bad = tessera::delayed(behaviour::fails_every_time, {.name = "fails_every_time"})(bad_log);
  if (retries == 0) {
    // Not configured: a failure reaches compute at once, after one attempt.
    CHECK_THROWS_WITH_AS(tessera::compute(flaky, sched), doctest::Contains("fails_first_time-"),
                         tessera::TaskError);
    CHECK(behaviour::attempts_in(flaky_log) == 1);
  } else {
    CHECK(tessera::compute(flaky, sched) == 42);
    CHECK(behaviour::attempts_in(flaky_log) == 2);
    // A task that always fails is tried 1 + retries times, then its error reaches compute.
    CHECK_THROWS_WITH_AS(tessera::compute(bad, sched), doctest::Contains("always"), tessera::TaskError);
    CHECK(behaviour::attempts_in(bad_log) == static_cast<std::uintmax_t>(retries) + 1);
  }
  std::filesystem::remove(flaky_log);
  std::filesystem::remove(bad_log);
}

TEST_CASE_TEMPLATE("results far larger than the memory limit give the oracle's answers", S,
                   TESSERA_TEST_SCHEDULERS) {
  // 8 MiB of chunks, each read by two consumers far apart in the graph; ctest runs the suite
  // once more with TESSERA_MEMORY_LIMIT=1MiB, so that they must be spilled and read back.
  auto sched = make_test_scheduler<S>();
  const auto store = tessera::local_result_store();
  const auto spilled_before = store ? store->stats().bytes_spilled : 0;
  auto x = tessera::array::random::normal(11, 0.0, 1.0, {1024, 1024}, tessera::Shape{128, 128});
  auto both = (x + x.T()).sum();
  auto xp = tessera::persist(x, sched);
  tessera::SyncScheduler oracle;
  const double want = tessera::compute((x + x.T()).sum(), oracle).at<double>();
  CHECK(tessera::compute(both, sched).template at<double>() == want);
  CHECK(tessera::compute((xp + xp.T()).sum(), sched).template at<double>() == want);
  CHECK(tessera::compute(xp.mean(), sched).template at<double>() == tessera::compute(x.mean(), oracle).at<double>());
  if (std::getenv("TEST_EXPECT_LOCAL_SPILL") != nullptr) {
    // The local schedulers kept their results in the store and spilled most of the 8 MiB.
    REQUIRE(store != nullptr);
    CHECK(store->stats().bytes_spilled - spilled_before >= (std::uint64_t{4} << 20));
    CHECK(store->held_bytes() <= (std::uint64_t{1} << 20));
  }
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

TEST_CASE_TEMPLATE("compute and persist of several values run one graph: a shared generator runs once", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  const behaviour::CountTasks counted;
  // An impure generator (delayed's default) feeding two consumers.
  auto gen = tessera::delayed([](int n) { return std::vector<double>(static_cast<std::size_t>(n), 2.0); },
                              {.name = "generate"})(1000);
  auto total = tessera::delayed([](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); },
                                {.name = "total"})(gen);
  auto count = tessera::delayed([](const std::vector<double>& v) { return v.size(); }, {.name = "count"})(gen);
  std::vector<tessera::Delayed<int>> incs{tessera::delayed(behaviour::inc)(1), tessera::delayed(behaviour::inc)(2)};
  auto [t, c, v] = tessera::compute(total, count, incs, sched);
  CHECK(t == 2000.0);
  CHECK(c == 1000U);
  CHECK(v == std::vector<int>{2, 3});
  CHECK(counted.tasks("generate") == 1);
  CHECK(counted.runs() == 1);
  auto [tp, cp] = tessera::persist(total, count, sched);
  CHECK(counted.tasks("generate") == 2);  // once more for the persist, not once per output
  CHECK(counted.runs() == 2);
  CHECK(tessera::compute(tp, sched) == 2000.0);
  CHECK(tessera::compute(cp, sched) == 1000U);
  CHECK(counted.tasks("generate") == 2);  // persisted: not recomputed
}

TEST_CASE_TEMPLATE("Arrays and Delayed values computed together share their chunks", S,
                   TESSERA_TEST_SCHEDULERS) {
  auto sched = make_test_scheduler<S>();
  const behaviour::CountTasks counted;
  // x's four chunks come from an impure generator, so each is exactly one task per graph.
  auto chunk = tessera::delayed([](std::int64_t i) {
    return tessera::random_normal(7, 0.0, 1.0, {1000}, {250 * i}, {250});
  }, {.name = "generate"});
  std::vector<tessera::Delayed<tessera::NDArray>> blocks;
  for (std::int64_t i = 0; i < 4; ++i) blocks.push_back(chunk(i));
  const tessera::Array x({1000}, tessera::DType::float64, tessera::Chunks{{250, 250, 250, 250}}, blocks);
  auto first = tessera::delayed([](const tessera::NDArray& a) { return a.value_as_double(0); },
                                {.name = "first"})(blocks[0]);
  auto [m, sd, f] = tessera::compute(x.mean(), x.std(), first, sched);
  CHECK(counted.tasks("generate") == 4);
  CHECK(counted.runs() == 1);
  const tessera::NDArray all = tessera::random_normal(7, 0.0, 1.0, {1000}, {0}, {1000});
  CHECK(f == all.value_as_double(0));
  double mean = 0;
  for (std::int64_t i = 0; i < 1000; ++i) mean += all.value_as_double(i);
  mean /= 1000;
  CHECK(m.value_as_double(0) == doctest::Approx(mean));
  CHECK(sd.value_as_double(0) == doctest::Approx(1.0).epsilon(0.1));
  auto [xp, fp] = tessera::persist(x, first, sched);
  CHECK(counted.tasks("generate") == 8);
  CHECK(tessera::compute(xp.mean(), sched).value_as_double(0) == doctest::Approx(mean));
  CHECK(tessera::compute(fp, sched) == f);
  CHECK(counted.tasks("generate") == 8);
}
