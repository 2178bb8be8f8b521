#include <tessera/futures/client.hpp>

#include <algorithm>
#include <chrono>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace tessera {

const char* to_string(FutureStatus s) noexcept {
  switch (s) {
    case FutureStatus::pending: return "pending";
    case FutureStatus::running: return "running";
    case FutureStatus::finished: return "finished";
    case FutureStatus::error: return "error";
    case FutureStatus::cancelled: return "cancelled";
  }
  return "?";
}

namespace detail {

namespace {
bool is_done(FutureStatus s) {
  return s == FutureStatus::finished || s == FutureStatus::error || s == FutureStatus::cancelled;
}
std::atomic<std::uint64_t> g_completion{0};
constexpr auto kBurstGap = std::chrono::microseconds(200);  // a pause this long ends a burst
constexpr auto kBurstMax = std::chrono::milliseconds(20);   // a burst waits no longer
}  // namespace

void FutureState::wait() const {
  std::unique_lock lock(mutex);
  const_cast<std::condition_variable&>(cv).wait(lock, [&] { return is_done(status); });
}

bool FutureState::wait_for(std::chrono::nanoseconds timeout) const {
  std::unique_lock lock(mutex);
  return const_cast<std::condition_variable&>(cv).wait_for(lock, timeout, [&] { return is_done(status); });
}

FutureStatus FutureState::current() const {
  std::lock_guard lock(mutex);
  return status;
}

NodePtr FutureState::result_node() const {
  wait();
  std::lock_guard lock(mutex);
  if (status == FutureStatus::cancelled) {
    TESSERA_THROW(CancelledError, "future '", lazy->key, "' was cancelled");
  }
  if (error) std::rethrow_exception(error);
  return result;
}

std::exception_ptr FutureState::exception() const {
  wait();
  std::lock_guard lock(mutex);
  if (status == FutureStatus::cancelled) {
    return std::make_exception_ptr(CancelledError("future '" + lazy->key + "' was cancelled"));
  }
  return error;
}

Value future_value(const FutureState& s) { return known_result(*s.result_node()); }

namespace {
/// Moves `s` to a final status under its lock; runs its callbacks outside it.
template <class Change>
bool finish(const std::shared_ptr<FutureState>& s, Change&& change) {
  std::vector<DoneCallback> callbacks;
  {
    std::lock_guard lock(s->mutex);
    if (is_done(s->status)) return false;
    change(*s);
    s->completion = ++g_completion;
    callbacks.swap(s->callbacks);
  }
  s->cv.notify_all();
  for (auto& cb : callbacks) {
    try {
      cb(s);
    } catch (...) {  // a callback's failure is its own business
    }
  }
  return true;
}
}  // namespace

void cancel_future(const std::shared_ptr<FutureState>& s) {
  (void)finish(s, [](FutureState& st) { st.status = FutureStatus::cancelled; });
}

bool resolve_future(const std::shared_ptr<FutureState>& s, NodePtr result, std::exception_ptr error) {
  if (!result && !error) {
    error = std::make_exception_ptr(GraphError("future '" + s->lazy->key + "' got no result"));
  }
  return finish(s, [&](FutureState& st) {
    st.result = std::move(result);
    st.error = std::move(error);
    st.status = st.error ? FutureStatus::error : FutureStatus::finished;
  });
}

void on_done(const std::shared_ptr<FutureState>& s, DoneCallback cb) {
  {
    std::lock_guard lock(s->mutex);
    if (!is_done(s->status)) {
      s->callbacks.push_back(std::move(cb));
      return;
    }
  }
  try {
    cb(s);
  } catch (...) {
  }
}

struct ClientCore::Impl {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::shared_ptr<FutureState>> queue;
  std::vector<std::weak_ptr<FutureState>> finished;  // results later batches may reuse
  std::unordered_multiset<std::uint64_t> running_tasks;  // hashes of unresolved futures in flight
  std::size_t running = 0;                           // batches in flight
  bool stop = false;
  std::thread thread;
  std::list<std::thread> runners;                    // one per batch in flight (or finished)
  std::vector<std::thread::id> retired;              // runners that have finished

  /// Joins the runners that have finished. Holds `mutex`.
  void reap(std::unique_lock<std::mutex>& lock) {
    std::vector<std::thread> done;
    for (auto it = runners.begin(); it != runners.end();) {
      if (std::find(retired.begin(), retired.end(), it->get_id()) != retired.end()) {
        done.push_back(std::move(*it));
        it = runners.erase(it);
      } else {
        ++it;
      }
    }
    retired.clear();
    lock.unlock();
    for (auto& t : done) t.join();
    lock.lock();
  }
  /// Results of finished futures, by hash. Holds `mutex`.
  std::unordered_map<std::uint64_t, NodePtr> known() {
    std::unordered_map<std::uint64_t, NodePtr> out;
    finished.erase(std::remove_if(finished.begin(), finished.end(), [](const auto& w) { return w.expired(); }),
                   finished.end());
    for (const auto& w : finished) {
      if (auto s = w.lock()) {
        std::lock_guard slock(s->mutex);
        if (s->result) out.emplace(s->result->hash, s->result);
      }
    }
    return out;
  }
};

namespace {
/// One client core per scheduler for get_client(): tasks that each ask for a client share one
/// dispatcher instead of starting one per call.
std::mutex g_cores_mutex;
std::unordered_map<const Scheduler*, std::weak_ptr<ClientCore>> g_cores;

/// Joins `t`, or detaches it when it is the calling thread (the last reference to a core can
/// go with the batch a runner thread was running).
void join_or_detach(std::thread& t) {
  if (t.get_id() == std::this_thread::get_id()) t.detach();
  else t.join();
}
}  // namespace

std::shared_ptr<ClientCore> task_client_core() {
  auto scheduler = current_scheduler();
  if (!scheduler) scheduler = default_scheduler();
  std::lock_guard lock(g_cores_mutex);
  std::erase_if(g_cores, [](const auto& entry) { return entry.second.expired(); });
  if (auto it = g_cores.find(scheduler.get()); it != g_cores.end()) {
    if (auto core = it->second.lock()) return core;
  }
  auto core = std::make_shared<ClientCore>(scheduler);
  g_cores[scheduler.get()] = core;
  return core;
}

ClientCore::ClientCore(std::shared_ptr<Scheduler> s) : scheduler(std::move(s)), m_impl(std::make_unique<Impl>()) {
  if (!scheduler) TESSERA_THROW(ConfigError, "a tessera::Client needs a scheduler");
  m_impl->thread = std::thread([this] { dispatcher(); });
}

ClientCore::~ClientCore() {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->stop = true;
  }
  m_impl->cv.notify_all();
  join_or_detach(m_impl->thread);
  for (auto& t : m_impl->runners) join_or_detach(t);
}

void ClientCore::enqueue(std::shared_ptr<FutureState> s) {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->queue.push_back(std::move(s));
  }
  m_impl->cv.notify_all();
}

void ClientCore::dispatcher() {
  auto& im = *m_impl;
  while (true) {
    std::vector<std::shared_ptr<FutureState>> batch;
    std::unique_lock lock(im.mutex);
    im.cv.wait(lock, [&] { return im.stop || !im.queue.empty(); });
    im.reap(lock);
    if (im.queue.empty()) {  // stop requested and nothing left: let the batches in flight end
      im.cv.wait(lock, [&] { return im.running == 0; });
      return;
    }
    // Submissions come in bursts (a loop of submit calls): let the burst finish, so it goes
    // out as one batch (Dask's client batches its messages too, every 2 ms).
    const auto first = std::chrono::steady_clock::now();
    for (std::size_t seen = 0; !im.stop && seen != im.queue.size() &&
                               std::chrono::steady_clock::now() - first < kBurstMax;) {
      seen = im.queue.size();
      im.cv.wait_for(lock, kBurstGap);
    }
    batch.swap(im.queue);
    std::vector<std::shared_ptr<FutureState>> live;
    std::vector<NodePtr> roots;
    bool from_task = false;
    for (auto& s : batch) {
      from_task = from_task || s->from_task;
      std::lock_guard slock(s->mutex);
      if (s->status == FutureStatus::cancelled) continue;
      s->status = FutureStatus::running;
      roots.push_back(s->lazy);
      live.push_back(s);
    }
    if (live.empty()) continue;
    // The new batch runs next to those in flight (the scheduler overlaps them where it can),
    // unless it needs a task that one of them has not finished yet: then it waits for them,
    // so nothing runs twice. Finished results of earlier batches are reused, not recomputed.
    // A batch submitted from inside a task does not wait: the batch it would wait for may be
    // the one running that task (a recursive fib submits fib(n - 2) while fib(n - 2) waits in
    // its parent's batch), so an equal pure call in flight elsewhere is computed again.
    std::optional<ExecGraph> graph;
    try {
      while (true) {
        const auto known = im.known();
        graph.emplace(ExecGraph::build(roots, known));
        bool needs_pending = false;
        for (const auto* node : graph->nodes) {
          if (!node->is_computed() && im.running_tasks.count(node->hash) != 0) {
            needs_pending = true;
            break;
          }
        }
        if (!needs_pending || im.running == 0 || from_task) break;
        const std::size_t before = im.running;
        im.cv.wait(lock, [&] { return im.running < before; });
      }
    } catch (...) {
      const auto error = std::current_exception();
      lock.unlock();
      for (auto& s : live) (void)resolve_future(s, nullptr, error);
      continue;
    }
    ++im.running;
    for (const auto& s : live) im.running_tasks.insert(s->lazy->hash);
    im.runners.emplace_back([this, g = std::move(*graph), live = std::move(live)]() mutable {
      run_batch(g, live);
    });
  }
}

void ClientCore::run_batch(const ExecGraph& g, const std::vector<std::shared_ptr<FutureState>>& live) {
  auto& im = *m_impl;
  // A future is reusable by later batches as soon as it resolved.
  std::vector<char> out_of_flight(live.size(), 0);  // guarded by im.mutex
  auto leave_flight = [&](std::size_t k) {  // holds im.mutex
    if (out_of_flight[k]) return;
    out_of_flight[k] = 1;
    if (auto it = im.running_tasks.find(live[k]->lazy->hash); it != im.running_tasks.end()) {
      im.running_tasks.erase(it);
    }
  };
  auto finish_one = [&](std::size_t k, const NodePtr& result, std::exception_ptr error) {
    if (resolve_future(live[k], result, std::move(error))) {
      std::lock_guard lock(im.mutex);
      leave_flight(k);
      im.finished.push_back(live[k]);
    }
  };
  std::vector<NodePtr> results;
  std::vector<std::exception_ptr> errors(live.size());
  try {
    RunContext ctx = RunContext::with_defaults();
    ctx.keep_going = true;
    // Each future resolves the moment its own task is final, not when the batch is.
    ctx.on_output = [&](std::size_t k, const NodePtr& result, std::exception_ptr error) {
      finish_one(k, result, std::move(error));
    };
    results = scheduler->persist(g, ctx);
    if (!ctx.output_errors.empty()) errors = ctx.output_errors;
  } catch (...) {
    results.assign(live.size(), nullptr);
    std::fill(errors.begin(), errors.end(), std::current_exception());
  }
  // Whatever was not reported on the way (a scheduler failure, a cancelled one) is final now.
  for (std::size_t k = 0; k < live.size(); ++k) finish_one(k, results[k], errors[k]);
  {
    std::lock_guard lock(im.mutex);
    for (std::size_t k = 0; k < live.size(); ++k) leave_flight(k);
    --im.running;
    im.retired.push_back(std::this_thread::get_id());
  }
  im.cv.notify_all();
}

}  // namespace detail

WaitResult wait_states(const std::vector<std::shared_ptr<detail::FutureState>>& states,
                       std::chrono::nanoseconds timeout, ReturnWhen when) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool forever = timeout <= std::chrono::nanoseconds::zero();
  while (true) {
    WaitResult r;
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto s = states[i]->current();
      const bool done = s == FutureStatus::finished || s == FutureStatus::error || s == FutureStatus::cancelled;
      (done ? r.done : r.not_done).push_back(i);
    }
    if (r.not_done.empty() || (when == ReturnWhen::first_completed && !r.done.empty())) return r;
    if (when == ReturnWhen::first_exception &&
        std::any_of(r.done.begin(), r.done.end(), [&](std::size_t i) {
          const auto s = states[i]->current();
          return s == FutureStatus::error || s == FutureStatus::cancelled;
        })) {
      return r;
    }
    if (!forever && std::chrono::steady_clock::now() >= deadline) return r;
    // Wait on one unfinished future for a short while, then look at all again.
    (void)states[r.not_done.front()]->wait_for(std::chrono::milliseconds(2));
  }
}

Client get_client() { return Client(detail::task_client_core()); }

Client::Client() : Client(default_scheduler()) {}
Client::Client(std::shared_ptr<Scheduler> scheduler)
    : m_core(std::make_shared<detail::ClientCore>(std::move(scheduler))) {}
Client::~Client() = default;

std::shared_ptr<detail::FutureState> Client::start(detail::NodePtr node) {
  auto s = std::make_shared<detail::FutureState>();
  s->lazy = std::move(node);
  s->client = m_core;
  s->from_task = current_scheduler() != nullptr;
  if (s->lazy->is_computed()) {  // persisted results are done at once
    (void)detail::resolve_future(s, s->lazy, nullptr);
    return s;
  }
  m_core->enqueue(s);
  return s;
}

}  // namespace tessera
