#include <tessera/futures/client.hpp>

#include <algorithm>
#include <thread>
#include <unordered_map>

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

Value future_value(const FutureState& s) { return known_result(*s.result_node()); }

void cancel_future(const std::shared_ptr<FutureState>& s) {
  {
    std::lock_guard lock(s->mutex);
    if (is_done(s->status)) return;
    s->status = FutureStatus::cancelled;
    s->completion = ++g_completion;
  }
  s->cv.notify_all();
}

struct ClientCore::Impl {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::shared_ptr<FutureState>> queue;
  std::vector<std::weak_ptr<FutureState>> finished;  // results later batches may reuse
  bool stop = false;
  bool busy = false;
  std::thread thread;
};

/// Records the order in which tasks finish, so futures complete in that order.
class CompletionOrder final : public Observer {
public:
  void on_task_done(const TaskEvent& e) override {
    std::lock_guard lock(m_mutex);
    m_order.emplace(std::string(e.key), m_order.size());
  }
  std::size_t rank_of(const std::string& key) const {
    auto it = m_order.find(key);
    return it == m_order.end() ? m_order.size() : it->second;
  }

private:
  std::mutex m_mutex;
  std::unordered_map<std::string, std::size_t> m_order;
};

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
  m_impl->thread.join();
}

void ClientCore::enqueue(std::shared_ptr<FutureState> s) {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->queue.push_back(std::move(s));
  }
  m_impl->cv.notify_all();
}

void ClientCore::dispatcher() {
  while (true) {
    std::vector<std::shared_ptr<FutureState>> batch;
    std::unordered_map<std::uint64_t, NodePtr> known;
    {
      std::unique_lock lock(m_impl->mutex);
      m_impl->cv.wait(lock, [&] { return m_impl->stop || !m_impl->queue.empty(); });
      if (m_impl->queue.empty()) return;  // stop requested and nothing left
      batch.swap(m_impl->queue);
      // Finished results of earlier batches are reused, not recomputed.
      auto& fin = m_impl->finished;
      fin.erase(std::remove_if(fin.begin(), fin.end(), [](const auto& w) { return w.expired(); }), fin.end());
      for (const auto& w : fin) {
        if (auto s = w.lock()) {
          std::lock_guard slock(s->mutex);
          if (s->result) known.emplace(s->result->hash, s->result);
        }
      }
    }
    std::vector<std::shared_ptr<FutureState>> live;
    std::vector<NodePtr> roots;
    for (auto& s : batch) {
      std::lock_guard lock(s->mutex);
      if (s->status == FutureStatus::cancelled) continue;
      s->status = FutureStatus::running;
      roots.push_back(s->lazy);
      live.push_back(s);
    }
    if (live.empty()) continue;
    std::vector<NodePtr> results;
    std::vector<std::exception_ptr> errors(live.size());
    auto order = std::make_shared<CompletionOrder>();
    try {
      const ExecGraph g = ExecGraph::build(roots, known);
      RunContext ctx = RunContext::with_defaults();
      ctx.keep_going = true;
      ctx.observers.push_back(order);
      results = scheduler->persist(g, ctx);
      if (!ctx.output_errors.empty()) errors = ctx.output_errors;
    } catch (...) {
      results.assign(live.size(), nullptr);
      std::fill(errors.begin(), errors.end(), std::current_exception());
    }
    // Resolve in completion order.
    std::vector<std::size_t> idx(live.size());
    for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return order->rank_of(live[a]->lazy->key) < order->rank_of(live[b]->lazy->key);
    });
    for (auto k : idx) {
      auto& s = live[k];
      {
        std::lock_guard lock(s->mutex);
        if (s->status != FutureStatus::cancelled) {
          s->result = results[k];
          s->error = errors[k];
          s->status = errors[k] ? FutureStatus::error : FutureStatus::finished;
          s->completion = ++g_completion;
        }
      }
      s->cv.notify_all();
    }
    std::lock_guard lock(m_impl->mutex);
    for (auto& s : live) m_impl->finished.push_back(s);
  }
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
    if (!forever && std::chrono::steady_clock::now() >= deadline) return r;
    // Wait on one unfinished future for a short while, then look at all again.
    (void)states[r.not_done.front()]->wait_for(std::chrono::milliseconds(2));
  }
}

Client::Client() : Client(default_scheduler()) {}
Client::Client(std::shared_ptr<Scheduler> scheduler)
    : m_core(std::make_shared<detail::ClientCore>(std::move(scheduler))) {}
Client::~Client() = default;

std::shared_ptr<detail::FutureState> Client::start(detail::NodePtr node) {
  auto s = std::make_shared<detail::FutureState>();
  s->lazy = std::move(node);
  s->client = m_core;
  if (s->lazy->is_computed()) {  // scattered values and persisted results are done at once
    s->result = s->lazy;
    s->status = FutureStatus::finished;
    s->completion = ++detail::g_completion;
    return s;
  }
  m_core->enqueue(s);
  return s;
}

}  // namespace tessera
