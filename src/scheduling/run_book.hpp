#pragma once

// Private: the bookkeeping of one run of an ExecGraph that every backend shares, so that
// readiness, releases, retries, keep-going and cancellation behave the same on every scheduler
// by construction. The book decides; the backend acts on its decisions: where and when a ready
// task runs (inline, on a pool thread, on a worker rank) and how a result is stored or freed.
//
//   - readiness: each node counts its unfinished inputs; completed(i) reports the dependants
//     whose last input i was (priorities follow graph order, a topological order: backends
//     take ready tasks lowest index first where they queue them);
//   - release: each result counts its remaining readers (its dependants plus each output
//     request, ExecGraph::consumers); consume_inputs(i) reports the inputs i read last;
//   - retries: a failed try is tried again up to `retries` times, never after cancellation;
//   - failures: under keep_going a node's error is kept and its dependants inherit it without
//     running; otherwise the first failure cancels the run (tasks not yet started are
//     skipped) and end() throws it;
//   - observer events: start() and end() (run start and end, keep_going's output errors).
//
// Thread safety: distinct nodes may be reported concurrently (the thread pool does); one node's
// calls come from one thread at a time, in the order its life gives them.

#include <tessera/graph/exec_graph.hpp>
#include <tessera/scheduling/scheduler.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace tessera::detail {

class RunBook {
public:
  /// `retries`: how many more times a failed task is tried (ctx.retries, or the MPI runtime's).
  RunBook(const ExecGraph& graph, RunContext& ctx, int retries);
  RunBook(const RunBook&) = delete;
  RunBook& operator=(const RunBook&) = delete;

  /// Tells the observers the run starts (`to_run` tasks to run, on `scheduler`); returns the
  /// nodes with no inputs, in graph order.
  std::vector<std::uint32_t> start(std::size_t to_run, std::string_view scheduler);

  /// Node i is final (ran, failed under keep_going, was loaded or skipped, or was known):
  /// calls `ready(d)` for each dependant d whose last unfinished input it was.
  template <class OnReady>
  void completed(std::uint32_t i, OnReady&& ready) {
    m_done.fetch_add(1, std::memory_order_relaxed);
    for (auto d : m_graph.dependents_of(i)) {
      if (m_pending[d].fetch_sub(1, std::memory_order_acq_rel) == 1) ready(d);
    }
  }
  /// As completed(i, ready) appending to a vector.
  void completed(std::uint32_t i, std::vector<std::uint32_t>& ready) {
    completed(i, [&](std::uint32_t d) { ready.push_back(d); });
  }
  /// How many nodes are final.
  [[nodiscard]] std::size_t done() const noexcept { return m_done.load(std::memory_order_relaxed); }

  /// Node i finished reading its inputs (it ran, failed or was skipped): calls `release(j)` for
  /// each input j whose last reader it was (an input named twice counts twice, as in
  /// ExecGraph::consumers). An output's result is never released: its request reads it.
  template <class Release>
  void consume_inputs(std::uint32_t i, Release&& release) {
    for (auto j : m_graph.inputs_of(i)) {
      if (m_consumers[j].fetch_sub(1, std::memory_order_acq_rel) == 1) release(j);
    }
  }

  /// keep_going: the error of i's first failed input, which i then fails with, without running.
  /// Null when no input failed, and always without keep_going.
  [[nodiscard]] std::exception_ptr inherited_error(std::uint32_t i) const;

  /// A try of node i failed: counts it and returns whether to try again (fewer than `retries`
  /// extra tries so far, and the run is not cancelled).
  bool retry(std::uint32_t i);

  /// Node i failed for good with `error`. keep_going: the error is kept for i's dependants and
  /// outputs; returns true, and the caller goes on as for a finished node (consume_inputs,
  /// completed). Otherwise the run is cancelled (the first failure is the one end() throws);
  /// returns false.
  bool fail(std::uint32_t i, std::exception_ptr error);

  /// Cancels the run with a failure that is not one task's (a checkpoint seal, a full disk):
  /// it is what end() throws unless the run failed already.
  void cancel(std::exception_ptr error);

  /// Whether a failure cancelled the run.
  [[nodiscard]] bool cancelled() const noexcept { return m_cancelled.load(std::memory_order_acquire); }

  /// keep_going: node i's error, if it failed. Null otherwise.
  [[nodiscard]] std::exception_ptr error_of(std::uint32_t i) const {
    return m_errors.empty() ? nullptr : m_errors[i];
  }
  /// Whether graph.outputs[k] failed (keep_going only).
  [[nodiscard]] bool output_failed(std::size_t k) const { return error_of(m_graph.outputs[k]) != nullptr; }

  /// keep_going: the nodes' errors (moved out; for a backend that hands them on). Empty
  /// without keep_going.
  [[nodiscard]] std::vector<std::exception_ptr> take_errors() { return std::move(m_errors); }

  /// After every node is final or skipped: tells the observers the run ended and, under
  /// keep_going, sets ctx.output_errors. Returns whether every output succeeded.
  /// Throws: the failure that cancelled the run (a TaskError naming the task).
  bool end();

  [[nodiscard]] const ExecGraph& graph() const noexcept { return m_graph; }
  [[nodiscard]] RunContext& context() const noexcept { return m_ctx; }

private:
  const ExecGraph& m_graph;
  RunContext& m_ctx;
  const int m_retries;
  std::unique_ptr<std::atomic<std::uint32_t>[]> m_pending;    // unfinished inputs per node
  std::unique_ptr<std::atomic<std::uint32_t>[]> m_consumers;  // remaining readers per result
  std::vector<int> m_tries;                                   // failed tries per node
  std::vector<std::exception_ptr> m_errors;                   // per node, keep_going only
  std::atomic<std::size_t> m_done{0};
  std::atomic<bool> m_cancelled{false};
  std::mutex m_error_mutex;
  std::exception_ptr m_error;  // the failure that cancelled the run
};

}  // namespace tessera::detail
