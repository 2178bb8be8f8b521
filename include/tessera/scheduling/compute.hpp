#pragma once

/// @file
/// compute() and persist(): run the graphs behind Delayed values.
///
/// @code
/// int r = tessera::compute(z);                              // default scheduler
/// auto [a, b] = tessera::compute(x, y);                     // shared work runs once
/// int s = tessera::compute(z, tessera::SyncScheduler{});    // a scheduler, last
/// std::vector<int> all = tessera::compute(list_of_delayed);
/// auto zp = tessera::persist(z);   // same key, result kept: later graphs reuse it
/// @endcode
///
/// Blocks: yes. Collective: with the MPI scheduler, call on rank 0 only (the driver).
/// Throws: TaskError with the failing task's key, rank and message; dependants of a failed task
/// do not run.

#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/scheduler.hpp>

#include <memory>
#include <tuple>
#include <type_traits>
#include <vector>

namespace tessera {

namespace detail {

template <class S>
struct is_scheduler_arg : std::is_base_of<Scheduler, S> {};
template <class S>
struct is_scheduler_arg<std::shared_ptr<S>> : std::is_base_of<Scheduler, S> {};

inline Scheduler& as_scheduler(Scheduler& s) noexcept { return s; }
inline Scheduler& as_scheduler(const Scheduler& s) noexcept { return const_cast<Scheduler&>(s); }
template <class S>
Scheduler& as_scheduler(const std::shared_ptr<S>& s) {
  if (!s) TESSERA_THROW(ConfigError, "compute() was given a null scheduler");
  return *s;
}

template <class T>
T extract(const Value& v) {
  return v.decoded<T>().template get<T>();
}

/// Builds the ExecGraph of `roots`, runs it on `s` with the default observers.
std::vector<Value> compute_values(Scheduler& s, std::vector<NodePtr> roots);
std::vector<NodePtr> persist_nodes(Scheduler& s, std::vector<NodePtr> roots);

template <class... T>
auto compute_on(Scheduler& s, const Delayed<T>&... ds) {
  auto values = compute_values(s, {ds.node()...});
  if constexpr (sizeof...(T) == 1) {
    return extract<T...>(values[0]);
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<T...>{extract<T>(values[I])...};
    }(std::index_sequence_for<T...>{});
  }
}

template <class T, class A>
std::vector<T> compute_on(Scheduler& s, const std::vector<Delayed<T>, A>& ds) {
  std::vector<NodePtr> roots;
  roots.reserve(ds.size());
  for (const auto& d : ds) roots.push_back(d.node());
  auto values = compute_values(s, std::move(roots));
  std::vector<T> out;
  out.reserve(values.size());
  for (const auto& v : values) out.push_back(extract<T>(v));
  return out;
}

template <class... T>
auto persist_on(Scheduler& s, const Delayed<T>&... ds) {
  auto nodes = persist_nodes(s, {ds.node()...});
  if constexpr (sizeof...(T) == 1) {
    return Delayed<T...>(nodes[0]);
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<Delayed<T>...>{Delayed<T>(nodes[I])...};
    }(std::index_sequence_for<T...>{});
  }
}

template <class T, class A>
std::vector<Delayed<T>> persist_on(Scheduler& s, const std::vector<Delayed<T>, A>& ds) {
  std::vector<NodePtr> roots;
  for (const auto& d : ds) roots.push_back(d.node());
  auto nodes = persist_nodes(s, std::move(roots));
  std::vector<Delayed<T>> out;
  for (auto& n : nodes) out.emplace_back(std::move(n));
  return out;
}

template <class F, class... Args>
decltype(auto) with_scheduler_last(F&& f, Args&&... args) {
  constexpr std::size_t n = sizeof...(Args);
  using Last = std::decay_t<std::tuple_element_t<n - 1, std::tuple<Args...>>>;
  if constexpr (is_scheduler_arg<Last>::value) {
    auto tup = std::forward_as_tuple(std::forward<Args>(args)...);
    Scheduler& s = as_scheduler(std::get<n - 1>(tup));
    return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
      return f(s, std::get<I>(tup)...);
    }(std::make_index_sequence<n - 1>{});
  } else {
    auto s = default_scheduler();
    return f(*s, std::forward<Args>(args)...);
  }
}

}  // namespace detail

/// Computes one or more Delayed values (or one std::vector of them); an optional scheduler
/// (object or shared_ptr) may come last. Returns T for one value, std::tuple<T...> for several,
/// std::vector<T> for a vector.
template <class... Args>
auto compute(Args&&... args) {
  static_assert(sizeof...(Args) > 0, "tessera::compute needs at least one Delayed value");
  return detail::with_scheduler_last(
      [](Scheduler& s, const auto&... ds) { return detail::compute_on(s, ds...); },
      std::forward<Args>(args)...);
}

/// Computes and keeps the results; returns Delayed handles (same keys) that refer to them, so
/// later graphs built on them do not recompute. Same arguments as compute().
template <class... Args>
auto persist(Args&&... args) {
  static_assert(sizeof...(Args) > 0, "tessera::persist needs at least one Delayed value");
  return detail::with_scheduler_last(
      [](Scheduler& s, const auto&... ds) { return detail::persist_on(s, ds...); },
      std::forward<Args>(args)...);
}

}  // namespace tessera
