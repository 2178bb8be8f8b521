#pragma once

/// @file
/// compute() and persist(): run the graphs behind Delayed values and other collections.
///
/// @code
/// int r = tessera::compute(z);                              // default scheduler
/// auto [a, b] = tessera::compute(x, y);                     // one graph: shared work runs once
/// int s = tessera::compute(z, tessera::SyncScheduler{});    // a scheduler, last
/// std::vector<int> all = tessera::compute(list_of_delayed);
/// auto [m, sd, n] = tessera::compute(arr.mean(), arr.std(), count);   // Arrays and Delayed mixed
/// auto zp = tessera::persist(z);   // same key, result kept: later graphs reuse it
/// @endcode
///
/// Several arguments (Delayed values, std::vectors of them, Arrays: anything with a
/// tessera::Collection specialization) are computed as ONE graph: a task they share (the same
/// node, or equal pure keys) runs once, as in Dask's `dask.compute(a, b)`.
///
/// Blocks: yes. Collective: with the MPI scheduler, call on rank 0 only (the driver).
/// Throws: TaskError with the failing task's key, rank and message; dependants of a failed task
/// do not run.

#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/scheduler.hpp>

#include <memory>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

namespace tessera {

/// How compute() and persist() see a collection type C: the graph nodes it needs (`roots`,
/// appended in a fixed order), the result built from their computed values (`finalize`), and
/// the same collection over persisted nodes (`rebuild`). Specialized for Delayed<T> and
/// std::vector<Delayed<T>> here, for Array in collections/array/array.hpp.
template <class C>
struct Collection;

template <class T>
struct Collection<Delayed<T>> {
  using result_type = T;
  static void roots(const Delayed<T>& d, std::vector<detail::NodePtr>& out) {
    if (!d.valid()) TESSERA_THROW(GraphError, "compute() of an empty Delayed handle");
    out.push_back(d.node());
  }
  static T finalize(const Delayed<T>&, std::span<const Value> v) {
    return v[0].decoded<T>().template get<T>();
  }
  static Delayed<T> rebuild(const Delayed<T>&, std::span<const detail::NodePtr> n) {
    return Delayed<T>(n[0]);
  }
};

template <class T, class A>
struct Collection<std::vector<Delayed<T>, A>> {
  using result_type = std::vector<T>;
  static void roots(const std::vector<Delayed<T>, A>& ds, std::vector<detail::NodePtr>& out) {
    for (const auto& d : ds) Collection<Delayed<T>>::roots(d, out);
  }
  static std::vector<T> finalize(const std::vector<Delayed<T>, A>&, std::span<const Value> v) {
    std::vector<T> out;
    out.reserve(v.size());
    for (const auto& x : v) out.push_back(x.decoded<T>().template get<T>());
    return out;
  }
  static std::vector<Delayed<T>> rebuild(const std::vector<Delayed<T>, A>&,
                                         std::span<const detail::NodePtr> n) {
    std::vector<Delayed<T>> out;
    out.reserve(n.size());
    for (const auto& x : n) out.emplace_back(x);
    return out;
  }
};

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
/// The same with `ctx` (with_defaults() plus the caller's settings).
std::vector<Value> compute_values(Scheduler& s, std::vector<NodePtr> roots, RunContext ctx);
std::vector<NodePtr> persist_nodes(Scheduler& s, std::vector<NodePtr> roots);

template <class C>
using collection_t = Collection<std::remove_cvref_t<C>>;

/// The roots of every collection, in argument order, and where each one's roots begin.
template <class... C>
std::vector<NodePtr> collect_roots(std::array<std::size_t, sizeof...(C) + 1>& at, const C&... cs) {
  std::vector<NodePtr> roots;
  std::size_t k = 0;
  ((at[k++] = roots.size(), collection_t<C>::roots(cs, roots)), ...);
  at[k] = roots.size();
  return roots;
}

template <class... C>
auto compute_on(Scheduler& s, const C&... cs) {
  std::array<std::size_t, sizeof...(C) + 1> at{};
  auto values = compute_values(s, collect_roots(at, cs...));
  const std::span<const Value> all(values);
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (sizeof...(C) == 1) {
      return (collection_t<C>::finalize(cs, all.subspan(at[0], at[1] - at[0])), ...);
    } else {
      return std::tuple<typename collection_t<C>::result_type...>{
          collection_t<C>::finalize(cs, all.subspan(at[I], at[I + 1] - at[I]))...};
    }
  }(std::index_sequence_for<C...>{});
}

template <class... C>
auto persist_on(Scheduler& s, const C&... cs) {
  std::array<std::size_t, sizeof...(C) + 1> at{};
  auto nodes = persist_nodes(s, collect_roots(at, cs...));
  const std::span<const NodePtr> all(nodes);
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    if constexpr (sizeof...(C) == 1) {
      return (collection_t<C>::rebuild(cs, all.subspan(at[0], at[1] - at[0])), ...);
    } else {
      return std::tuple<decltype(collection_t<C>::rebuild(cs, all))...>{
          collection_t<C>::rebuild(cs, all.subspan(at[I], at[I + 1] - at[I]))...};
    }
  }(std::index_sequence_for<C...>{});
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

/// Computes one or more collections (Delayed values, std::vectors of them, Arrays) as one
/// graph; an optional scheduler (object or shared_ptr) may come last. Returns the result for one
/// argument (T for a Delayed<T>, std::vector<T> for a vector, NDArray for an Array), a
/// std::tuple of them for several.
template <class... Args>
auto compute(Args&&... args) {
  static_assert(sizeof...(Args) > 0, "tessera::compute needs at least one Delayed value");
  return detail::with_scheduler_last(
      [](Scheduler& s, const auto&... cs) { return detail::compute_on(s, cs...); },
      std::forward<Args>(args)...);
}

/// Computes and keeps the results, in one graph; returns the same collections over the kept
/// results (same keys), so later graphs built on them do not recompute. Same arguments as
/// compute(); a tuple for several.
template <class... Args>
auto persist(Args&&... args) {
  static_assert(sizeof...(Args) > 0, "tessera::persist needs at least one Delayed value");
  return detail::with_scheduler_last(
      [](Scheduler& s, const auto&... cs) { return detail::persist_on(s, cs...); },
      std::forward<Args>(args)...);
}

}  // namespace tessera
