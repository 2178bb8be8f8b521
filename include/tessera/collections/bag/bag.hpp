#pragma once

/// @file
/// tessera::bag: Dask Bag in C++. A Bag<T> is a lazy list of partitions, each a
/// `Delayed<std::vector<T>>` task; map, filter, fold and friends over any T that has a Codec
/// (Boost-serializable or a tessera::Codec specialization), on every scheduler (sync, threads,
/// MPI). Nothing runs until compute(), persist() or take().
///
/// @code
/// namespace tb = tessera::bag;
/// std::vector<int> one_to_ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
/// auto b = tb::from_sequence(one_to_ten, {.npartitions = 2});
/// std::vector<int> first3 = b.take(3);                                // {1, 2, 3}: partition 0 only
/// auto even_sq = b.filter([](int x) { return x % 2 == 0; }).map([](int x) { return x * x; });
/// std::vector<int> v = tessera::compute(even_sq);                     // {4, 16, 36, 64, 100}
/// long total = tessera::compute(b.fold(std::plus<>{}, 0L));           // 55 (tree reduction)
/// auto words = tb::read_text("books/*.txt")                           // Bag<std::string>, a line each
///                  .flat_map([](const std::string& line) { return split_words(line); });
/// auto top = tessera::compute(words.frequencies().topk(10, [](const auto& kv) { return kv.second; }));
/// @endcode
///
/// Fusion. Element-wise operations (map, filter, remove, flat_map, starmap, pluck<I>) create no
/// task: they compose into the bag's pending pipeline, part of its type (`Bag<T, Pipe>`; write
/// `auto`, or convert to `Bag<T>`, which materializes). The next operation that needs the
/// elements (a reduction, map_partitions, compute, ...) runs the whole chain and itself in ONE
/// task per partition. The chain is one function object holding the user's callables, so it
/// travels to MPI ranks as raw bytes when they are trivially copyable: capture by value, and
/// pass lambdas rather than function pointers (a static_assert says so). Each consumer of a
/// pending bag fuses the chain into its own tasks, so two reductions of one pending bag run the
/// chain twice (its input tasks once): call materialize() (or persist()) first to share it.
///
/// Keys. Tasks have pure keys (equal operations on equal partitions share one task) when the
/// callables are empty, trivially copyable or serializable; others get a fresh key per call.
///
/// Reductions are trees: one partial task per partition, then combine tasks of at most
/// `split_every` (default 8, as Dask Bag) partials, and one aggregate. fold and reduction return
/// a Delayed<A>; frequencies, topk, distinct and foldby return one-partition Bags.
///
/// Errors: an exception of a user function inside a task reaches compute() as TaskError, whose
/// message names the bag partition and the element's index in it (bag::ElementError). Graph
/// errors (split_every < 2, empty handles) throw GraphError when the expression is built.
///
/// Thread safety: a Bag is an immutable value (shared task handles); const members may be called
/// concurrently. Collective: with the MPI scheduler, build and compute bags on rank 0 only.
///
/// Text input and output (read_text, to_textfiles) are in <tessera/collections/bag/text.hpp>
/// (included here); JSON lines (read_json, tessera::Json) in <tessera/collections/bag/json.hpp>,
/// kept separate so that users of bag.hpp do not compile nlohmann/json.

#include <tessera/collections/bag/detail/kernels.hpp>
#include <tessera/collections/bag/detail/pipeline.hpp>
#include <tessera/collections/bag/detail/tree.hpp>
#include <tessera/collections/bag/errors.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/graph/task_graph.hpp>
#include <tessera/scheduling/compute.hpp>
#include <tessera/scheduling/shuffle.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tessera::bag {

/// Dask Bag's default number of partials per combine task.
inline constexpr int default_split_every = 8;

/// Options of groupby.
struct GroupbyOptions {
  /// Output partitions; 0: as many as the bag has.
  std::size_t npartitions = 0;
};

/// Options of the tree reductions.
struct ReduceOptions {
  /// Partials combined per task, >= 2.
  int split_every = default_split_every;
};

template <class T, class Pipe = detail::Identity<T>>
class Bag;

namespace detail {
template <class T>
struct is_bag : std::false_type {};
template <class T, class P>
struct is_bag<Bag<T, P>> : std::true_type {};
}  // namespace detail

/// A lazy partitioned collection of T with pending element-wise operations `Pipe` (see @file).
template <class T, class Pipe>
class Bag {
  static_assert(std::is_same_v<T, typename Pipe::out_type>, "Bag<T, Pipe>: Pipe must produce T");

public:
  using value_type = T;
  using source_type = typename Pipe::in_type;
  using Partition = Delayed<std::vector<source_type>>;

  Bag() = default;
  /// A bag over partition tasks, with a pending pipeline (default: none) and its task names.
  explicit Bag(std::vector<Partition> partitions, Pipe pipe = {}, std::string pending_names = {})
      : m_parts(std::move(partitions)), m_pipe(std::move(pipe)), m_names(std::move(pending_names)) {}

  [[nodiscard]] std::size_t npartitions() const noexcept { return m_parts.size(); }
  /// True while element-wise operations wait to be fused into the next task.
  [[nodiscard]] static constexpr bool is_pending() noexcept { return !detail::is_identity_v<Pipe>; }

  // ---- element-wise: fused, no task --------------------------------------------------------

  /// f(const T&) -> R for every element: Bag<R>.
  template <class F>
  auto map(F f) const {
    detail::check_callable<F>();
    return then(detail::MapStage<F, T>{std::move(f)}, "map");
  }
  /// The elements for which pred(const T&) is true.
  template <class F>
  auto filter(F pred) const {
    detail::check_callable<F>();
    return then(detail::FilterStage<F, T, true>{std::move(pred)}, "filter");
  }
  /// The elements for which pred(const T&) is false.
  template <class F>
  auto remove(F pred) const {
    detail::check_callable<F>();
    return then(detail::FilterStage<F, T, false>{std::move(pred)}, "remove");
  }
  /// f(const T&) -> a range; its elements, in order (Dask's map(f).flatten()).
  template <class F>
  auto flat_map(F f) const {
    detail::check_callable<F>();
    return then(detail::FlatMapStage<F, T>{std::move(f)}, "flat_map");
  }
  /// f(a, b, ...) for elements that are pairs or tuples (a, b, ...).
  template <class F>
  auto starmap(F f) const {
    detail::check_callable<F>();
    return then(detail::StarmapStage<F, T>{std::move(f)}, "starmap");
  }
  /// Field I of pair/tuple elements.
  template <std::size_t I>
  auto pluck() const {
    return then(detail::PluckStage<I, T>{}, "pluck");
  }

  // ---- per partition: one task each ---------------------------------------------------------

  /// x.at(key) of every element (Json objects, maps, vectors): a new Bag (one task per
  /// partition, fused with the pending operations). A missing key fails with the element index.
  template <class K>
  auto pluck(K key) const {
    return from_tasks(partition_tasks(detail::PluckKey{}, "pluck", npartitions(), key));
  }
  /// f(const std::vector<T>&) -> std::vector<R> on every partition.
  template <class F>
  auto map_partitions(F f) const {
    detail::check_callable<F>();
    return from_tasks(partition_tasks(detail::Apply<F>{std::move(f)}, "map_partitions", npartitions()));
  }
  /// Pairs (o, x) for each element x and each element o of `other` with on_other(o) ==
  /// on_self(x) (Dask's join with an in-memory sequence, which travels with every task).
  template <class U, class KS, class KO>
  auto join(const std::vector<U>& other, KS on_self, KO on_other) const {
    detail::check_callable<KS>();
    detail::check_callable<KO>();
    return from_tasks(partition_tasks(detail::JoinPartial<KS, KO>{std::move(on_self), std::move(on_other)},
                                      "join", npartitions(), other));
  }
  /// join with the same key function on both sides.
  template <class U, class K>
  auto join(const std::vector<U>& other, K on) const {
    return join(other, on, on);
  }
  /// Cartesian product: (x, y) for every x here and y in `other`; npartitions() *
  /// other.npartitions() partitions.
  template <class U, class P2>
  Bag<std::pair<T, U>> product(const Bag<U, P2>& other) const {
    const auto a = to_delayed();
    const auto b = other.to_delayed();
    auto fn = tessera::delayed(detail::ProductPartial{}, {.name = "product", .pure = true});
    std::vector<Delayed<std::vector<std::pair<T, U>>>> out;
    for (const auto& x : a) {
      for (const auto& y : b) out.push_back(fn(x, y));
    }
    return Bag<std::pair<T, U>>(std::move(out));
  }
  /// The same elements in `n` partitions: consecutive partitions concatenated (n smaller) or
  /// each split into equal pieces (n larger). Throws: GraphError if n is 0.
  Bag<T> repartition(std::size_t n) const {
    if (n == 0) TESSERA_THROW(GraphError, "repartition(0): a bag needs at least one partition");
    const auto parts = to_delayed();
    const std::size_t m = parts.size();
    if (n == m) return Bag<T>(parts);
    std::vector<Delayed<std::vector<T>>> out;
    if (n < m) {
      auto fn = tessera::delayed(detail::Concat{}, {.name = "repartition", .pure = true});
      for (std::size_t j = 0; j < n; ++j) {
        std::vector<Delayed<std::vector<T>>> group(parts.begin() + static_cast<std::ptrdiff_t>(m * j / n),
                                                   parts.begin() + static_cast<std::ptrdiff_t>(m * (j + 1) / n));
        out.push_back(fn(group));
      }
    } else {
      auto fn = tessera::delayed(detail::Piece{}, {.name = "repartition", .pure = true});
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint64_t k = n / m + (i < n % m ? 1 : 0);
        for (std::uint64_t j = 0; j < k; ++j) out.push_back(fn(parts[i], j, k));
      }
    }
    return Bag<T>(std::move(out));
  }

  // ---- reductions: trees ---------------------------------------------------------------------

  /// Dask's reduction: perpartition(const std::vector<T>&) -> A on every partition, then
  /// aggregate(const std::vector<A>&) -> A over lists of at most split_every partials.
  template <class P, class Agg>
  auto reduction(P perpartition, Agg aggregate, ReduceOptions o = {}) const {
    detail::check_callable<P>();
    detail::check_callable<Agg>();
    auto partials = partition_tasks(detail::Apply<P>{perpartition}, "reduction-partial", npartitions());
    using A = typename decltype(partials)::value_type::value_type;
    static_assert(std::is_convertible_v<std::invoke_result_t<const Agg&, const std::vector<A>&>, A>,
                  "reduction: aggregate(const std::vector<A>&) must return the partials' type A");
    auto agg = tessera::delayed(detail::Apply<Agg>{aggregate},
                                {.name = "reduction-aggregate", .pure = detail::keyable_v<Agg>});
    return tree(std::move(partials), o, agg, agg);
  }
  /// Dask's fold: binop(acc, x) from `initial` in each partition, then the partials combined
  /// with binop (from `initial` again) in a tree.
  template <class B, class A>
  Delayed<A> fold(B binop, A initial, ReduceOptions o = {}) const {
    return fold(binop, binop, std::move(initial), o);
  }
  /// fold with a separate combine(acc, partial) for the tree levels.
  template <class B, class C, class A>
  Delayed<A> fold(B binop, C combine, A initial, ReduceOptions o = {}) const {
    detail::check_callable<B>();
    detail::check_callable<C>();
    auto partials = partition_tasks(detail::FoldPartial<B>{binop}, "fold-partial", npartitions(), initial);
    using F = detail::FoldCombine<C>;
    const std::string base = task_name("fold");
    auto comb = tessera::delayed(F{combine}, {.name = base + "-combine", .pure = detail::keyable_v<F>});
    auto fin = tessera::delayed(F{combine}, {.name = base + "-aggregate", .pure = detail::keyable_v<F>});
    return detail::tree_reduce(
        std::move(partials), o.split_every, [&](const auto& g) { return comb(g, initial); },
        [&](const auto& g) { return fin(g, initial); });
  }
  /// Number of elements.
  Delayed<std::int64_t> count(ReduceOptions o = {}) const {
    return simple("count", detail::CountPartial{}, detail::SumAll{}, detail::SumAll{}, o);
  }
  /// Sum of the elements (from T{}).
  Delayed<T> sum(ReduceOptions o = {}) const {
    return simple("sum", detail::SumAll{}, detail::SumAll{}, detail::SumAll{}, o);
  }
  /// Smallest / largest element. The task fails on an empty bag.
  Delayed<T> min(ReduceOptions o = {}) const {
    return simple("min", detail::ExtremePartial<false>{}, detail::ExtremeCombine<false>{},
                  detail::ExtremeFinal<false>{}, o);
  }
  Delayed<T> max(ReduceOptions o = {}) const {
    return simple("max", detail::ExtremePartial<true>{}, detail::ExtremeCombine<true>{},
                  detail::ExtremeFinal<true>{}, o);
  }
  /// Mean, variance and standard deviation (divided by count - ddof, as Dask's default 0).
  /// The task fails on an empty bag.
  Delayed<double> mean(ReduceOptions o = {}) const { return moments("mean", 0, 0.0, o); }
  Delayed<double> var(double ddof = 0, ReduceOptions o = {}) const { return moments("var", 1, ddof, o); }
  Delayed<double> std(double ddof = 0, ReduceOptions o = {}) const { return moments("std", 2, ddof, o); }
  /// Whether any / all elements are true (an empty bag: any false, all true).
  Delayed<bool> any(ReduceOptions o = {}) const {
    return simple("any", detail::TruthPartial<false>{}, detail::TruthCombine<false>{},
                  detail::TruthCombine<false>{}, o);
  }
  Delayed<bool> all(ReduceOptions o = {}) const {
    return simple("all", detail::TruthPartial<true>{}, detail::TruthCombine<true>{},
                  detail::TruthCombine<true>{}, o);
  }
  /// (element, count) for each distinct element, in no particular order: one partition.
  Bag<std::pair<T, std::int64_t>> frequencies(ReduceOptions o = {}) const {
    return single(simple("frequencies", detail::FrequenciesPartial{}, detail::FrequenciesCombine{},
                         detail::FrequenciesCombine{}, o));
  }
  /// The k largest elements by key(const T&) (default: the element), largest first: one
  /// partition.
  template <class K = detail::IdentityKey>
  Bag<T> topk(std::size_t k, K key = {}, ReduceOptions o = {}) const {
    detail::check_callable<K>();
    const std::uint64_t kk = k;
    auto partials = partition_tasks(detail::TopK<K>{key}, "topk-partial", npartitions(), kk);
    using M = detail::TopKMerge<K>;
    auto comb = tessera::delayed(M{key}, {.name = task_name("topk") + "-combine", .pure = detail::keyable_v<M>});
    auto fin = tessera::delayed(M{key}, {.name = task_name("topk") + "-aggregate", .pure = detail::keyable_v<M>});
    return single(detail::tree_reduce(
        std::move(partials), o.split_every, [&](const auto& g) { return comb(g, kk); },
        [&](const auto& g) { return fin(g, kk); }));
  }
  /// Each distinct element once, in no particular order: sets of the partitions united in a
  /// tree (as Dask's default): one partition.
  Bag<T> distinct(ReduceOptions o = {}) const {
    return single(simple("distinct", detail::DistinctPartial{}, detail::DistinctMerge{},
                         detail::DistinctMerge{}, o));
  }
  /// Dask's foldby without a shuffle: in each partition acc[key(x)] = binop(acc, x) from
  /// `initial`; then, in a tree, out[k] = combine(out[k], acc) from `combine_initial`.
  /// Returns (key, value) pairs in no particular order, in one partition.
  template <class K, class B, class A, class C, class R>
  auto foldby(K key, B binop, A initial, C combine, R combine_initial, ReduceOptions o = {}) const {
    detail::check_callable<K>();
    detail::check_callable<B>();
    detail::check_callable<C>();
    auto partials = partition_tasks(detail::FoldbyPartial<K, B>{key, binop}, "foldby-partial",
                                    npartitions(), initial);
    using KeyT = std::decay_t<std::invoke_result_t<const K&, const T&>>;
    using F = detail::FoldbyCombine<C>;
    const std::string base = task_name("foldby");
    if constexpr (std::is_same_v<A, R>) {
      auto comb = tessera::delayed(F{combine}, {.name = base + "-combine", .pure = detail::keyable_v<F>});
      return single(detail::tree_reduce(
          std::move(partials), o.split_every, [&](const auto& g) { return comb(g, combine_initial); },
          [&](const auto& g) { return comb(g, combine_initial); }));
    } else {
      // The partials' type differs from the result's: combine the partials once, in one task.
      auto fin = tessera::delayed(F{combine}, {.name = base + "-aggregate", .pure = detail::keyable_v<F>});
      return Bag<std::pair<KeyT, R>>({fin(partials, combine_initial)});
    }
  }
  /// Dask's groupby: (key, every element with that key) pairs, through the all-to-all shuffle
  /// (scheduling/shuffle.hpp): each input partition sends each element to the output partition
  /// of its key's hash, worker to worker under MPI, spilling under the memory limit; then each
  /// output partition is grouped. Groups come in order of their first element within the output
  /// partition, elements in input order. O(N + M) tasks. Prefer foldby when a per-key fold is
  /// enough: it moves only one accumulator per key and partition.
  /// Throws at compute(): TaskError naming the shuffle and partition when key() throws.
  template <class K>
  auto groupby(K key, GroupbyOptions o = {}) const {
    detail::check_callable<K>();
    using KeyT = std::decay_t<std::invoke_result_t<const K&, const T&>>;
    const std::size_t n_out = o.npartitions != 0 ? o.npartitions : std::max<std::size_t>(1, npartitions());
    auto shuffled = tessera::hash_shuffle(to_delayed(), n_out, key, {.name = task_name("groupby")});
    using G = detail::GroupPartition<K>;
    auto group = tessera::delayed(G{key}, {.name = task_name("groupby-group"), .pure = detail::keyable_v<G>});
    std::vector<Delayed<std::vector<std::pair<KeyT, std::vector<T>>>>> out;
    out.reserve(shuffled.size());
    for (const auto& p : shuffled) out.push_back(group(p));
    return Bag<std::pair<KeyT, std::vector<T>>>(std::move(out));
  }
  /// foldby with combine = binop and combine_initial = initial.
  template <class K, class B, class A>
  auto foldby(K key, B binop, A initial, ReduceOptions o = {}) const {
    return foldby(key, binop, initial, binop, initial, o);
  }

  // ---- output and control --------------------------------------------------------------------

  /// The first n elements, computing only the first `npartitions` partitions (-1: all) on the
  /// default scheduler, or on `scheduler`. Blocks. Collective: rank 0 only under MPI.
  std::vector<T> take(std::size_t n, int npartitions = 1) const {
    auto s = default_scheduler();
    return take(n, npartitions, *s);
  }
  std::vector<T> take(std::size_t n, int npartitions, Scheduler& scheduler) const {
    const std::size_t k =
        npartitions < 0 ? m_parts.size() : std::min<std::size_t>(static_cast<std::size_t>(npartitions), m_parts.size());
    if (k == 0) return {};
    auto heads = partition_tasks(detail::Head{}, "take", k, std::uint64_t{n});
    auto out = detail::concat(tessera::compute(heads, scheduler));
    if (out.size() > n) out.resize(n);
    return out;
  }
  /// The partitions as tasks (materializing the pending operations: one task each).
  [[nodiscard]] std::vector<Delayed<std::vector<T>>> to_delayed() const {
    if constexpr (detail::is_identity_v<Pipe>) {
      return m_parts;
    } else {
      return partition_tasks(detail::Elements{}, "", npartitions());
    }
  }
  /// The same bag without pending operations (their task per partition is built now).
  [[nodiscard]] Bag<T> materialize() const { return Bag<T>(to_delayed()); }
  operator Bag<T>() const  // NOLINT(google-explicit-constructor): Bag<T> b = x.map(f) materializes
    requires(!detail::is_identity_v<Pipe>)
  {
    return materialize();
  }
  /// Computes and keeps the partitions (tessera::persist); later graphs reuse them.
  [[nodiscard]] Bag<T> persist() const;
  /// The task graph behind the bag, for inspection and drawing (TaskGraph::to_dot, visualize).
  [[nodiscard]] TaskGraph task_graph() const { return TaskGraph::of(to_delayed()); }
  /// Draws the graph: DOT for .dot/.gv, Graphviz's `dot` for .svg/.png/.pdf.
  /// Throws: GraphError naming the file if it cannot be written.
  void visualize(const std::string& path) const { task_graph().visualize(path); }

  /// The source partitions and the pending pipeline (for tessera's own operations).
  [[nodiscard]] const std::vector<Partition>& partitions() const noexcept { return m_parts; }
  [[nodiscard]] const Pipe& pipe() const noexcept { return m_pipe; }

  /// Builds one task per partition (the first `count`): the pending operations, then
  /// g(elements, extra...). For tessera's own operations and extensions.
  template <class G, class... E>
  auto partition_tasks(G g, const std::string& name, std::size_t count, const E&... extra) const {
    auto fn = fused(std::move(g), name);
    using D = decltype(fn(std::declval<const Partition&>(), std::uint64_t{0}, extra...));
    std::vector<D> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.push_back(fn(m_parts[i], std::uint64_t{i}, extra...));
    return out;
  }
  /// The same for partition `i` alone.
  template <class G, class... E>
  auto partition_task(G g, const std::string& name, std::size_t i, const E&... extra) const {
    return fused(std::move(g), name)(m_parts.at(i), std::uint64_t{i}, extra...);
  }

private:
  template <class U, class P2>
  friend class Bag;

  template <class G>
  auto fused(G g, const std::string& name) const {
    using F = detail::Fused<Pipe, G>;
    return tessera::delayed(F{m_pipe, std::move(g)}, {.name = task_name(name), .pure = detail::keyable_v<F>});
  }

  [[nodiscard]] std::string task_name(const std::string& name) const {
    if (m_names.empty()) return name.empty() ? "bag" : name;
    return name.empty() ? m_names : m_names + "-" + name;
  }

  template <class S>
  auto then(S stage, const char* name) const {
    auto pipe = detail::compose(m_pipe, stage);
    using P = decltype(pipe);
    return Bag<typename P::out_type, P>(m_parts, std::move(pipe), task_name(name));
  }

  template <class U>
  static Bag<U> from_tasks(std::vector<Delayed<std::vector<U>>> tasks) {
    return Bag<U>(std::move(tasks));
  }
  template <class U>
  static Bag<typename U::value_type> single(Delayed<U> d) {
    return Bag<typename U::value_type>({std::move(d)});
  }

  template <class Partials, class Comb, class Fin>
  auto tree(Partials partials, ReduceOptions o, Comb& comb, Fin& fin) const {
    return detail::tree_reduce(
        std::move(partials), o.split_every, [&](const auto& g) { return comb(g); },
        [&](const auto& g) { return fin(g); });
  }

  template <class P, class C, class F>
  auto simple(const char* name, P partial, C combine, F finish, ReduceOptions o) const {
    const std::string base = task_name(name);
    auto partials = partition_tasks(partial, std::string(name) + "-partial", npartitions());
    auto comb = tessera::delayed(combine, {.name = base + "-combine", .pure = true});
    auto fin = tessera::delayed(finish, {.name = base + "-aggregate", .pure = true});
    return tree(std::move(partials), o, comb, fin);
  }

  Delayed<double> moments(const char* name, int kind, double ddof, ReduceOptions o) const {
    const std::string base = task_name(name);
    auto partials = partition_tasks(detail::MomentsPartial{}, std::string(name) + "-partial", npartitions());
    auto comb = tessera::delayed(detail::MomentsCombine{}, {.name = base + "-combine", .pure = true});
    auto fin = tessera::delayed(detail::MomentsFinal{}, {.name = base + "-aggregate", .pure = true});
    return detail::tree_reduce(
        std::move(partials), o.split_every, [&](const auto& g) { return comb(g); },
        [&](const auto& g) { return fin(g, kind, ddof); });
  }

  std::vector<Partition> m_parts;
  Pipe m_pipe{};
  std::string m_names;
};

// ---- creation --------------------------------------------------------------------------------

/// Options of from_sequence: give at most one of them.
struct SequenceOptions {
  /// Number of partitions (<= the number of elements, at least 1).
  std::size_t npartitions = 0;
  /// Elements per partition (the last may have fewer).
  std::size_t partition_size = 0;
};

namespace detail {
/// Elements per partition: Dask's rule when neither option is given (1 up to 100 elements,
/// else about 100 partitions). Throws: GraphError if both are given.
std::size_t partition_size_for(std::size_t n, const SequenceOptions& o);
}  // namespace detail

/// A bag over the elements of `seq` (a vector or any input range), cut into partitions held in
/// the graph as literals. Throws: GraphError if both npartitions and partition_size are given.
template <std::ranges::input_range R>
auto from_sequence(const R& seq, SequenceOptions o = {}) {
  using T = std::ranges::range_value_t<R>;
  std::vector<T> all(std::ranges::begin(seq), std::ranges::end(seq));
  const std::size_t size = detail::partition_size_for(all.size(), o);
  std::vector<Delayed<std::vector<T>>> parts;
  for (std::size_t i = 0; i < all.size(); i += size) {
    const auto end = std::min(all.size(), i + size);
    parts.push_back(tessera::literal(std::vector<T>(all.begin() + static_cast<std::ptrdiff_t>(i),
                                                    all.begin() + static_cast<std::ptrdiff_t>(end)),
                                     "from_sequence"));
  }
  if (parts.empty()) parts.push_back(tessera::literal(std::vector<T>{}, "from_sequence"));
  return Bag<T>(std::move(parts));
}
template <class T>
Bag<T> from_sequence(std::initializer_list<T> seq, SequenceOptions o = {}) {
  return from_sequence(std::vector<T>(seq), o);
}

/// 0, 1, ..., n - 1 in `npartitions` partitions, each computed by its task.
/// Throws: GraphError if npartitions is 0.
Bag<std::int64_t> range(std::int64_t n, std::size_t npartitions);

/// A bag over existing partition tasks (Dask's from_delayed).
template <class T>
Bag<T> from_delayed(std::vector<Delayed<std::vector<T>>> partitions) {
  if (partitions.empty()) TESSERA_THROW(GraphError, "from_delayed: no partitions");
  return Bag<T>(std::move(partitions));
}

}  // namespace tessera::bag

namespace tessera {

/// compute()/persist() see a Bag as its partition tasks; compute gives all elements in order.
template <class T, class P>
struct Collection<bag::Bag<T, P>> {
  using result_type = std::vector<T>;
  static void roots(const bag::Bag<T, P>& b, std::vector<detail::NodePtr>& out) {
    for (const auto& d : b.to_delayed()) Collection<Delayed<std::vector<T>>>::roots(d, out);
  }
  static std::vector<T> finalize(const bag::Bag<T, P>&, std::span<const Value> parts) {
    std::vector<std::vector<T>> v;
    v.reserve(parts.size());
    for (const auto& p : parts) v.push_back(detail::extract<std::vector<T>>(p));
    return bag::detail::concat(v);
  }
  static bag::Bag<T> rebuild(const bag::Bag<T, P>&, std::span<const detail::NodePtr> nodes) {
    std::vector<Delayed<std::vector<T>>> parts;
    parts.reserve(nodes.size());
    for (const auto& n : nodes) parts.emplace_back(n);
    return bag::Bag<T>(std::move(parts));
  }
};

template <class T, class P>
bag::Bag<T> bag::Bag<T, P>::persist() const {
  return tessera::persist(*this);
}

}  // namespace tessera

#include <tessera/collections/bag/text.hpp>
