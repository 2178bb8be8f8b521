#include "scheduling/run_state.hpp"

#include <tessera/core/buffer_pool.hpp>
#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/storage/checkpoint.hpp>
#include <tessera/storage/process_memory.hpp>
#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <unordered_map>

namespace tessera {

namespace {
/// A persisted output of a local run, kept in the process's store (possibly spilled); the
/// store forgets it when the last node referring to it is gone.
class StoredResult final : public detail::ResultRef {
public:
  StoredResult(std::shared_ptr<ResultStore> store, ResultStore::Id id, std::string key)
      : m_store(std::move(store)), m_id(id), m_key(std::move(key)) {}
  ~StoredResult() override { m_store->erase(m_id); }
  StoredResult(const StoredResult&) = delete;
  StoredResult& operator=(const StoredResult&) = delete;

  [[nodiscard]] Value fetch() const override {
    Value v = m_store->get(m_id);
    if (v.empty()) TESSERA_THROW(GraphError, "the persisted result of '", m_key, "' is no longer stored");
    return v;
  }
  [[nodiscard]] const void* owner() const noexcept override { return m_store.get(); }

private:
  std::shared_ptr<ResultStore> m_store;
  ResultStore::Id m_id;
  std::string m_key;
};

std::atomic<ResultStore::Id> g_next_run{1};
}  // namespace

std::shared_ptr<ResultStore> local_result_store() {
  static std::mutex mutex;
  static bool resolved = false;
  static std::shared_ptr<ResultStore> store;
  std::lock_guard lock(mutex);
  if (resolved) return store;
  avoid_fastbin_consolidation();  // once per process, before the first local run
  const auto& config = detail::runtime_config();
  if (config.memory_limit) {
    ResultStore::Options o;
    o.limit = resolve_memory_limit(config.memory_limit, 1).bytes;
    o.thresholds = MemoryThresholds::from_env();
    store = std::make_shared<ResultStore>(o);
    // As on an MPI worker: recycled buffers keep to a fraction of the limit, and freed chunks
    // leave the resident set at once (bench/README.md: memory).
    BufferPool::instance().bound_by_memory_limit(o.limit);
    bound_allocator_retention();
    // The tasks' working memory (shuffle pieces, assembled partitions) counts against it too
    // (the store lives as long as the process).
    set_working_memory_store(store.get());
  }
  resolved = true;
  return store;
}

namespace detail {

RunState::RunState(const ExecGraph& graph, RunContext& ctx, std::shared_ptr<ResultStore> store)
    : m_graph(graph), m_ctx(ctx), m_store(std::move(store)), m_plan(graph, process_checkpoint()),
      m_book(graph, ctx, ctx.retries) {
  m_base = g_next_run.fetch_add(1) << 32;
  if (!m_store) m_values.resize(graph.size());
  m_outputs_by_node = ctx.outputs_by_node(graph);
  // Shuffles are built before their runs: with none in this process, nothing to report.
  m_shuffles = shuffles_built() > 0;
  if (m_shuffles) m_shuffle_before = local_shuffle_service().stats();
}

RunState::~RunState() {
  end_shuffle_run(m_base);  // pieces of shuffles whose unpack did not run (failed, culled)
  if (!m_store) return;
  std::vector<ResultStore::Id> ids;
  std::vector<bool> kept(m_graph.size(), false);
  if (m_persisted) {
    for (auto o : m_graph.outputs) kept[o] = true;
  }
  for (std::uint32_t i = 0; i < m_graph.size(); ++i) {
    if (!kept[i]) ids.push_back(id_of(i));
  }
  m_store->erase(ids);
}

std::vector<std::uint32_t> RunState::start(std::string_view scheduler) {
  return m_book.start(m_graph.num_to_run(), scheduler);
}

void RunState::put(std::uint32_t i, Value v) {
  if (m_store) {
    m_store->put(id_of(i), std::move(v));
  } else {
    m_values[i] = std::move(v);
  }
}

Value RunState::get(std::uint32_t i) {
  if (!m_store) return m_values[i];
  const auto& node = *m_graph.nodes[i];
  return node.is_computed() ? known_result(node) : m_store->get(id_of(i));
}

void RunState::consume_inputs(std::uint32_t i) {
  m_book.consume_inputs(i, [this](std::uint32_t j) {
    if (m_store) {
      m_store->erase(id_of(j));
    } else {
      m_values[j] = Value{};
    }
  });
}

void RunState::load(std::uint32_t i) {
  Value v = m_plan.load(m_graph, i);
  consume_inputs(i);
  m_ctx.output_done(m_graph, m_outputs_by_node, i, v, nullptr);
  put(i, std::move(v));
}

void RunState::known(std::uint32_t i) {
  // With a store, a known result is read from its node on each use (a persisted result may be
  // spilled): it is neither copied nor counted twice.
  const bool reported = !m_outputs_by_node.empty() && !m_outputs_by_node[i].empty();
  if (m_store && !reported) return;
  Value v = known_result(*m_graph.nodes[i]);
  m_ctx.output_done(m_graph, m_outputs_by_node, i, v, nullptr);
  if (!m_store) put(i, std::move(v));
}

void RunState::execute(std::uint32_t i, int thread, std::vector<std::uint32_t>& ready) {
  if (cancelled()) return;
  try {
    const auto action = m_plan.action(i);
    if (action == ResumePlan::Action::load) {
      load(i);
    } else if (action == ResumePlan::Action::skip) {
      consume_inputs(i);  // nothing that runs needs it
    } else if (m_graph.nodes[i]->is_computed()) {
      known(i);
    } else if (auto inherited = m_book.inherited_error(i)) {
      (void)m_book.fail(i, inherited);  // an input failed (keep_going): fail without running
      consume_inputs(i);
      m_ctx.output_done(m_graph, m_outputs_by_node, i, Value{}, inherited);
    } else if (!run_body(i, thread)) {
      return;  // the run is cancelled
    }
  } catch (...) {
    m_book.cancel(std::current_exception());
    return;
  }
  m_book.completed(i, ready);
}

bool RunState::run_body(std::uint32_t i, int thread) {
  const auto& node = *m_graph.nodes[i];
  // Not thread_local scratch: a task may call compute(), which runs inline on this thread.
  std::vector<Value> inputs;
  std::vector<ResultStore::Id> pinned;
  inputs.reserve(m_graph.inputs_of(i).size());
  for (auto j : m_graph.inputs_of(i)) inputs.push_back(get(j));
  if (m_store) {
    // Inputs in use are not worth spilling: their memory stays alive in `inputs` anyway.
    for (auto j : m_graph.inputs_of(i)) pinned.push_back(id_of(j));
    std::sort(pinned.begin(), pinned.end());
    pinned.erase(std::unique(pinned.begin(), pinned.end()), pinned.end());
    m_store->pin(pinned);
  }
  struct Unpin {
    RunState& run;
    std::vector<Value>& inputs;
    std::vector<ResultStore::Id>& pinned;
    ~Unpin() {
      inputs.clear();
      if (run.m_store && !pinned.empty()) run.m_store->unpin(pinned);
    }
  } unpin{*this, inputs, pinned};

  Value result;
  std::exception_ptr error;
  const ShuffleRunScope shuffle_scope(m_base);
  do {
    const bool observed = m_ctx.observed();
    const double t0 = observed ? m_ctx.seconds_since_start() : 0.0;
    try {
      result = run_task(node, inputs, 0);
      error = nullptr;
    } catch (...) {
      error = std::current_exception();
    }
    if (observed) {
      m_ctx.task_done(TaskEvent{node.key, node.name(), 0, thread, t0, m_ctx.seconds_since_start(), 0,
                                result.nbytes(), error != nullptr});
    }
  } while (error && m_book.retry(i));
  if (error && !m_book.fail(i, error)) return false;  // cancels the run: finish() throws it
  inputs.clear();  // release the inputs' memory before the result is stored
  consume_inputs(i);
  m_ctx.output_done(m_graph, m_outputs_by_node, i, result, error);
  if (error) return true;  // keep_going: its dependants inherit the error
  if (m_plan.active()) m_plan.record(m_graph, i, result);
  try {
    put(i, std::move(result));
  } catch (const std::exception& e) {
    // Spilling failed (full disk): the task that needed the room fails, named.
    throw TaskError(node.key, 0, current_exception_type(), e.what());
  }
  return true;
}

bool RunState::end_run() {
  if (m_shuffles) {
    const auto t = shuffle_traffic(0, m_shuffle_before, local_shuffle_service().stats());
    if (t.pieces_stored + t.bytes_read_back > 0) m_ctx.shuffle(t);
  }
  try {
    m_plan.finish();  // seals what was computed, even when the run failed
  } catch (...) {
    m_book.cancel(std::current_exception());  // the run's own failure, if any, stays the one thrown
  }
  return m_book.end();
}

std::vector<Value> RunState::finish() {
  (void)end_run();
  std::vector<Value> out;
  out.reserve(m_graph.outputs.size());
  for (std::size_t k = 0; k < m_graph.outputs.size(); ++k) {
    if (m_book.output_failed(k)) out.emplace_back();
    else out.push_back(get(m_graph.outputs[k]));
  }
  return out;
}

std::vector<NodePtr> RunState::finish_persist() {
  (void)end_run();
  std::vector<NodePtr> out;
  out.reserve(m_graph.outputs.size());
  if (!m_store) {
    for (std::size_t k = 0; k < m_graph.outputs.size(); ++k) {
      if (m_book.output_failed(k)) out.emplace_back();  // failed output (keep_going)
      else out.push_back(value_node(*m_graph.nodes[m_graph.outputs[k]], get(m_graph.outputs[k])));
    }
    return out;
  }
  // The outputs stay in the store, where they may be spilled (reading them here would bring
  // them all back into memory); an output requested twice shares one reference.
  m_persisted = true;
  std::unordered_map<std::uint32_t, std::shared_ptr<const ResultRef>> refs;
  for (std::size_t k = 0; k < m_graph.outputs.size(); ++k) {
    const auto o = m_graph.outputs[k];
    if (m_book.output_failed(k)) {
      out.emplace_back();
      continue;
    }
    const auto& src = *m_graph.nodes[o];
    auto node = std::make_shared<TaskNode>();
    node->key = src.key;
    node->hash = src.hash;
    node->name_length = src.name_length;
    if (src.is_computed()) {  // already known (a literal, or persisted before): as it is
      node->value = src.value;
      node->ref = src.ref;
    } else {
      auto& ref = refs[o];
      if (!ref) ref = std::make_shared<StoredResult>(m_store, id_of(o), src.key);
      node->ref = ref;
    }
    out.push_back(std::move(node));
  }
  return out;
}

}  // namespace detail
}  // namespace tessera
