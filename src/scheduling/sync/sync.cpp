#include <tessera/scheduling/sync.hpp>

namespace tessera {

std::vector<Value> SyncScheduler::run(const ExecGraph& g, RunContext& ctx) {
  const auto n = static_cast<std::uint32_t>(g.size());
  std::vector<Value> values(n);
  std::vector<std::uint32_t> consumers = g.consumers;
  std::vector<Value> inputs;
  ctx.run_start(g.num_to_run(), name());
  try {
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto& node = *g.nodes[i];
      if (node.is_computed()) {
        values[i] = detail::known_result(node);
        continue;
      }
      inputs.clear();
      for (auto j : g.inputs_of(i)) inputs.push_back(values[j]);
      const double t0 = ctx.observed() ? ctx.seconds_since_start() : 0.0;
      values[i] = detail::run_task(node, inputs, 0);
      inputs.clear();
      // Free intermediate results as soon as their last consumer ran.
      for (auto j : g.inputs_of(i)) {
        if (--consumers[j] == 0) values[j] = Value{};
      }
      if (ctx.observed()) {
        ctx.task_done(TaskEvent{node.key, node.name(), 0, 0, t0, ctx.seconds_since_start(), 0,
                                values[i].nbytes(), false});
      }
    }
  } catch (...) {
    ctx.run_end(false);
    throw;
  }
  ctx.run_end(true);
  std::vector<Value> out;
  out.reserve(g.outputs.size());
  for (auto o : g.outputs) out.push_back(values[o]);
  return out;
}

}  // namespace tessera
