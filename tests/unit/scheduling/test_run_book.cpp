// The run bookkeeping every backend shares (src/scheduling/run_book.hpp), driven by hand
// without a backend: readiness, release after the last reader, retries, keep-going's failure
// inheritance, cancellation by the first failure and the run's observer events. The behaviour
// suites check the same through each scheduler; these pin the decisions themselves.
#include <doctest/doctest.h>

#include "scheduling/run_book.hpp"

#include <tessera/core/error.hpp>
#include <tessera/diagnostics/observer.hpp>
#include <tessera/graph/delayed.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using tessera::ExecGraph;
using tessera::RunContext;
using tessera::detail::RunBook;

namespace {
int add(int a, int b) { return a + b; }
int twice(int a) { return 2 * a; }

/// x = twice(1), y = twice(2), s = add(x, y), t = add(s, x): outputs s and t.
struct Diamond {
  tessera::Delayed<int> x = tessera::delayed(twice)(1);
  tessera::Delayed<int> y = tessera::delayed(twice)(2);
  tessera::Delayed<int> s = tessera::delayed(add)(x, y);
  tessera::Delayed<int> t = tessera::delayed(add)(s, x);
  ExecGraph g;
  Diamond() {
    const std::vector<tessera::detail::NodePtr> outs{s.node(), t.node()};
    g = ExecGraph::build(outs);
  }
  [[nodiscard]] std::uint32_t index(const tessera::Delayed<int>& d) const {
    const auto it = std::find(g.nodes.begin(), g.nodes.end(), d.node().get());
    REQUIRE(it != g.nodes.end());
    return static_cast<std::uint32_t>(it - g.nodes.begin());
  }
};

/// Records the run's start and end as the observers see them.
struct RunEvents final : tessera::Observer {
  std::size_t started = 0;
  std::string scheduler;
  int ended_ok = -1;
  void on_run_start(std::size_t n, std::string_view s) override {
    started = n;
    scheduler = s;
  }
  void on_run_end(bool ok) override { ended_ok = ok ? 1 : 0; }
};

std::exception_ptr task_error(const std::string& key) {
  return std::make_exception_ptr(tessera::TaskError(key, 0, "std::runtime_error", "boom"));
}
}  // namespace

TEST_SUITE("scheduling.run_book") {

TEST_CASE("a node is ready when its last input completes, and the observers see the run") {
  Diamond d;
  RunContext ctx;
  auto events = std::make_shared<RunEvents>();
  ctx.observers.push_back(events);
  RunBook book(d.g, ctx, 0);
  auto roots = book.start(d.g.num_to_run(), "test");
  CHECK(events->started == 4);
  CHECK(events->scheduler == "test");
  std::sort(roots.begin(), roots.end());
  CHECK(roots == std::vector<std::uint32_t>{std::min(d.index(d.x), d.index(d.y)),
                                            std::max(d.index(d.x), d.index(d.y))});
  std::vector<std::uint32_t> ready;
  book.completed(d.index(d.x), ready);
  CHECK(ready.empty());  // s still waits for y, t for s
  book.completed(d.index(d.y), ready);
  CHECK(ready == std::vector<std::uint32_t>{d.index(d.s)});
  ready.clear();
  book.completed(d.index(d.s), ready);
  CHECK(ready == std::vector<std::uint32_t>{d.index(d.t)});
  book.completed(d.index(d.t), ready);
  CHECK(book.done() == 4);
  CHECK(book.end());
  CHECK(events->ended_ok == 1);
}

TEST_CASE("a result is released after its last reader, and a requested output never") {
  Diamond d;
  RunContext ctx;
  RunBook book(d.g, ctx, 0);
  std::vector<std::uint32_t> released;
  const auto release = [&](std::uint32_t j) { released.push_back(j); };
  book.consume_inputs(d.index(d.s), release);  // reads x and y
  CHECK(released == std::vector<std::uint32_t>{d.index(d.y)});  // x is read by t too
  released.clear();
  book.consume_inputs(d.index(d.t), release);  // reads s (an output) and x
  CHECK(released == std::vector<std::uint32_t>{d.index(d.x)});
}

TEST_CASE("a failed try is tried again up to the retries, never after cancellation") {
  Diamond d;
  RunContext ctx;
  RunBook book(d.g, ctx, 2);
  const auto x = d.index(d.x), y = d.index(d.y);
  CHECK(book.retry(x));
  CHECK(book.retry(x));
  CHECK_FALSE(book.retry(x));  // two retries used
  CHECK_FALSE(book.fail(x, task_error("twice-x")));  // not keep_going: cancels
  CHECK(book.cancelled());
  CHECK_FALSE(book.retry(y));  // y's first failure after the cancellation is not retried
}

TEST_CASE("without keep_going the first failure cancels the run and end() throws it") {
  Diamond d;
  RunContext ctx;
  auto events = std::make_shared<RunEvents>();
  ctx.observers.push_back(events);
  RunBook book(d.g, ctx, 0);
  (void)book.start(4, "test");
  CHECK_FALSE(book.fail(d.index(d.y), task_error("first")));
  CHECK_FALSE(book.fail(d.index(d.x), task_error("second")));
  book.cancel(std::make_exception_ptr(std::runtime_error("a seal failed")));
  CHECK(book.inherited_error(d.index(d.s)) == nullptr);  // nothing inherits without keep_going
  try {
    (void)book.end();
    FAIL("end() did not throw");
  } catch (const tessera::TaskError& e) {
    CHECK(e.key() == "first");
  }
  CHECK(events->ended_ok == 0);
}

TEST_CASE("a failure that is not a task's cancels the run when it is the first") {
  Diamond d;
  RunContext ctx;
  RunBook book(d.g, ctx, 0);
  book.cancel(std::make_exception_ptr(std::runtime_error("a seal failed")));
  CHECK(book.cancelled());
  CHECK_THROWS_WITH_AS((void)book.end(), "a seal failed", std::runtime_error);
}

TEST_CASE("under keep_going a failure passes to its dependants and outputs, the rest goes on") {
  Diamond d;
  RunContext ctx;
  ctx.keep_going = true;
  RunBook book(d.g, ctx, 0);
  const auto x = d.index(d.x), y = d.index(d.y), s = d.index(d.s), t = d.index(d.t);
  CHECK(book.fail(y, task_error("twice-y")));
  CHECK_FALSE(book.cancelled());
  CHECK(book.inherited_error(x) == nullptr);
  const auto inherited = book.inherited_error(s);
  REQUIRE(inherited != nullptr);
  CHECK(book.fail(s, inherited));
  CHECK(book.inherited_error(t) == inherited);  // t reads s (failed) and x (fine)
  CHECK(book.fail(t, book.inherited_error(t)));
  CHECK_FALSE(book.end());
  REQUIRE(ctx.output_errors.size() == 2);
  CHECK(ctx.output_errors[0] == inherited);
  CHECK(ctx.output_errors[1] == inherited);
  CHECK(book.output_failed(0));
  const auto errors = book.take_errors();
  CHECK(errors[x] == nullptr);
  CHECK(errors[y] == inherited);
}

TEST_CASE("nodes completed from several threads release each dependant exactly once") {
  // A wide fan-in: 64 leaves feed one sum; completing them from 4 threads readies it once.
  std::vector<tessera::Delayed<int>> leaves;
  for (int k = 0; k < 64; ++k) leaves.push_back(tessera::delayed(twice)(k));
  auto total = tessera::delayed([](std::vector<int> v) {
    int s = 0;
    for (int x : v) s += x;
    return s;
  })(leaves);
  const std::vector<tessera::detail::NodePtr> outs{total.node()};
  const auto g = ExecGraph::build(outs);
  RunContext ctx;
  RunBook book(g, ctx, 0);
  const auto roots = book.start(g.num_to_run(), "test");
  REQUIRE(roots.size() == 64);
  std::atomic<int> readied{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (std::size_t k = static_cast<std::size_t>(w); k < roots.size(); k += 4) {
        book.completed(roots[k], [&](std::uint32_t) { readied.fetch_add(1); });
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(readied.load() == 1);
  CHECK(book.done() == 64);
}

}  // TEST_SUITE
