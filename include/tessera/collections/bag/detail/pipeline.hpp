#pragma once

/// @file
/// Internal: the fused element-wise pipeline of a Bag. Each element-wise operation (map,
/// filter, flat_map, ...) is a small stage object holding the user's function; a chain of
/// them is a Chain<A, B> value, so the whole chain is ONE function object in ONE task per
/// partition. Stages hold nothing but the user's callables, so a chain of trivially copyable
/// lambdas is itself trivially copyable and travels to MPI ranks as raw bytes
/// (tessera::detail::write_callable).
///
/// A stage is called as `stage(x, emit)` and calls `emit(y)` for each output element.
///
/// Every callable member is [[no_unique_address]]: capture-less lambdas then take no bytes, so a
/// chain of them is an empty type (keyed by its type alone) and a chain with captures holds only
/// the captured bytes, no indeterminate padding that would make equal chains hash differently.

#include <tessera/collections/bag/errors.hpp>
#include <tessera/serialization/codec.hpp>

#include <cstdint>
#include <functional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tessera::bag::detail {

/// No pending operation: the bag's partitions are its elements.
template <class T>
struct Identity {
  using in_type = T;
  using out_type = T;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    emit(std::forward<X>(x));
  }
};

template <class P>
inline constexpr bool is_identity_v = false;
template <class T>
inline constexpr bool is_identity_v<Identity<T>> = true;

template <class F, class In>
struct MapStage {
  [[no_unique_address]] F f;
  using in_type = In;
  using out_type = std::decay_t<std::invoke_result_t<const F&, const In&>>;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    emit(std::invoke(f, std::as_const(x)));
  }
};

template <class F, class In, bool Keep>
struct FilterStage {
  [[no_unique_address]] F f;
  using in_type = In;
  using out_type = In;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    if (static_cast<bool>(std::invoke(f, std::as_const(x))) == Keep) emit(std::forward<X>(x));
  }
};

template <class F, class In>
struct FlatMapStage {
  [[no_unique_address]] F f;
  using in_type = In;
  using result_type = std::invoke_result_t<const F&, const In&>;
  using out_type = std::decay_t<std::ranges::range_reference_t<std::remove_reference_t<result_type>>>;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    auto&& r = std::invoke(f, std::as_const(x));
    for (auto&& y : r) emit(std::move(y));
  }
};

template <class F, class In>
struct StarmapStage {
  [[no_unique_address]] F f;
  using in_type = In;
  using out_type = std::decay_t<decltype(std::apply(std::declval<const F&>(), std::declval<const In&>()))>;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    emit(std::apply(f, std::as_const(x)));
  }
};

template <std::size_t I, class In>
struct PluckStage {
  using in_type = In;
  using out_type = std::decay_t<std::tuple_element_t<I, In>>;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    emit(std::get<I>(std::forward<X>(x)));
  }
};

/// A then B.
template <class A, class B>
struct Chain {
  [[no_unique_address]] A a;
  [[no_unique_address]] B b;
  using in_type = typename A::in_type;
  using out_type = typename B::out_type;
  template <class X, class E>
  void operator()(X&& x, E& emit) const {
    auto inner = [&](auto&& y) { b(std::forward<decltype(y)>(y), emit); };
    a(std::forward<X>(x), inner);
  }
};

template <class P, class S>
auto compose(const P& p, const S& s) {
  if constexpr (is_identity_v<P>) return s;
  else return Chain<P, S>{p, s};
}

/// Applies the pipeline to every element of one partition. An exception of the user's
/// function becomes an ElementError naming the partition and the element's index in it.
template <class P>
std::vector<typename P::out_type> run_pipe(const P& pipe, const std::vector<typename P::in_type>& in,
                                           std::uint64_t partition) {
  using T = typename P::out_type;
  std::vector<T> out;
  out.reserve(in.size());
  auto sink = [&](auto&& y) { out.push_back(static_cast<T>(std::forward<decltype(y)>(y))); };
  for (std::size_t i = 0; i < in.size(); ++i) {
    try {
      pipe(in[i], sink);
    } catch (...) {
      rethrow_element(partition, i);
    }
  }
  return out;
}

/// A per-partition function that can also take the elements one at a time, so that a fused
/// pipeline feeding it never materializes the partition: `g.template start<T>(extra...)` makes
/// the accumulator, `g.add(acc, x)` takes an element, `g.finish(acc)` is the result.
template <class G, class T, class... E>
concept Streaming = requires(const G& g, const E&... e) {
  g.template start<T>(e...);
} && requires(const G& g, decltype(std::declval<const G&>().template start<T>(std::declval<const E&>()...)) & acc,
              T&& x) {
  g.add(acc, std::move(x));
  g.finish(std::move(acc));
};

/// The body of a partition task: the pending pipeline, then `g` over the partition's elements
/// (with the task's literal arguments). One task does both.
template <class P, class G>
struct Fused {
  [[no_unique_address]] P pipe;
  [[no_unique_address]] G g;
  template <class... E>
  auto operator()(const std::vector<typename P::in_type>& in, std::uint64_t partition,
                  const E&... extra) const {
    using T = typename P::out_type;
    if constexpr (is_identity_v<P>) {
      return call(in, partition, extra...);
    } else if constexpr (Streaming<G, T, E...>) {
      auto acc = g.template start<T>(extra...);
      auto sink = [&](auto&& y) { g.add(acc, static_cast<T>(std::forward<decltype(y)>(y))); };
      for (std::size_t i = 0; i < in.size(); ++i) {
        try {
          pipe(in[i], sink);
        } catch (...) {
          rethrow_element(partition, i);
        }
      }
      return g.finish(std::move(acc));
    } else {
      const auto elements = run_pipe(pipe, in, partition);
      return call(elements, partition, extra...);
    }
  }

private:
  template <class V, class... E>
  auto call(const V& elements, std::uint64_t partition, const E&... extra) const {
    try {
      if constexpr (std::is_invocable_v<const G&, const V&, std::uint64_t, const E&...>) {
        return std::invoke(g, elements, partition, extra...);
      } else {
        return std::invoke(g, elements, extra...);
      }
    } catch (const ElementError&) {
      throw;
    } catch (...) {
      rethrow_partition(partition);
    }
  }
};

/// True when a callable's bytes (or type alone) determine what it computes, so that its tasks
/// may have pure keys: equal calls share one task.
template <class F>
inline constexpr bool keyable_v =
    (std::is_empty_v<F> && std::is_default_constructible_v<F>) || Bitwise<F> || Serializable<F>;

template <class F>
void check_callable() {
  static_assert(!std::is_pointer_v<std::decay_t<F>>,
                "tessera::bag: pass a lambda (e.g. [](const T& x) { return f(x); }), not a function "
                "pointer: a fused pipeline travels to other ranks as raw bytes, and a raw code "
                "address differs between processes");
}

}  // namespace tessera::bag::detail
