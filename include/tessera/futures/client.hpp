#pragma once

/// @file
/// Client: submits work eagerly on a scheduler (threads, sync or the MPI runtime) and returns
/// Futures. See futures/future.hpp for the model and an example.

#include <tessera/futures/future.hpp>
#include <tessera/scheduling/compute.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tessera {

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
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

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
  /// Places a value once (a literal result every later task can read without copying it into
  /// each task).
  template <class T>
  Future<std::decay_t<T>> scatter(T&& value) {
    auto d = literal(std::forward<T>(value), "scatter");
    return Future<std::decay_t<T>>(start(d.node()));
  }
  /// Computes a lazy graph eagerly; its result stays where it was computed.
  template <class T>
  Future<T> compute(const Delayed<T>& d) {
    return Future<T>(start(d.node()));
  }

  [[nodiscard]] const std::shared_ptr<Scheduler>& scheduler() const noexcept { return m_core->scheduler; }

private:
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

  std::shared_ptr<detail::ClientCore> m_core;
};

}  // namespace tessera
