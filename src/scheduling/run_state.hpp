#pragma once

// Private: one run of an ExecGraph in this process, for the local backends. The decisions
// (readiness, release after the last consumer, retries, keep_going, cancellation, observer
// events) are the RunBook's, which the MPI backend shares (run_book.hpp); a RunState adds what a
// local run does with them: it runs a task's body, stores and frees results, loads and records
// checkpoints. A backend only decides where and when a ready task runs: the sync scheduler runs
// them inline in graph order, the thread pool on its workers.
//
// Results live in a vector, or, when the process has a memory limit (TESSERA_MEMORY_LIMIT), in
// the process's ResultStore, which spills them to HDF5 under the limit and reads them back.

#include "scheduling/resume_plan.hpp"
#include "scheduling/run_book.hpp"
#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/scheduling/local_store.hpp>
#include <tessera/scheduling/scheduler.hpp>
#include <tessera/storage/result_store.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>
#include <vector>

namespace tessera::detail {

class RunState {
public:
  /// `store` may be null: results are then kept in this run's vector.
  RunState(const ExecGraph& graph, RunContext& ctx, std::shared_ptr<ResultStore> store);
  /// Drops every result of this run from the store, except persisted outputs.
  ~RunState();
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  /// Tells the observers the run starts; returns the tasks ready now, in graph order.
  std::vector<std::uint32_t> start(std::string_view scheduler);

  /// Runs task `i` on the calling thread (`thread` names it for observers): its known result,
  /// an inherited failure (keep_going), or its body, tried again up to ctx.retries times. Frees
  /// inputs after their last consumer and appends the dependants that became ready to `ready`.
  /// Never throws: without keep_going the first failure cancels the run (the tasks not yet
  /// started are skipped) and finish() throws it.
  /// Thread safety: distinct tasks may run concurrently.
  void execute(std::uint32_t i, int thread, std::vector<std::uint32_t>& ready);

  /// Whether a failure cancelled the run.
  [[nodiscard]] bool cancelled() const noexcept { return m_book.cancelled(); }

  /// After every task ran or was skipped: tells the observers the run ended and returns the
  /// requested outputs (failed ones empty, errors in ctx.output_errors under keep_going).
  /// Throws: the first failure (a TaskError naming the task) when the run was cancelled.
  std::vector<Value> finish();
  /// As finish(), but returns nodes that keep the outputs (in the store, if there is one, where
  /// they may be spilled; the node's result reference reads them back).
  std::vector<NodePtr> finish_persist();

private:
  void put(std::uint32_t i, Value v);
  [[nodiscard]] Value get(std::uint32_t i);
  /// Node i read its inputs: frees each one i was the last reader of.
  void consume_inputs(std::uint32_t i);
  [[nodiscard]] ResultStore::Id id_of(std::uint32_t i) const noexcept { return m_base + i; }
  /// Runs task i's body, tried again as the book says; false when its failure cancelled the run.
  bool run_body(std::uint32_t i, int thread);
  /// Tells the observers the run ended and fills ctx.output_errors; rethrows the first failure.
  bool end_run();

  /// Loads task `i`'s checkpointed result instead of running it.
  void load(std::uint32_t i);
  /// Node i's result is known before the run: reports it if requested, keeps it if no store.
  void known(std::uint32_t i);

  const ExecGraph& m_graph;
  RunContext& m_ctx;
  std::shared_ptr<ResultStore> m_store;
  ResumePlan m_plan;  // TESSERA_CHECKPOINT: what to load, skip and record
  ResultStore::Id m_base = 0;  // this run's ids in the store: m_base + node index
  RunBook m_book;
  std::vector<Value> m_values;  // without a store
  std::vector<std::vector<std::uint32_t>> m_outputs_by_node;
  bool m_persisted = false;
  bool m_shuffles = false;                // shuffles existed when the run started
  ShuffleService::Stats m_shuffle_before;  // the in-process service's stats then
};

}  // namespace tessera::detail
