#pragma once

/// @file
/// SyncScheduler: runs every task on the calling thread in a fixed topological order. Slow on
/// purpose and fully deterministic: the debugging scheduler and the oracle every other
/// scheduler is tested against. Stops at the first failing task.

#include <tessera/scheduling/scheduler.hpp>

namespace tessera {

class SyncScheduler final : public Scheduler {
public:
  [[nodiscard]] std::string name() const override { return "sync"; }
  /// Throws: TaskError for the first task that failed (after ctx.retries more attempts).
  std::vector<Value> run(const ExecGraph& graph, RunContext& ctx) override;
  /// Under TESSERA_MEMORY_LIMIT the results stay in local_result_store() (and may be spilled).
  std::vector<detail::NodePtr> persist(const ExecGraph& graph, RunContext& ctx) override;
};

}  // namespace tessera
