#include <tessera/scheduling/sync.hpp>

#include <tessera/scheduling/task_context.hpp>

#include "scheduling/run_state.hpp"

namespace tessera {

namespace {
/// Runs every task in graph order on this thread (a topological order: inputs come first).
void run_in_order(Scheduler* self, detail::RunState& run, std::size_t n) {
  const detail::CurrentSchedulerScope scope(self);  // what get_client() inside a task finds
  std::vector<std::uint32_t> ready;  // unused: graph order already respects the dependencies
  (void)run.start("sync");
  for (std::uint32_t i = 0; i < n && !run.cancelled(); ++i) {
    ready.clear();
    run.execute(i, 0, ready);
  }
}
}  // namespace

std::vector<Value> SyncScheduler::run(const ExecGraph& g, RunContext& ctx) {
  detail::RunState run(g, ctx, local_result_store());
  run_in_order(this, run, g.size());
  return run.finish();
}

std::vector<detail::NodePtr> SyncScheduler::persist(const ExecGraph& g, RunContext& ctx) {
  detail::RunState run(g, ctx, local_result_store());
  run_in_order(this, run, g.size());
  return run.finish_persist();
}

}  // namespace tessera
