#include <tessera/scheduling/threads.hpp>

#include <tessera/core/config.hpp>
#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/task_context.hpp>

#include "scheduling/run_state.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

namespace {
thread_local bool t_on_worker = false;
thread_local unsigned t_worker_id = 0;

/// One compute() on the pool: the engine's run state, and how many of its tasks are queued or
/// running (the run is over when that reaches zero).
struct PoolRun {
  PoolRun(Scheduler* s, const ExecGraph& g, RunContext& ctx) : owner(s), state(g, ctx, local_result_store()) {}
  Scheduler* owner;  // what get_client() inside its tasks finds
  detail::RunState state;
  std::atomic<std::int64_t> in_flight{0};
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
    std::list<Extra> extras;
    {
      std::lock_guard lock(m_extras_mutex);
      extras.swap(m_extras);
    }
    for (auto& e : extras) e.thread.join();
  }

  [[nodiscard]] unsigned size() const noexcept { return m_size; }

  /// Runs every task of `run` on the pool and waits for them. Several runs may share the pool
  /// at once (each queued task knows its run).
  void run_all(PoolRun& run) {
    const auto ready = run.state.start("threads");
    if (ready.empty()) return;
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

private:
  struct Item {
    PoolRun* run;
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

  /// A thread that stands in for a seceded pool thread until that one rejoins.
  struct Extra {
    std::thread thread;
    std::atomic<bool> retire{false};
    std::atomic<bool> exited{false};
  };

  /// secede()/rejoin() of one pool thread (original or replacement): it lives on that thread.
  class Slot final : public detail::TaskSlot {
  public:
    Slot(Pool& pool, unsigned self) : m_pool(pool), m_self(self) {}
    void secede() override {
      if (m_replacement == nullptr) m_replacement = m_pool.spawn_replacement(m_self);
    }
    void rejoin() override {
      if (m_replacement == nullptr) return;
      m_replacement->retire.store(true);
      m_replacement = nullptr;
      m_pool.wake_all();
    }

  private:
    Pool& m_pool;
    unsigned m_self;
    Extra* m_replacement = nullptr;
  };

  /// Starts a thread that serves worker `self`'s queue until told to retire; joins the
  /// replacements that have already retired.
  Extra* spawn_replacement(unsigned self) {
    std::lock_guard lock(m_extras_mutex);
    for (auto it = m_extras.begin(); it != m_extras.end();) {
      if (it->exited.load()) {
        it->thread.join();
        it = m_extras.erase(it);
      } else {
        ++it;
      }
    }
    Extra& e = m_extras.emplace_back();
    e.thread = std::thread([this, self, &e] {
      worker(self, &e.retire);
      e.exited.store(true);
    });
    return &e;
  }

  void worker(unsigned self, const std::atomic<bool>* retire = nullptr) {
    t_on_worker = true;
    t_worker_id = self;
    Slot slot(*this, self);
    detail::set_thread_slot(&slot);
    std::vector<std::uint32_t> ready;
    while (retire == nullptr || !retire->load()) {
      Item task{};
      if (pop(self, task)) {
        execute(self, task, ready);
        continue;
      }
      // Spin briefly before sleeping: ready tasks often appear within microseconds.
      bool found = false;
      for (int spin = 0; spin < 64 && !found; ++spin) {
        std::this_thread::yield();
        found = pop(self, task);
      }
      if (found) {
        execute(self, task, ready);
        continue;
      }
      m_sleepers.fetch_add(1);
      const auto seen = m_signal.load();
      if (m_stop.load() || (retire != nullptr && retire->load())) {
        m_sleepers.fetch_sub(1);
        return;
      }
      if (pop(self, task)) {
        m_sleepers.fetch_sub(1);
        execute(self, task, ready);
        continue;
      }
      m_signal.wait(seen);
      m_sleepers.fetch_sub(1);
      if (m_stop.load()) return;
    }
  }

  void execute(unsigned self, Item item, std::vector<std::uint32_t>& ready) {
    PoolRun& run = *item.run;
    ready.clear();
    {
      const detail::CurrentSchedulerScope scope(run.owner);
      run.state.execute(item.task, static_cast<int>(self), ready);
    }
    if (!ready.empty()) {
      run.in_flight.fetch_add(static_cast<std::int64_t>(ready.size()));
      for (auto d : ready) push_local(self, Item{&run, d});
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
  std::mutex m_extras_mutex;
  std::list<Extra> m_extras;  // replacements of seceded threads (std::list: stable addresses)
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
  PoolRun run(this, graph, ctx);
  m_pool->run_all(run);
  return run.state.finish();
}

std::vector<detail::NodePtr> ThreadScheduler::persist(const ExecGraph& graph, RunContext& ctx) {
  if (t_on_worker) {
    SyncScheduler inline_scheduler;
    return inline_scheduler.persist(graph, ctx);
  }
  PoolRun run(this, graph, ctx);
  m_pool->run_all(run);
  return run.state.finish_persist();
}

}  // namespace tessera
