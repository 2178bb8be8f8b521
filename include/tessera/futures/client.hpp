#pragma once

/// @file
/// Client: submits work eagerly on a scheduler (threads, sync or the MPI runtime) and returns
/// Futures. See futures/future.hpp for the model and an example.

#include <tessera/futures/future.hpp>
#include <tessera/scheduling/compute.hpp>
#include <tessera/scheduling/task_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tessera {

/// Options of Client::scatter.
struct ScatterOptions {
  /// Also copy the value to every worker (Dask's broadcast=True): tasks anywhere then read it
  /// where they run. Worker to worker: rank 0 still sends it once.
  bool broadcast = false;
};

struct SubmitOptions {
  std::string name = {};  ///< key prefix (default: the function's name)
  int retries = 0;   ///< extra attempts when the task throws
  bool pure = true;  ///< equal submissions share one task (Dask's default)
};

namespace detail {

/// Runs the wrapped callable, trying again up to `retries` times when it throws.
template <class F>
struct Retrying {
  F f;
  int retries = 0;
  template <class... A>
  decltype(auto) operator()(const A&... a) const {
    for (int attempt = 0;; ++attempt) {
      try {
        return std::invoke(f, a...);
      } catch (...) {
        if (attempt >= retries) throw;
      }
    }
  }
};

class ClientCore {
public:
  explicit ClientCore(std::shared_ptr<Scheduler> scheduler);
  ~ClientCore();
  void enqueue(std::shared_ptr<FutureState> s);
  void cancel(const std::shared_ptr<FutureState>& s);
  std::shared_ptr<Scheduler> scheduler;

private:
  void dispatcher();
  void run_batch(const ExecGraph& g, const std::vector<std::shared_ptr<FutureState>>& live);
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The client core get_client() hands out: shared by every client on the same scheduler.
std::shared_ptr<ClientCore> task_client_core();

}  // namespace detail

// A Retrying<F> travels like F: the callable through write_callable, then the retry count.
template <class F>
struct Codec<detail::Retrying<F>> {
  static void write(ByteWriter& w, const detail::Retrying<F>& r) {
    detail::write_callable(w, r.f);
    w.pod<std::int32_t>(r.retries);
  }
  static detail::Retrying<F> read(ByteReader& r) {
    F f = detail::read_callable<F>(r);
    const int n = r.pod<std::int32_t>();
    return detail::Retrying<F>{std::move(f), n};
  }
};

/// Submits tasks eagerly. Collective: none; with the MPI runtime, use it on rank 0.
class Client {
public:
  /// Uses the default scheduler (the MPI runtime's inside run_distributed).
  Client();
  explicit Client(std::shared_ptr<Scheduler> scheduler);
  /// Waits for the work in flight. Futures stay valid.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts `f(args...)` now. Arguments may be values, Futures or Delayed values.
  template <class F, class... Args>
  auto submit(F&& f, Args&&... args) {
    return submit_with(SubmitOptions{}, std::forward<F>(f), std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  auto submit_with(SubmitOptions opts, F&& f, Args&&... args) {
    auto d = make_delayed(opts, std::forward<F>(f))(std::forward<Args>(args)...);
    using T = typename decltype(d)::value_type;
    return Future<T>(start(d.node()));
  }
  /// `f(x)` for every x of `inputs`, each its own task.
  template <class F, class T>
  auto map(F&& f, const std::vector<T>& inputs, SubmitOptions opts = {}) {
    auto wrapped = make_delayed(opts, std::forward<F>(f));
    using D = decltype(wrapped(inputs.front()));
    std::vector<Future<typename D::value_type>> out;
    out.reserve(inputs.size());
    for (const auto& x : inputs) out.emplace_back(start(wrapped(x).node()));
    return out;
  }
  /// Places `value` where tasks run, once (Dask's scatter): under MPI it is sent to one worker
  /// and kept there, so later tasks that use the returned future fetch it from that worker
  /// (peer to peer), never again from rank 0; locally it is kept in this process. With
  /// `{.broadcast = true}` every worker then fetches a copy and keeps it (worker to worker),
  /// so tasks on any worker read it locally. The value (and every copy) is released when the
  /// last copy of the future is dropped. Blocks until it is placed.
  /// Throws: TaskError if it cannot be placed (SerializationError's message for a type that
  /// cannot travel).
  template <class T>
  Future<std::decay_t<T>> scatter(T&& value, ScatterOptions opts = {}) {
    using V = std::decay_t<T>;
    auto d = literal(std::forward<T>(value), "scatter");
    if (m_core->scheduler->name() != "mpi") return Future<V>(start(d.node()));
    // A task copies it to a worker; the copy on rank 0 goes with the input literal.
    auto placed = delayed([](const V& v) { return v; }, {.name = "scatter", .pure = true})(d);
    Future<V> f(start(placed.node()));
    if (auto e = f.exception()) std::rethrow_exception(e);
    {
      // The literal (and rank 0's copy of the value) can go: the key is the same.
      std::lock_guard lock(f.state()->mutex);
      f.state()->lazy = f.state()->result;
    }
    if (opts.broadcast) broadcast(f);
    return f;
  }
  /// Computes a lazy graph eagerly; its result stays where it was computed.
  template <class T>
  Future<T> compute(const Delayed<T>& d) {
    return Future<T>(start(d.node()));
  }
  /// Submits the chunks of an Array now; returns one future per chunk (blocks() order).
  template <class A>
    requires requires(const A& a) { a.blocks().front().node(); a.chunks(); }
  auto compute(const A& a) {
    using D = typename decltype(a.blocks())::value_type;
    std::vector<Future<typename D::value_type>> out;
    for (const auto& b : a.blocks()) out.emplace_back(start(b.node()));
    return out;
  }
  /// Computes a lazy graph now and keeps its result (as compute(delayed)).
  template <class T>
  Future<T> persist(const Delayed<T>& d) {
    return compute(d);
  }
  /// Computes an Array's chunks now and keeps them where they were computed; returns the same
  /// Array over the kept chunks (same keys). Blocks until they are all computed.
  /// Throws: the first chunk's TaskError.
  template <class A>
    requires requires(const A& a) { a.blocks().front().node(); a.chunks(); }
  A persist(const A& a) {
    auto fs = compute(a);
    std::vector<typename decltype(a.blocks())::value_type> blocks;
    blocks.reserve(fs.size());
    for (auto& f : fs) {
      if (auto e = f.exception()) std::rethrow_exception(e);
      blocks.push_back(f.delayed());
    }
    return A(a.shape(), a.dtype(), a.chunks(), std::move(blocks));
  }

  [[nodiscard]] const std::shared_ptr<Scheduler>& scheduler() const noexcept { return m_core->scheduler; }

protected:
  explicit Client(std::shared_ptr<detail::ClientCore> core) noexcept : m_core(std::move(core)) {}

private:
  friend Client get_client();
  template <class F>
  auto make_delayed(const SubmitOptions& opts, F&& f) {
    using Fn = std::decay_t<F>;
    DelayedOptions d{opts.name, opts.pure};
    if (d.name.empty()) {
      if constexpr (std::is_pointer_v<Fn> && std::is_function_v<std::remove_pointer_t<Fn>>) {
        d.name = detail::function_pointer_name(reinterpret_cast<const void*>(f));
      } else {
        d.name = detail::callable_name(typeid(Fn));
      }
    }
    return delayed(detail::Retrying<Fn>{std::forward<F>(f), opts.retries}, std::move(d));
  }
  std::shared_ptr<detail::FutureState> start(detail::NodePtr node);
  /// scatter's broadcast: one task per worker reads the placed value, and the copies they
  /// fetched stay as the value's (RunContext::keep_input_copies).
  template <class V>
  void broadcast(const Future<V>& placed) {
    Scheduler& s = *m_core->scheduler;
    std::vector<detail::NodePtr> reads;
    for (int h = 0; h < s.workers(); ++h) {
      reads.push_back(delayed([](const V&) { return true; }, {.name = "broadcast", .worker_hint = h})(placed).node());
    }
    RunContext ctx = RunContext::with_defaults();
    ctx.keep_input_copies = true;
    (void)detail::compute_values(s, std::move(reads), std::move(ctx));
  }

  std::shared_ptr<detail::ClientCore> m_core;
};

/// Dask's get_client(): inside a task of a local scheduler (sync or threads), a client whose
/// submissions run on the same scheduler, next to the running task (clients on one scheduler
/// share one dispatcher, so calling it in every task is cheap); outside a task, a client on
/// default_scheduler(). A task that waits for what it submitted must not hold its pool thread
/// meanwhile: use worker_client(), or secede() before waiting. On an MPI worker rank it gives a
/// client on that worker's own default scheduler (submitting to rank 0 from a worker is not
/// supported yet). Throws: ConfigError from default_scheduler(). Thread safety: any thread.
[[nodiscard]] Client get_client();

/// Dask's `with worker_client() as c:`: get_client() plus secede() for the lifetime of the
/// object, so a task can submit work and wait for it (recursive task trees, adaptive
/// refinement) without deadlocking a pool of few threads.
/// @code
/// long fib(long n) {
///   if (n < 2) return n;
///   auto c = tessera::worker_client();
///   auto a = c.submit(fib, n - 1), b = c.submit(fib, n - 2);
///   return a.result() + b.result();
/// }
/// @endcode
class WorkerClient : public Client {
public:
  WorkerClient() : Client(detail::task_client_core()) {}
  ~WorkerClient() = default;

private:
  SecededScope m_seceded;  // constructed after the client, released (rejoin) before it
};

[[nodiscard]] inline WorkerClient worker_client() { return {}; }

}  // namespace tessera
