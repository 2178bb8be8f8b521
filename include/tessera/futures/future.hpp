#pragma once

/// @file
/// Futures: Dask's "real-time" interface, eager instead of lazy. A Client submits work at once
/// and hands back typed Futures; results stay where they were computed (on MPI workers) until
/// the last Future referring to them is dropped.
///
/// @code
/// tessera::Client client;                                   // default scheduler (mpi/threads)
/// auto a = client.submit(inc, 1);                           // starts now
/// auto b = client.submit(add, a, 10);                       // depends on a, no waiting
/// int r = b.result();                                       // blocks: 12
/// auto many = client.map(inc, std::vector<int>{1, 2, 3});
/// for (auto f : tessera::as_completed(many)) use(f.result());   // streams, in completion order
/// @endcode
///
/// A Future resolves as soon as its own task finishes (the scheduler reports every requested
/// result the moment it is final), not when the other work dispatched with it is done. Work is
/// dispatched in batches: everything submitted while a batch runs goes out together in the next
/// one, so thousands of submits cost about as much as one compute() of them; a task submitted
/// while a batch runs starts when that batch is done.
///
/// Thread safety: a Client and its Futures may be used from several threads.

#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/scheduler.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace tessera {

enum class FutureStatus { pending, running, finished, error, cancelled };

/// "pending", "running", "finished", "error", "cancelled".
const char* to_string(FutureStatus s) noexcept;

class Client;

namespace detail {
class ClientCore;
struct FutureState;

using DoneCallback = std::function<void(const std::shared_ptr<FutureState>&)>;

/// What a Future refers to; shared by its copies and by the client.
struct FutureState {
  NodePtr lazy;    // the submitted task
  NodePtr result;  // the computed result (persisted) once finished
  std::exception_ptr error;
  FutureStatus status = FutureStatus::pending;
  std::uint64_t completion = 0;  // order in which futures finished
  std::vector<DoneCallback> callbacks;  // run once, when the future is done
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::weak_ptr<ClientCore> client;
  bool from_task = false;  // submitted from inside a running task (get_client)

  void wait() const;
  [[nodiscard]] bool wait_for(std::chrono::nanoseconds timeout) const;
  [[nodiscard]] FutureStatus current() const;
  /// The computed result's node. Throws: the task's error, or CancelledError.
  [[nodiscard]] NodePtr result_node() const;
  /// The error (a CancelledError for a cancelled future), null when finished. Blocks.
  [[nodiscard]] std::exception_ptr exception() const;
};

Value future_value(const FutureState& s);
void cancel_future(const std::shared_ptr<FutureState>& s);
/// Finishes `s` with `result` (or fails it with `error`) and runs its callbacks, unless it is
/// done already. Returns whether it did.
bool resolve_future(const std::shared_ptr<FutureState>& s, NodePtr result, std::exception_ptr error);
/// Runs `cb(s)` when `s` is done: at once on this thread if it is, else on the thread that
/// finishes it.
void on_done(const std::shared_ptr<FutureState>& s, DoneCallback cb);
}  // namespace detail

/// The eventual result of a submitted task.
template <class T>
class Future {
public:
  using value_type = T;
  Future() = default;
  explicit Future(std::shared_ptr<detail::FutureState> s) noexcept : m_state(std::move(s)) {}

  [[nodiscard]] bool valid() const noexcept { return m_state != nullptr; }
  [[nodiscard]] const Key& key() const { return m_state->lazy->key; }
  [[nodiscard]] FutureStatus status() const { return m_state->current(); }
  /// Finished, failed or cancelled.
  [[nodiscard]] bool done() const {
    const auto s = status();
    return s == FutureStatus::finished || s == FutureStatus::error || s == FutureStatus::cancelled;
  }
  /// Blocks until done. Returns false on timeout.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return m_state->wait_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }
  void wait() const { m_state->wait(); }
  /// The result (brought to this process). Blocks.
  /// Throws: TaskError with the task's key, rank and message; CancelledError if cancelled.
  [[nodiscard]] T result() const {
    Value v = detail::future_value(*m_state);
    return v.decoded<T>().template get<T>();
  }
  [[nodiscard]] T get() const { return result(); }
  /// The task's error without throwing it (Dask's Future.exception()): null when the task
  /// finished, its TaskError when it failed, a CancelledError when cancelled. Blocks until done.
  [[nodiscard]] std::exception_ptr exception() const { return m_state->exception(); }
  /// Calls `fn(future)` once this future is done (finished, failed or cancelled): at once on
  /// the calling thread if it is done already, else on the scheduler's thread that finishes it,
  /// so `fn` must be quick and must not wait for other futures. Exceptions from `fn` are
  /// swallowed.
  template <class Fn>
  void add_done_callback(Fn&& fn) const {
    detail::on_done(m_state, [f = std::forward<Fn>(fn)](const std::shared_ptr<detail::FutureState>& s) {
      f(Future<T>(s));
    });
  }
  /// Cancels the task if it has not run yet; a running task's result is discarded.
  void cancel() { detail::cancel_future(m_state); }

  /// For tessera::delayed arguments and TaskGraph: the node behind this future.
  [[nodiscard]] detail::NodePtr node() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->result ? m_state->result : m_state->lazy;
  }
  /// A Delayed handle on the same result, for building lazy graphs on top of futures.
  [[nodiscard]] Delayed<T> delayed() const { return Delayed<T>(node()); }

  [[nodiscard]] const std::shared_ptr<detail::FutureState>& state() const noexcept { return m_state; }

private:
  std::shared_ptr<detail::FutureState> m_state;
};

namespace detail {
// A Future passed to tessera::delayed or Client::submit is a dependency, like a Delayed; a
// std::vector of Futures is a list of dependencies, like a std::vector of Delayed values.
template <class T>
struct ArgTraits<Future<T>> : ArgTraits<Delayed<T>> {};
template <class T>
struct Holder<Future<T>> : Holder<Delayed<T>> {};
template <class T, class Alloc>
struct ArgTraits<std::vector<Future<T>, Alloc>> : ArgTraits<std::vector<Delayed<T>>> {};
template <class T, class Alloc>
struct Holder<std::vector<Future<T>, Alloc>> : Holder<std::vector<Delayed<T>>> {};
}  // namespace detail

/// Results of many futures, in order. Blocks. Throws: the first error among them.
template <class T>
std::vector<T> gather(const std::vector<Future<T>>& futures) {
  std::vector<T> out;
  out.reserve(futures.size());
  for (const auto& f : futures) out.push_back(f.result());
  return out;
}

/// first_exception: as soon as one future failed (or was cancelled), else when all are done.
enum class ReturnWhen { all_completed, first_completed, first_exception };

/// Waits for futures; returns (done, not_done) index lists. A zero or negative timeout waits
/// as long as it takes. Blocks.
struct WaitResult {
  std::vector<std::size_t> done, not_done;
};
WaitResult wait_states(const std::vector<std::shared_ptr<detail::FutureState>>& states,
                       std::chrono::nanoseconds timeout, ReturnWhen when);

template <class T, class Rep = double, class Period = std::ratio<1>>
WaitResult wait(const std::vector<Future<T>>& futures,
                std::chrono::duration<Rep, Period> timeout = std::chrono::duration<Rep, Period>::zero(),
                ReturnWhen when = ReturnWhen::all_completed) {
  std::vector<std::shared_ptr<detail::FutureState>> states;
  for (const auto& f : futures) states.push_back(f.state());
  return wait_states(states, std::chrono::duration_cast<std::chrono::nanoseconds>(timeout), when);
}
template <class T>
WaitResult wait(const std::vector<Future<T>>& futures, ReturnWhen when) {
  return wait(futures, std::chrono::duration<double>::zero(), when);
}

/// Hands out futures in the order they complete (Dask's as_completed), as they complete:
/// `for (auto f : ac) use(f.result());` or `while (auto f = ac.next()) use(*f);`. More futures
/// may be added while iterating (also from a done callback or another thread); iteration ends
/// when every added future was handed out.
/// Thread safety: add() from any thread; one consumer calls next() / iterates.
template <class T>
class AsCompleted {
public:
  AsCompleted() : m_shared(std::make_shared<Shared>()) {}
  explicit AsCompleted(const std::vector<Future<T>>& futures) : AsCompleted() {
    // Those done already come first, in the order they finished.
    std::vector<std::pair<std::uint64_t, std::size_t>> order;
    order.reserve(futures.size());
    for (std::size_t i = 0; i < futures.size(); ++i) {
      const auto& st = *futures[i].state();
      std::lock_guard lock(st.mutex);
      order.emplace_back(st.completion == 0 ? UINT64_MAX : st.completion, i);
    }
    std::stable_sort(order.begin(), order.end());
    for (const auto& [c, i] : order) add(futures[i]);
  }
  /// Adds a future; it is handed out once done (at once if it is done already).
  void add(const Future<T>& f) {
    {
      std::lock_guard lock(m_shared->mutex);
      ++m_shared->outstanding;
    }
    f.add_done_callback([s = m_shared](Future<T> done) {
      {
        std::lock_guard lock(s->mutex);
        s->done.push_back(std::move(done));
      }
      s->cv.notify_all();
    });
  }
  /// Futures added and not handed out yet (done or not).
  [[nodiscard]] std::size_t count() const {
    std::lock_guard lock(m_shared->mutex);
    return m_shared->outstanding;
  }
  [[nodiscard]] bool empty() const { return count() == 0; }
  /// The next future to complete, or nullopt when all were handed out. Blocks.
  std::optional<Future<T>> next() {
    std::unique_lock lock(m_shared->mutex);
    m_shared->cv.wait(lock, [&] { return !m_shared->done.empty() || m_shared->outstanding == 0; });
    if (m_shared->done.empty()) return std::nullopt;
    Future<T> f = std::move(m_shared->done.front());
    m_shared->done.pop_front();
    --m_shared->outstanding;
    return f;
  }

  /// Input iterator over next().
  class iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    using pointer = const Future<T>*;
    using reference = const Future<T>&;
    iterator() = default;
    explicit iterator(AsCompleted* ac) : m_ac(ac) { ++*this; }
    reference operator*() const { return *m_current; }
    pointer operator->() const { return &*m_current; }
    iterator& operator++() {
      m_current = m_ac->next();
      if (!m_current) m_ac = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.m_ac == b.m_ac; }

  private:
    AsCompleted* m_ac = nullptr;
    std::optional<Future<T>> m_current;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Future<T>> done;
    std::size_t outstanding = 0;
  };
  std::shared_ptr<Shared> m_shared;
};

/// The futures as they complete, in completion order: `for (auto f : as_completed(fs))`
/// yields each one the moment it is done (it does not wait for all). The returned object
/// accepts add() while iterating.
template <class T>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures) {
  return AsCompleted<T>(futures);
}

}  // namespace tessera
