#pragma once

/// @file
/// Internal: the function objects of Bag's partition and reduction tasks. Each holds only the
/// user's callables (so it is as trivially copyable as they are); values (initial values, k,
/// keys) are the tasks' literal arguments.

#include <tessera/collections/bag/detail/flat_map.hpp>
#include <tessera/collections/bag/errors.hpp>
#include <tessera/core/error.hpp>
#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tessera::bag::detail {

template <class T>
concept Hashable = requires(const T& t) {
  { std::hash<T>{}(t) } -> std::convertible_to<std::size_t>;
} && std::equality_comparable<T>;

/// FlatMap (insertion order) when K is hashable, else map.
template <class K, class V>
using MapFor = std::conditional_t<Hashable<K>, FlatMap<K, V>, std::map<K, V>>;

/// A map's entries as a vector of pairs (FlatMap hands over its own, without a copy).
template <class M>
auto take_entries(M&& m) {
  using Map = std::decay_t<M>;
  if constexpr (requires { std::move(m).release(); }) {
    return std::move(m).release();
  } else {
    return std::vector<std::pair<typename Map::key_type, typename Map::mapped_type>>(
        std::make_move_iterator(m.begin()), std::make_move_iterator(m.end()));
  }
}
template <class K>
using SetFor = std::conditional_t<Hashable<K>, std::unordered_set<K>, std::set<K>>;

template <class T>
std::vector<T> concat(const std::vector<std::vector<T>>& parts) {
  std::size_t n = 0;
  for (const auto& p : parts) n += p.size();
  std::vector<T> out;
  out.reserve(n);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct Concat {
  template <class T>
  std::vector<T> operator()(const std::vector<std::vector<T>>& parts) const {
    return concat(parts);
  }
};

/// Identity partition function: materializes the pending pipeline.
struct Elements {
  template <class T>
  std::vector<T> operator()(const std::vector<T>& v) const {
    return v;
  }
};

/// The first n elements (take).
struct Head {
  template <class T>
  std::vector<T> operator()(const std::vector<T>& v, std::uint64_t n) const {
    return std::vector<T>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(n, v.size())));
  }
};

/// Piece `j` of `k` equal pieces of a partition (repartition to more partitions).
struct Piece {
  template <class T>
  std::vector<T> operator()(const std::vector<T>& v, std::uint64_t j, std::uint64_t k) const {
    const auto b = v.size() * j / k, e = v.size() * (j + 1) / k;
    return std::vector<T>(v.begin() + static_cast<std::ptrdiff_t>(b), v.begin() + static_cast<std::ptrdiff_t>(e));
  }
};

// ---- reductions ------------------------------------------------------------------------------

/// Dask's fold: reduce(binop, partition, initial).
template <class B>
struct FoldPartial {
  [[no_unique_address]] B binop;
  template <class T, class A>
  A operator()(const std::vector<T>& v, const A& initial) const {
    A acc = initial;
    for (const auto& x : v) acc = std::invoke(binop, std::move(acc), x);
    return acc;
  }
  template <class T, class A>
  A start(const A& initial) const {
    return initial;
  }
  template <class A, class T>
  void add(A& acc, T&& x) const {
    acc = std::invoke(binop, std::move(acc), std::as_const(x));
  }
  template <class A>
  A finish(A&& acc) const {
    return std::move(acc);
  }
};

/// Tree level of reduction/fold: the user's aggregate over a list of partials.
template <class C>
struct FoldCombine {
  [[no_unique_address]] C combine;
  template <class A>
  A operator()(const std::vector<A>& partials, const A& initial) const {
    A acc = initial;
    for (const auto& p : partials) acc = std::invoke(combine, std::move(acc), p);
    return acc;
  }
};

/// reduction(perpartition, aggregate): both user callables, applied to lists.
template <class F>
struct Apply {
  [[no_unique_address]] F f;
  template <class V>
  auto operator()(const V& v) const {
    return std::invoke(f, v);
  }
};

struct CountPartial {
  template <class T>
  std::int64_t operator()(const std::vector<T>& v) const {
    return static_cast<std::int64_t>(v.size());
  }
  template <class T>
  std::int64_t start() const {
    return 0;
  }
  template <class T>
  void add(std::int64_t& n, T&&) const {
    ++n;
  }
  std::int64_t finish(std::int64_t n) const { return n; }
};
struct SumAll {
  template <class T>
  T operator()(const std::vector<T>& v) const {
    T acc{};
    for (const auto& x : v) acc = acc + x;
    return acc;
  }
  template <class T>
  T start() const {
    return T{};
  }
  template <class T, class X>
  void add(T& acc, X&& x) const {
    acc = acc + x;
  }
  template <class T>
  T finish(T&& acc) const {
    return std::move(acc);
  }
};

template <bool Max>
struct ExtremePartial {
  template <class T>
  std::optional<T> operator()(const std::vector<T>& v) const {
    if (v.empty()) return std::nullopt;
    return Max ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
  }
};
template <bool Max>
struct ExtremeCombine {
  template <class T>
  std::optional<T> operator()(const std::vector<std::optional<T>>& v) const {
    std::optional<T> best;
    for (const auto& x : v) {
      if (x && (!best || (Max ? *best < *x : *x < *best))) best = x;
    }
    return best;
  }
};
template <bool Max>
struct ExtremeFinal {
  template <class T>
  T operator()(const std::vector<std::optional<T>>& v) const {
    auto best = ExtremeCombine<Max>{}(v);
    if (!best) TESSERA_THROW(Error, Max ? "max" : "min", "() of an empty bag");
    return *best;
  }
};

/// Count, mean and sum of squared deviations (Chan et al.'s parallel combine).
struct Moments {
  double n = 0, mean = 0, m2 = 0;
};
struct MomentsPartial {
  template <class T>
  Moments operator()(const std::vector<T>& v) const {
    Moments m;
    for (const auto& x : v) {
      const double d = static_cast<double>(x) - m.mean;
      m.n += 1;
      m.mean += d / m.n;
      m.m2 += d * (static_cast<double>(x) - m.mean);
    }
    return m;
  }
};
struct MomentsCombine {
  Moments operator()(const std::vector<Moments>& v) const {
    Moments a;
    for (const auto& b : v) {
      if (b.n == 0) continue;
      const double n = a.n + b.n, d = b.mean - a.mean;
      a.mean += d * b.n / n;
      a.m2 += b.m2 + d * d * a.n * b.n / n;
      a.n = n;
    }
    return a;
  }
};
/// kind 0: mean, 1: var, 2: std.
struct MomentsFinal {
  double operator()(const std::vector<Moments>& v, int kind, double ddof) const {
    const Moments m = MomentsCombine{}(v);
    if (m.n == 0) TESSERA_THROW(Error, kind == 0 ? "mean" : kind == 1 ? "var" : "std", "() of an empty bag");
    if (kind == 0) return m.mean;
    const double var = m.m2 / (m.n - ddof);
    return kind == 1 ? var : std::sqrt(var);
  }
};

template <bool All>
struct TruthPartial {
  template <class T>
  bool operator()(const std::vector<T>& v) const {
    for (const auto& x : v) {
      if (static_cast<bool>(x) != All) return !All;
    }
    return All;
  }
};
template <bool All>
struct TruthCombine {
  bool operator()(const std::vector<bool>& v) const {
    for (bool b : v) {
      if (b != All) return !All;
    }
    return All;
  }
};

// ---- frequencies / foldby: maps combined in a tree (carried as vectors of pairs) --------------

struct FrequenciesPartial {
  template <class T>
  std::vector<std::pair<T, std::int64_t>> operator()(const std::vector<T>& v) const {
    MapFor<T, std::int64_t> m;
    for (const auto& x : v) ++m[x];
    return take_entries(std::move(m));
  }
  template <class T>
  MapFor<T, std::int64_t> start() const {
    return {};
  }
  template <class M, class T>
  void add(M& m, T&& x) const {
    ++m[std::forward<T>(x)];
  }
  template <class M>
  auto finish(M&& m) const {
    return take_entries(std::forward<M>(m));
  }
};
struct FrequenciesCombine {
  template <class T>
  std::vector<std::pair<T, std::int64_t>> operator()(
      const std::vector<std::vector<std::pair<T, std::int64_t>>>& parts) const {
    MapFor<T, std::int64_t> m;
    for (const auto& p : parts) {
      for (const auto& [k, c] : p) m[k] += c;
    }
    return take_entries(std::move(m));
  }
};

/// foldby inside a partition: acc[key(x)] = binop(acc[key(x)] or initial, x).
template <class K, class B>
struct FoldbyPartial {
  [[no_unique_address]] K key;
  [[no_unique_address]] B binop;
  template <class T, class A>
  auto operator()(const std::vector<T>& v, const A& initial) const {
    using Key = std::decay_t<std::invoke_result_t<const K&, const T&>>;
    MapFor<Key, A> m;
    for (const auto& x : v) {
      auto [it, fresh] = m.try_emplace(std::invoke(key, x), initial);
      it->second = std::invoke(binop, std::move(it->second), x);
    }
    return take_entries(std::move(m));
  }
  template <class T, class A>
  auto start(const A& initial) const {
    using Key = std::decay_t<std::invoke_result_t<const K&, const T&>>;
    return std::pair<MapFor<Key, A>, A>{{}, initial};
  }
  template <class S, class T>
  void add(S& s, T&& x) const {
    auto [it, fresh] = s.first.try_emplace(std::invoke(key, std::as_const(x)), s.second);
    it->second = std::invoke(binop, std::move(it->second), std::as_const(x));
  }
  template <class S>
  auto finish(S&& s) const {
    return take_entries(std::move(s.first));
  }
};
/// foldby across partitions: out[k] = combine(out[k] or combine_initial, v).
template <class C>
struct FoldbyCombine {
  [[no_unique_address]] C combine;
  template <class Key, class A, class R>
  std::vector<std::pair<Key, R>> operator()(const std::vector<std::vector<std::pair<Key, A>>>& parts,
                                            const R& initial) const {
    MapFor<Key, R> m;
    for (const auto& p : parts) {
      for (const auto& [k, a] : p) {
        auto [it, fresh] = m.try_emplace(k, initial);
        it->second = std::invoke(combine, std::move(it->second), a);
      }
    }
    return take_entries(std::move(m));
  }
};

// ---- topk / distinct ---------------------------------------------------------------------------

/// The k largest elements by key, largest first (ties keep the earlier element first).
template <class K>
struct TopK {
  [[no_unique_address]] K key;
  template <class T>
  std::vector<T> operator()(const std::vector<T>& v, std::uint64_t k) const {
    std::vector<std::size_t> idx(v.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    const auto n = static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(k, v.size()));
    auto greater = [&](std::size_t a, std::size_t b) {
      const auto ka = std::invoke(key, v[a]);
      const auto kb = std::invoke(key, v[b]);
      if (kb < ka) return true;
      if (ka < kb) return false;
      return a < b;
    };
    std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), greater);
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::ptrdiff_t i = 0; i < n; ++i) out.push_back(v[idx[static_cast<std::size_t>(i)]]);
    return out;
  }
};
template <class K>
struct TopKMerge {
  [[no_unique_address]] K key;
  template <class T>
  std::vector<T> operator()(const std::vector<std::vector<T>>& parts, std::uint64_t k) const {
    return TopK<K>{key}(concat(parts), k);
  }
};

struct IdentityKey {
  template <class T>
  const T& operator()(const T& x) const noexcept {
    return x;
  }
};

/// The groups of one shuffled partition (groupby): every element of a key is in this
/// partition; groups in order of their key's first element, elements in input order.
template <class K>
struct GroupPartition {
  [[no_unique_address]] K key;
  template <class T>
  auto operator()(const std::vector<T>& v) const {
    using KeyT = std::decay_t<std::invoke_result_t<const K&, const T&>>;
    // The groups (the elements again, in vectors that grow by doubling) and the key index:
    // charged to the worker's memory limit before they are built (storage/working_memory.hpp).
    MemoryCharge charge = charge_working_memory(2 * v.size() * sizeof(T));
    MapFor<KeyT, std::size_t> where;
    std::vector<std::pair<KeyT, std::vector<T>>> groups;
    for (const auto& x : v) {
      KeyT k = key(x);
      auto [it, fresh] = where.emplace(k, groups.size());
      if (fresh) groups.emplace_back(std::move(k), std::vector<T>{});
      groups[it->second].second.push_back(x);
    }
    return groups;
  }
};

struct DistinctPartial {
  template <class T>
  std::vector<T> operator()(const std::vector<T>& v) const {
    SetFor<T> s;
    std::vector<T> out;
    for (const auto& x : v) {
      if (s.insert(x).second) out.push_back(x);
    }
    return out;
  }
};
struct DistinctMerge {
  template <class T>
  std::vector<T> operator()(const std::vector<std::vector<T>>& parts) const {
    return DistinctPartial{}(concat(parts));
  }
};

// ---- join / product ---------------------------------------------------------------------------

/// For each element x, each element o of `other` with on_other(o) == on_self(x): (o, x).
template <class KS, class KO>
struct JoinPartial {
  [[no_unique_address]] KS on_self;
  [[no_unique_address]] KO on_other;
  template <class T, class U>
  auto operator()(const std::vector<T>& v, const std::vector<U>& other) const {
    using Key = std::decay_t<std::invoke_result_t<const KO&, const U&>>;
    MapFor<Key, std::vector<std::size_t>> index;
    for (std::size_t i = 0; i < other.size(); ++i) index[std::invoke(on_other, other[i])].push_back(i);
    std::vector<std::pair<U, T>> out;
    for (const auto& x : v) {
      const auto it = index.find(std::invoke(on_self, x));
      if (it == index.end()) continue;
      for (auto i : it->second) out.emplace_back(other[i], x);
    }
    return out;
  }
};

struct ProductPartial {
  template <class T, class U>
  std::vector<std::pair<T, U>> operator()(const std::vector<T>& a, const std::vector<U>& b) const {
    std::vector<std::pair<T, U>> out;
    out.reserve(a.size() * b.size());
    for (const auto& x : a) {
      for (const auto& y : b) out.emplace_back(x, y);
    }
    return out;
  }
};

/// pluck(key) for elements with .at(key) (Json, maps, vectors).
struct PluckKey {
  template <class T, class K>
  auto operator()(const std::vector<T>& v, const K& key) const {
    using R = std::decay_t<decltype(std::declval<const T&>().at(key))>;
    std::vector<R> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      try {
        out.push_back(v[i].at(key));
      } catch (...) {
        rethrow_index(i);
      }
    }
    return out;
  }
};

}  // namespace tessera::bag::detail
