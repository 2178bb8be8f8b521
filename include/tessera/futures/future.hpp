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
/// for (auto f : tessera::as_completed(many)) use(f.result());
/// @endcode
///
/// Work is dispatched in batches: everything submitted while a batch runs goes out together
/// in the next one, so thousands of submits cost about as much as one compute() of them. A
/// Future resolves when its batch completes.
///
/// Thread safety: a Client and its Futures may be used from several threads.

#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/scheduler.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
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

/// What a Future refers to; shared by its copies and by the client.
struct FutureState {
  NodePtr lazy;    // the submitted task
  NodePtr result;  // the computed result (persisted) once finished
  std::exception_ptr error;
  FutureStatus status = FutureStatus::pending;
  std::uint64_t completion = 0;  // order in which futures finished
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::weak_ptr<ClientCore> client;

  void wait() const;
  [[nodiscard]] bool wait_for(std::chrono::nanoseconds timeout) const;
  [[nodiscard]] FutureStatus current() const;
  /// The computed result's node. Throws: the task's error, or CancelledError.
  [[nodiscard]] NodePtr result_node() const;
};

Value future_value(const FutureState& s);
void cancel_future(const std::shared_ptr<FutureState>& s);
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
// A Future passed to tessera::delayed or Client::submit is a dependency, like a Delayed.
template <class T>
struct ArgTraits<Future<T>> : ArgTraits<Delayed<T>> {};
template <class T>
struct Holder<Future<T>> : Holder<Delayed<T>> {};
}  // namespace detail

/// Results of many futures, in order. Blocks. Throws: the first error among them.
template <class T>
std::vector<T> gather(const std::vector<Future<T>>& futures) {
  std::vector<T> out;
  out.reserve(futures.size());
  for (const auto& f : futures) out.push_back(f.result());
  return out;
}

enum class ReturnWhen { all_completed, first_completed };

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

/// Hands out futures in the order they complete: `while (auto f = ac.next()) use(*f);`.
template <class T>
class AsCompleted {
public:
  explicit AsCompleted(std::vector<Future<T>> futures) : m_left(std::move(futures)) {}
  /// The next future to complete, or nullopt when all were handed out. Blocks.
  std::optional<Future<T>> next() {
    if (m_left.empty()) return std::nullopt;
    auto r = wait(m_left, std::chrono::duration<double>::zero(), ReturnWhen::first_completed);
    std::size_t best = r.done.front();
    for (auto i : r.done) {
      if (m_left[i].state()->completion < m_left[best].state()->completion) best = i;
    }
    Future<T> f = m_left[best];
    m_left.erase(m_left.begin() + static_cast<std::ptrdiff_t>(best));
    return f;
  }

private:
  std::vector<Future<T>> m_left;
};

/// The futures in the order they complete. Blocks until all are done.
template <class T>
std::vector<Future<T>> as_completed(const std::vector<Future<T>>& futures) {
  std::vector<Future<T>> out;
  std::vector<Future<T>> left = futures;
  while (!left.empty()) {
    auto r = wait(left, std::chrono::duration<double>::zero(), ReturnWhen::first_completed);
    std::sort(r.done.begin(), r.done.end(), [&](std::size_t a, std::size_t b) {
      return left[a].state()->completion < left[b].state()->completion;
    });
    std::vector<Future<T>> rest;
    for (auto i : r.done) out.push_back(left[i]);
    for (auto i : r.not_done) rest.push_back(left[i]);
    left.swap(rest);
  }
  return out;
}

}  // namespace tessera
