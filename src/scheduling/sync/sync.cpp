#include <tessera/scheduling/sync.hpp>

namespace tessera {

std::vector<Value> SyncScheduler::run(const ExecGraph& g, RunContext& ctx) {
  const auto n = static_cast<std::uint32_t>(g.size());
  std::vector<Value> values(n);
  std::vector<std::exception_ptr> errors(ctx.keep_going ? n : 0);
  std::vector<std::uint32_t> consumers = g.consumers;
  std::vector<Value> inputs;
  const auto by_node = ctx.outputs_by_node(g);
  ctx.run_start(g.num_to_run(), name());
  bool any_failed = false;
  try {
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto& node = *g.nodes[i];
      if (node.is_computed()) {
        values[i] = detail::known_result(node);
        ctx.output_done(g, by_node, i, values[i], nullptr);
        continue;
      }
      if (ctx.keep_going) {
        // A task whose input failed fails with that input's error, without running.
        for (auto j : g.inputs_of(i)) {
          if (errors[j]) {
            errors[i] = errors[j];
            break;
          }
        }
        if (errors[i]) {
          ctx.output_done(g, by_node, i, Value{}, errors[i]);
          continue;
        }
      }
      inputs.clear();
      for (auto j : g.inputs_of(i)) inputs.push_back(values[j]);
      const double t0 = ctx.observed() ? ctx.seconds_since_start() : 0.0;
      bool failed = false;
      if (ctx.keep_going) {
        try {
          values[i] = detail::run_task(node, inputs, 0);
        } catch (...) {
          errors[i] = std::current_exception();
          failed = any_failed = true;
        }
      } else {
        values[i] = detail::run_task(node, inputs, 0);
      }
      inputs.clear();
      // Free intermediate results as soon as their last consumer ran.
      for (auto j : g.inputs_of(i)) {
        if (--consumers[j] == 0) values[j] = Value{};
      }
      if (ctx.observed()) {
        ctx.task_done(TaskEvent{node.key, node.name(), 0, 0, t0, ctx.seconds_since_start(), 0,
                                values[i].nbytes(), failed});
      }
      ctx.output_done(g, by_node, i, values[i], failed ? errors[i] : nullptr);
    }
  } catch (...) {
    ctx.run_end(false);
    throw;
  }
  ctx.run_end(!any_failed);
  std::vector<Value> out;
  out.reserve(g.outputs.size());
  if (ctx.keep_going) ctx.output_errors.assign(g.outputs.size(), nullptr);
  for (std::size_t k = 0; k < g.outputs.size(); ++k) {
    const auto o = g.outputs[k];
    out.push_back(values[o]);
    if (ctx.keep_going) ctx.output_errors[k] = errors[o];
  }
  return out;
}

}  // namespace tessera
