#include <tessera/scheduling/threads.hpp>

#include <tessera/core/config.hpp>
#include <tessera/scheduling/sync.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

namespace {
thread_local bool t_on_worker = false;
thread_local unsigned t_worker_id = 0;

/// The state of one compute(): dependency counters, results, and the first failure.
struct GraphRun {
  const ExecGraph* graph = nullptr;
  RunContext* ctx = nullptr;
  std::unique_ptr<std::atomic<std::uint32_t>[]> pending;    // unfinished inputs per node
  std::unique_ptr<std::atomic<std::uint32_t>[]> consumers;  // remaining readers per result
  std::vector<Value> values;
  std::vector<std::exception_ptr> errors;  // per node, keep_going only
  std::vector<std::vector<std::uint32_t>> outputs_by_node;  // for ctx->on_output
  std::atomic<std::int64_t> in_flight{0};  // queued or running tasks
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  std::atomic<bool> done{false};
};
}  // namespace

class ThreadScheduler::Pool {
public:
  explicit Pool(unsigned n) : m_size(n), m_queues(n) {
    m_threads.reserve(n);
    for (unsigned i = 0; i < n; ++i) m_threads.emplace_back([this, i] { worker(i); });
  }

  ~Pool() {
    m_stop.store(true);
    m_signal.fetch_add(1);
    m_signal.notify_all();
    for (auto& t : m_threads) t.join();
  }

  [[nodiscard]] unsigned size() const noexcept { return m_size; }

  std::vector<Value> run(const ExecGraph& g, RunContext& ctx) {
    // Several runs may share the pool at once (each queued task knows its run).
    const auto n = static_cast<std::uint32_t>(g.size());
    GraphRun run;
    run.graph = &g;
    run.ctx = &ctx;
    run.pending = std::make_unique<std::atomic<std::uint32_t>[]>(n);
    run.consumers = std::make_unique<std::atomic<std::uint32_t>[]>(n);
    run.values.resize(n);
    if (ctx.keep_going) run.errors.resize(n);
    run.outputs_by_node = ctx.outputs_by_node(g);
    std::vector<std::uint32_t> ready;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::uint32_t>(g.inputs_of(i).size());
      run.pending[i].store(k, std::memory_order_relaxed);
      run.consumers[i].store(g.consumers[i], std::memory_order_relaxed);
      if (k == 0) ready.push_back(i);
    }
    ctx.run_start(g.num_to_run(), "threads");
    if (n > 0) {
      run.in_flight.store(static_cast<std::int64_t>(ready.size()));
      // Spread the initial ready tasks over the workers in contiguous blocks (neighbouring
      // leaves usually feed the same consumer).
      const std::size_t per = (ready.size() + size() - 1) / size();
      for (unsigned w = 0; w < size(); ++w) {
        const std::size_t b = std::min(ready.size(), w * per);
        const std::size_t e = std::min(ready.size(), b + per);
        if (b >= e) continue;
        std::lock_guard lock(m_queues[w].mutex);
        for (std::size_t k = b; k < e; ++k) m_queues[w].tasks.push_back(Item{&run, ready[k]});
      }
      wake_all();
      while (!run.done.load()) run.done.wait(false);
    }
    if (run.failed.load()) {
      ctx.run_end(false);
      std::rethrow_exception(run.error);
    }
    std::vector<Value> out;
    out.reserve(g.outputs.size());
    bool ok = true;
    if (ctx.keep_going) ctx.output_errors.assign(g.outputs.size(), nullptr);
    for (std::size_t k = 0; k < g.outputs.size(); ++k) {
      const auto o = g.outputs[k];
      out.push_back(run.values[o]);
      if (ctx.keep_going && run.errors[o]) {
        ctx.output_errors[k] = run.errors[o];
        ok = false;
      }
    }
    ctx.run_end(ok);
    return out;
  }

private:
  struct Item {
    GraphRun* run;
    std::uint32_t task;
  };
  struct Queue {
    std::mutex mutex;
    std::deque<Item> tasks;
  };

  void wake_all() {
    m_signal.fetch_add(1);
    m_signal.notify_all();
  }

  void push_local(unsigned self, Item task) {
    {
      std::lock_guard lock(m_queues[self].mutex);
      m_queues[self].tasks.push_back(task);
    }
    // Sequentially consistent: either a sleeper sees the new signal value, or we see it asleep.
    m_signal.fetch_add(1);
    if (m_sleepers.load() > 0) m_signal.notify_one();
  }

  bool pop(unsigned self, Item& task) {
    {
      auto& q = m_queues[self];
      std::lock_guard lock(q.mutex);
      if (!q.tasks.empty()) {
        task = q.tasks.back();  // newest first: its inputs are hot in this core's cache
        q.tasks.pop_back();
        return true;
      }
    }
    const unsigned n = size();
    for (unsigned k = 1; k < n; ++k) {
      auto& q = m_queues[(self + k) % n];
      std::lock_guard lock(q.mutex);
      if (!q.tasks.empty()) {
        task = q.tasks.front();  // steal the oldest: usually the biggest remaining subtree
        q.tasks.pop_front();
        return true;
      }
    }
    return false;
  }

  void worker(unsigned self) {
    t_on_worker = true;
    t_worker_id = self;
    std::vector<Value> inputs;
    while (true) {
      Item task{};
      if (pop(self, task)) {
        execute(self, task, inputs);
        continue;
      }
      // Spin briefly before sleeping: ready tasks often appear within microseconds.
      bool found = false;
      for (int spin = 0; spin < 64 && !found; ++spin) {
        std::this_thread::yield();
        found = pop(self, task);
      }
      if (found) {
        execute(self, task, inputs);
        continue;
      }
      m_sleepers.fetch_add(1);
      const auto seen = m_signal.load();
      if (m_stop.load()) {
        m_sleepers.fetch_sub(1);
        return;
      }
      if (pop(self, task)) {
        m_sleepers.fetch_sub(1);
        execute(self, task, inputs);
        continue;
      }
      m_signal.wait(seen);
      m_sleepers.fetch_sub(1);
      if (m_stop.load()) return;
    }
  }

  void execute(unsigned self, Item item, std::vector<Value>& inputs) {
    GraphRun& run = *item.run;
    const std::uint32_t i = item.task;
    const ExecGraph& g = *run.graph;
    const auto& node = *g.nodes[i];
    if (!run.failed.load(std::memory_order_relaxed)) {
      try {
        std::exception_ptr inherited;
        if (!run.errors.empty()) {
          for (auto j : g.inputs_of(i)) {
            if (run.errors[j]) {
              inherited = run.errors[j];
              break;
            }
          }
        }
        if (node.is_computed()) {
          run.values[i] = detail::known_result(node);
          run.ctx->output_done(g, run.outputs_by_node, i, run.values[i], nullptr);
        } else if (inherited) {
          run.errors[i] = inherited;  // an input failed: fail without running
          run.ctx->output_done(g, run.outputs_by_node, i, Value{}, inherited);
        } else {
          inputs.clear();
          for (auto j : g.inputs_of(i)) inputs.push_back(run.values[j]);
          const bool observed = run.ctx->observed();
          const double t0 = observed ? run.ctx->seconds_since_start() : 0.0;
          bool task_failed = false;
          if (run.errors.empty()) {
            run.values[i] = detail::run_task(node, inputs, 0);
          } else {
            try {
              run.values[i] = detail::run_task(node, inputs, 0);
            } catch (...) {
              run.errors[i] = std::current_exception();
              task_failed = true;
            }
          }
          inputs.clear();
          for (auto j : g.inputs_of(i)) {
            if (run.consumers[j].fetch_sub(1, std::memory_order_acq_rel) == 1) run.values[j] = Value{};
          }
          if (observed) {
            run.ctx->task_done(TaskEvent{node.key, node.name(), 0, static_cast<int>(self), t0,
                                         run.ctx->seconds_since_start(), 0, run.values[i].nbytes(),
                                         task_failed});
          }
          run.ctx->output_done(g, run.outputs_by_node, i, run.values[i],
                               task_failed ? run.errors[i] : nullptr);
        }
        for (auto d : g.dependents_of(i)) {
          if (run.pending[d].fetch_sub(1, std::memory_order_acq_rel) == 1) {
            run.in_flight.fetch_add(1);
            push_local(self, Item{&run, d});
          }
        }
      } catch (...) {
        inputs.clear();
        std::lock_guard lock(run.error_mutex);
        if (!run.failed.load()) {
          run.error = std::current_exception();
          run.failed.store(true);
        }
      }
    }
    if (run.in_flight.fetch_sub(1) == 1) {
      run.done.store(true);
      run.done.notify_all();
    }
  }

  const unsigned m_size;  // fixed before the workers start (they read it)
  std::vector<Queue> m_queues;
  std::vector<std::thread> m_threads;
  std::atomic<std::uint32_t> m_signal{0};
  std::atomic<std::int32_t> m_sleepers{0};
  std::atomic<bool> m_stop{false};
};

ThreadScheduler::ThreadScheduler(Options options) {
  unsigned n = options.num_threads;
  if (n == 0) n = static_cast<unsigned>(env_int("TESSERA_NUM_THREADS", 0, 0));
  if (n == 0) n = available_cores();
  m_pool = std::make_unique<Pool>(n);
}

ThreadScheduler::~ThreadScheduler() = default;

unsigned ThreadScheduler::num_threads() const noexcept { return m_pool->size(); }

std::vector<Value> ThreadScheduler::run(const ExecGraph& graph, RunContext& ctx) {
  if (t_on_worker) {
    // compute() from inside a task: running it on this pool could wait on itself.
    SyncScheduler inline_scheduler;
    return inline_scheduler.run(graph, ctx);
  }
  return m_pool->run(graph, ctx);
}

}  // namespace tessera
