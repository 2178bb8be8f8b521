#include <tessera/scheduling/scheduler.hpp>

#include <tessera/core/config.hpp>
#include <tessera/diagnostics/chrome_trace.hpp>
#include <tessera/scheduling/compute.hpp>
#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/threads.hpp>

#include <map>
#include <mutex>
#include <sstream>

namespace tessera {

namespace detail {
std::mutex& observers_mutex();
std::vector<std::shared_ptr<Observer>>& global_observers();
}  // namespace detail

void RunContext::run_start(std::size_t n, std::string_view scheduler) const {
  for (const auto& o : observers) o->on_run_start(n, scheduler);
}
void RunContext::task_done(const TaskEvent& e) const {
  for (const auto& o : observers) o->on_task_done(e);
}
void RunContext::transfer(std::string_view key, int from, int to, std::size_t bytes, double t_start,
                          double t_stop) const {
  for (const auto& o : observers) o->on_transfer(key, from, to, bytes, t_start, t_stop);
}
void RunContext::shuffle(const ShuffleTraffic& traffic) const {
  for (const auto& o : observers) o->on_shuffle(traffic);
}
void RunContext::run_end(bool ok) const {
  for (const auto& o : observers) o->on_run_end(ok);
}

std::vector<std::vector<std::uint32_t>> RunContext::outputs_by_node(const ExecGraph& g) const {
  std::vector<std::vector<std::uint32_t>> by_node;
  if (!on_output) return by_node;
  by_node.resize(g.size());
  for (std::size_t k = 0; k < g.outputs.size(); ++k) {
    by_node[g.outputs[k]].push_back(static_cast<std::uint32_t>(k));
  }
  return by_node;
}

void RunContext::output_done(const ExecGraph& g, const std::vector<std::vector<std::uint32_t>>& by_node,
                             std::uint32_t i, const Value& value, std::exception_ptr error) const {
  if (!on_output || by_node.empty() || by_node[i].empty()) return;
  const detail::NodePtr node = error ? nullptr : detail::value_node(*g.nodes[i], value);
  for (auto k : by_node[i]) on_output(k, node, error);
}

RunContext RunContext::with_defaults() {
  // Every computation, on every scheduler, starts from a valid configuration: a bad TESSERA_*
  // value is a ConfigError here, not silently ignored.
  const auto& config = detail::runtime_config();
  RunContext ctx;
  ctx.retries = config.task_retries;
  {
    std::lock_guard lock(detail::observers_mutex());
    ctx.observers = detail::global_observers();
  }
  for (auto& o : default_observers_from_env()) ctx.observers.push_back(std::move(o));
  return ctx;
}

namespace detail {
NodePtr value_node(const TaskNode& src, Value value) {
  auto node = std::make_shared<TaskNode>();
  node->key = src.key;
  node->hash = src.hash;
  node->name_length = src.name_length;
  node->value = std::move(value);
  return node;
}
}  // namespace detail

std::vector<detail::NodePtr> Scheduler::persist(const ExecGraph& graph, RunContext& ctx) {
  auto values = run(graph, ctx);
  std::vector<detail::NodePtr> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) {  // failed output (keep_going)
      out.emplace_back();
      continue;
    }
    out.push_back(detail::value_node(*graph.nodes[graph.outputs[i]], std::move(values[i])));
  }
  return out;
}

namespace {
struct Registry {
  std::mutex mutex;
  std::map<std::string, SchedulerFactory, std::less<>> factories;
  std::shared_ptr<Scheduler> default_scheduler;
  std::shared_ptr<Scheduler> env_scheduler;

  Registry() {
    auto sync = [](unsigned) -> std::shared_ptr<Scheduler> { return std::make_shared<SyncScheduler>(); };
    auto threads = [](unsigned n) -> std::shared_ptr<Scheduler> {
      return std::make_shared<ThreadScheduler>(ThreadScheduler::Options{n});
    };
    for (const char* n : {"sync", "synchronous", "single-threaded"}) factories[n] = sync;
    for (const char* n : {"threads", "threading", "threaded"}) factories[n] = threads;
  }
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void register_scheduler(std::string name, SchedulerFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[std::move(name)] = std::move(factory);
  r.env_scheduler.reset();
}

std::shared_ptr<Scheduler> make_scheduler(std::string_view name, unsigned threads) {
  auto& r = registry();
  SchedulerFactory f;
  {
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(name);
    if (it == r.factories.end()) {
      std::ostringstream known;
      for (const auto& [k, v] : r.factories) known << ' ' << k;
      TESSERA_THROW(ConfigError, "unknown scheduler '", name, "'; known:", known.str(),
                    (name == "mpi" || name == "distributed")
                        ? " (the MPI scheduler needs a running tessera::Runtime)"
                        : "");
    }
    f = it->second;
  }
  return f(threads);
}

void set_default_scheduler(std::shared_ptr<Scheduler> scheduler) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.default_scheduler = std::move(scheduler);
}

std::shared_ptr<Scheduler> default_scheduler() {
  auto& r = registry();
  {
    std::lock_guard lock(r.mutex);
    if (r.default_scheduler) return r.default_scheduler;
    if (r.env_scheduler) return r.env_scheduler;
  }
  (void)detail::runtime_config();  // every variable valid, misspellings warned about, once
  const auto config = detail::RuntimeConfig::from_environment();  // as set now
  auto s = make_scheduler(config.scheduler.value_or("threads"), config.num_threads);
  std::lock_guard lock(r.mutex);
  if (!r.env_scheduler) r.env_scheduler = std::move(s);
  return r.env_scheduler;
}

namespace detail {

Value run_task(const TaskNode& node, std::span<const Value> inputs, int rank) {
  try {
    return node.body->run(inputs);
  } catch (const TaskError&) {
    throw;  // a nested compute() inside the task failed: keep the innermost task's report
  } catch (const std::exception& e) {
    throw TaskError(node.key, rank, current_exception_type(), e.what());
  } catch (...) {
    throw TaskError(node.key, rank, current_exception_type(), "non-standard exception");
  }
}

Value known_result(const TaskNode& node) {
  if (!node.value.empty()) return node.value;
  if (node.ref) return node.ref->fetch();
  TESSERA_THROW(GraphError, "task '", node.key, "' has no known result");
}

std::vector<Value> compute_values(Scheduler& s, std::vector<NodePtr> roots) {
  return compute_values(s, std::move(roots), RunContext::with_defaults());
}

std::vector<Value> compute_values(Scheduler& s, std::vector<NodePtr> roots, RunContext ctx) {
  const ExecGraph g = ExecGraph::build(roots);
  return s.run(g, ctx);
}

std::vector<NodePtr> persist_nodes(Scheduler& s, std::vector<NodePtr> roots) {
  const ExecGraph g = ExecGraph::build(roots);
  RunContext ctx = RunContext::with_defaults();
  return s.persist(g, ctx);
}

}  // namespace detail
}  // namespace tessera
