#pragma once

// Bag behaviour, written once. Include after defining TESSERA_TEST_SCHEDULERS and
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Run on sync and threads (tests/unit/bag) and under MPI at 1-4 ranks (tests/mpi/bag).

#include <tessera/collections/bag/bag.hpp>
#include <tessera/collections/bag/json.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "unit/bag/bag_files.hpp"
#include "unit/bag/json_testing.hpp"

namespace bagtest {

namespace tb = tessera::bag;

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

inline std::vector<int> iota_vec(int n, int from = 0) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

/// The message of the exception compute() throws for `f`, or "" if none.
template <class F>
std::string failure_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

/// Sets the default scheduler for a scope (the API example computes without naming one).
class DefaultScheduler {
public:
  explicit DefaultScheduler(std::shared_ptr<tessera::Scheduler> s) { tessera::set_default_scheduler(std::move(s)); }
  ~DefaultScheduler() { tessera::set_default_scheduler(nullptr); }
  DefaultScheduler(const DefaultScheduler&) = delete;
  DefaultScheduler& operator=(const DefaultScheduler&) = delete;
};

// The helpers the issue's API example assumes.
inline std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> out;
  std::string w;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == ',' || c == '.') {
      if (!w.empty()) out.push_back(std::move(w));
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}
inline long amount_sum(const tessera::Json& r) {
  long s = 0;
  for (const auto& t : r["transactions"]) s += t["amount"].get<long>();
  return s;
}

}  // namespace bagtest

// ---- creation, take, fusion -----------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: from_sequence cuts partitions as Dask does and compute keeps the order", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  const auto v = bagtest::iota_vec(10, 1);
  auto b = tb::from_sequence(v, {.npartitions = 2});
  CHECK(b.npartitions() == 2);
  CHECK(tessera::compute(b, sched) == v);
  CHECK(tb::from_sequence(v, {.partition_size = 3}).npartitions() == 4);
  CHECK(tb::from_sequence(v).npartitions() == 10);                          // <= 100: one each
  CHECK(tb::from_sequence(bagtest::iota_vec(1000)).npartitions() == 100);  // else about 100
  CHECK(tessera::compute(tb::from_sequence(std::vector<int>{}), sched).empty());
  CHECK_THROWS_AS(tb::from_sequence(v, {.npartitions = 2, .partition_size = 2}), tessera::GraphError);
  auto squares = tb::from_sequence(std::views::iota(0, 6) | std::views::transform([](int x) { return x * x; }),
                                   {.npartitions = 4});
  CHECK(squares.npartitions() == 3);  // partitions of ceil(6 / 4) = 2
  CHECK(tessera::compute(squares, sched) == std::vector<int>{0, 1, 4, 9, 16, 25});
  CHECK(tessera::compute(tb::from_sequence({"a", "b"}), sched).size() == 2);
  auto r = tb::range(10, 3);
  CHECK(r.npartitions() == 3);
  CHECK(tessera::compute(r, sched) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE_TEMPLATE("bag: take computes only the partitions it needs", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(10, 1), {.npartitions = 2});
  // Elements of partition 1 (6..10) fail: take(3) must never run partition 1.
  auto guarded = b.map([](int x) {
    if (x > 5) throw std::runtime_error("partition 1 was computed");
    return x;
  });
  CHECK(guarded.take(3, 1, *sched) == std::vector<int>{1, 2, 3});
  CHECK(guarded.take(100, 1, *sched) == std::vector<int>{1, 2, 3, 4, 5});  // fewer than asked
  CHECK_THROWS_AS(guarded.take(7, 2, *sched), tessera::TaskError);
  CHECK(b.take(7, 2, *sched) == std::vector<int>{1, 2, 3, 4, 5, 6, 7});
  CHECK(b.take(7, -1, *sched) == std::vector<int>{1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE_TEMPLATE("bag: element-wise chains fuse into one task per partition", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(10, 1), {.npartitions = 2});
  auto even_sq = b.filter([](int x) { return x % 2 == 0; }).map([](int x) { return x * x; });
  static_assert(decltype(even_sq)::is_pending());
  const auto g = even_sq.task_graph();
  CHECK(g.size() == 4);  // 2 literal partitions + 2 fused tasks
  CHECK(g.count_by_name().at("filter-map") == 2);
  CHECK(tessera::compute(even_sq, sched) == std::vector<int>{4, 16, 36, 64, 100});
  // A longer chain with every element-wise operation, then a reduction: still one task each.
  int offset = 3;  // captured by value: the chain stays trivially copyable
  auto chain = b.remove([](int x) { return x == 1; })
                   .flat_map([](int x) { return std::vector<int>{x, -x}; })
                   .map([offset](int x) { return std::make_pair(x, x + offset); })
                   .starmap([](int a, int c) { return std::make_tuple(a, c, a * c); })
                   .template pluck<2>();
  static_assert(std::is_trivially_copyable_v<std::decay_t<decltype(chain.pipe())>>);
  auto total = chain.sum();
  CHECK(tessera::TaskGraph::of(total).count_by_name().at("remove-flat_map-map-starmap-pluck-sum-partial") == 2);
  long want = 0;
  for (int x = 2; x <= 10; ++x) want += static_cast<long>(x) * (x + offset) + static_cast<long>(-x) * (-x + offset);
  CHECK(tessera::compute(total, sched) == want);
  // Equal operations on equal partitions share their pure keys.
  auto twice = b.map([](int x) { return x + 1; });
  CHECK(twice.to_delayed()[0].key() == twice.to_delayed()[0].key());
  // Converting to Bag<T> materializes (one task per partition, no pending pipeline).
  tb::Bag<int> m = even_sq;
  static_assert(!tb::Bag<int>::is_pending());
  CHECK(tessera::compute(m, sched) == std::vector<int>{4, 16, 36, 64, 100});
}

TEST_CASE_TEMPLATE("bag: map_partitions, pluck by key, join, product and repartition", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(10, 1), {.npartitions = 3});
  auto sizes = b.map_partitions([](const std::vector<int>& p) { return std::vector<std::size_t>{p.size()}; });
  CHECK(tessera::compute(sizes, sched) == std::vector<std::size_t>{4, 4, 2});

  auto maps = tb::from_sequence(std::vector<std::map<std::string, int>>{{{"a", 1}}, {{"a", 2}}, {{"a", 3}}},
                                {.npartitions = 2});
  CHECK(tessera::compute(maps.pluck(std::string("a")), sched) == std::vector<int>{1, 2, 3});

  const std::vector<std::pair<int, std::string>> names{{2, "two"}, {3, "three"}, {3, "drei"}};
  auto joined = b.join(names, [](int x) { return x; }, [](const std::pair<int, std::string>& p) { return p.first; });
  const auto j = tessera::compute(joined, sched);
  REQUIRE(j.size() == 3);
  CHECK(j[0].first.second == "two");
  CHECK(j[0].second == 2);
  CHECK(j[1].first.second == "three");
  CHECK(j[2].first.second == "drei");
  CHECK(j[2].second == 3);

  auto small = tb::from_sequence(std::vector<int>{1, 2}, {.npartitions = 2});
  auto letters = tb::from_sequence(std::vector<char>{'a', 'b', 'c'}, {.npartitions = 2});
  auto prod = small.product(letters);
  CHECK(prod.npartitions() == 4);
  const auto pv = bagtest::sorted(tessera::compute(prod, sched));
  CHECK(pv == std::vector<std::pair<int, char>>{{1, 'a'}, {1, 'b'}, {1, 'c'}, {2, 'a'}, {2, 'b'}, {2, 'c'}});

  for (std::size_t n : {1u, 2u, 3u, 5u, 11u}) {
    auto rp = b.repartition(n);
    CHECK(rp.npartitions() == n);
    CHECK(tessera::compute(rp, sched) == bagtest::iota_vec(10, 1));
  }
  CHECK_THROWS_AS(b.repartition(0), tessera::GraphError);

  auto parts = b.to_delayed();
  CHECK(parts.size() == 3);
  auto back = tb::from_delayed(parts);
  CHECK(tessera::compute(back.count(), sched) == 10);
}

// ---- reductions -----------------------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: fold and reduction are trees of split_every", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(10, 1), {.npartitions = 2});
  CHECK(tessera::compute(b.fold(std::plus<>{}, 0L), sched) == 55);
  auto many = tb::from_sequence(bagtest::iota_vec(100, 1), {.npartitions = 20});
  auto f = many.fold(std::plus<>{}, 0L, {.split_every = 2});
  CHECK(tessera::compute(f, sched) == 5050);
  // 20 partials -> 10 -> 5 -> 3 -> 2 combine levels, then the aggregate.
  const auto g = tessera::TaskGraph::of(f);
  CHECK(g.count_by_name().at("fold-partial") == 20);
  CHECK(g.count_by_name().at("fold-combine") == 10 + 5 + 2 + 1);
  CHECK(g.count_by_name().at("fold-aggregate") == 1);
  CHECK(g.depth() == 7);  // literal, partial, 4 combine levels (20->10->5->3->2), aggregate
  // Separate combine: count elements with binop, add counts with combine.
  auto n = many.fold([](long acc, int) { return acc + 1; }, std::plus<>{}, 0L);
  CHECK(tessera::compute(n, sched) == 100);
  auto longest = many.reduction([](const std::vector<int>& p) { return static_cast<long>(p.size()); },
                                [](const std::vector<long>& ps) { return *std::max_element(ps.begin(), ps.end()); },
                                {.split_every = 3});
  CHECK(tessera::compute(longest, sched) == 5);
  CHECK_THROWS_AS(b.fold(std::plus<>{}, 0L, {.split_every = 1}), tessera::GraphError);
}

TEST_CASE_TEMPLATE("bag: count, sum, min, max, mean, var, std, any, all", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  std::vector<double> v;
  for (int i = 0; i < 57; ++i) v.push_back(std::sin(i) * 10 + i % 7);
  auto b = tb::from_sequence(v, {.npartitions = 9});
  const double n = static_cast<double>(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  auto [count, sum, mn, mx, m, var, sd, var1] =
      tessera::compute(b.count(), b.sum({.split_every = 2}), b.min(), b.max(), b.mean(), b.var(),
                       b.std(), b.var(1.0), sched);
  CHECK(count == 57);
  CHECK(sum == doctest::Approx(std::accumulate(v.begin(), v.end(), 0.0)));
  CHECK(mn == *std::min_element(v.begin(), v.end()));
  CHECK(mx == *std::max_element(v.begin(), v.end()));
  CHECK(m == doctest::Approx(mean));
  CHECK(var == doctest::Approx(ss / n));
  CHECK(sd == doctest::Approx(std::sqrt(ss / n)));
  CHECK(var1 == doctest::Approx(ss / (n - 1)));
  auto ints = tb::from_sequence(std::vector<int>{0, 0, 3, 0}, {.npartitions = 2});
  CHECK(tessera::compute(ints.any(), sched));
  CHECK_FALSE(tessera::compute(ints.all(), sched));
  CHECK(tessera::compute(ints.map([](int x) { return x + 1; }).all(), sched));
  CHECK_FALSE(tessera::compute(ints.filter([](int x) { return x > 5; }).any(), sched));
  auto empty = ints.filter([](int x) { return x > 5; });
  CHECK(tessera::compute(empty.count(), sched) == 0);
  CHECK(bagtest::failure_of([&] { (void)tessera::compute(empty.max(), sched); }).find("max() of an empty bag") !=
        std::string::npos);
}

TEST_CASE_TEMPLATE("bag: frequencies, topk and distinct", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  std::vector<std::string> words;
  std::map<std::string, std::int64_t> want;
  for (int i = 0; i < 300; ++i) {
    std::string w = "w" + std::to_string((i * 7919) % 23 % (1 + i % 11));
    words.push_back(w);
    ++want[w];
  }
  auto b = tb::from_sequence(words, {.npartitions = 13});
  auto freq = b.frequencies({.split_every = 3});
  CHECK(freq.npartitions() == 1);
  const auto got = tessera::compute(freq, sched);
  CHECK(std::map<std::string, std::int64_t>(got.begin(), got.end()) == want);
  auto top = tessera::compute(freq.topk(3, [](const auto& kv) { return kv.second; }), sched);
  std::vector<std::int64_t> counts;
  for (const auto& [w, c] : want) counts.push_back(c);
  std::sort(counts.rbegin(), counts.rend());
  REQUIRE(top.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(top[i].second == counts[i]);
    CHECK(want.at(top[i].first) == top[i].second);
  }
  auto nums = tb::from_sequence(bagtest::iota_vec(50), {.npartitions = 7});
  CHECK(tessera::compute(nums.topk(4, tb::detail::IdentityKey{}, {.split_every = 2}), sched) ==
        std::vector<int>{49, 48, 47, 46});
  CHECK(tessera::compute(nums.topk(2, [](int x) { return -x; }), sched) == std::vector<int>{0, 1});
  auto d = b.distinct({.split_every = 4});
  std::vector<std::string> keys;
  for (const auto& [w, c] : want) keys.push_back(w);
  CHECK(bagtest::sorted(tessera::compute(d, sched)) == keys);
}

TEST_CASE_TEMPLATE("bag: foldby combines inside partitions, then in a tree", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(100), {.npartitions = 11});
  auto by = b.foldby([](int x) { return x % 3; }, [](long acc, int x) { return acc + x; }, 0L,
                     std::plus<>{}, 0L, {.split_every = 2});
  auto got = bagtest::sorted(tessera::compute(by, sched));
  std::vector<std::pair<int, long>> want(3);
  for (int k = 0; k < 3; ++k) want[static_cast<std::size_t>(k)].first = k;
  for (int x = 0; x < 100; ++x) want[static_cast<std::size_t>(x % 3)].second += x;
  CHECK(got == want);
  // A count per key: binop counts inside partitions, combine adds the partial counts.
  auto counts = bagtest::sorted(tessera::compute(
      b.foldby([](int x) { return x % 2 == 0; }, [](int acc, int) { return acc + 1; }, 0, std::plus<>{}, 0), sched));
  CHECK(counts == std::vector<std::pair<bool, int>>{{false, 50}, {true, 50}});
  auto maxes = bagtest::sorted(tessera::compute(
      b.foldby([](int x) { return x % 4; }, [](int acc, int x) { return std::max(acc, x); }, -1), sched));
  CHECK(maxes == std::vector<std::pair<int, int>>{{0, 96}, {1, 97}, {2, 98}, {3, 99}});
  // Partials of another type than the result: partial counts (int), result as strings' length sum.
  auto mixed = b.foldby([](int x) { return x % 2; }, [](int acc, int) { return acc + 1; }, 0,
                        [](std::string acc, int c) { return acc + std::string(static_cast<std::size_t>(c), '.'); },
                        std::string());
  auto mv = bagtest::sorted(tessera::compute(mixed, sched));
  REQUIRE(mv.size() == 2);
  CHECK(mv[0].second.size() == 50);
  CHECK(mv[1].second.size() == 50);
}

TEST_CASE_TEMPLATE("bag: groupby brings every element of a key together, through the shuffle", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  // Skewed: key 0 holds half the elements; 7 input partitions (one empty), 3 and 10 outputs.
  std::vector<int> xs;
  for (int i = 0; i < 2000; ++i) xs.push_back(i % 2 == 0 ? 0 : i);
  auto b = tb::from_sequence(xs, {.npartitions = 7}).map([](int x) { return x; });
  for (std::size_t out : {std::size_t{3}, std::size_t{10}}) {
    auto g = b.groupby([](int x) { return x % 13; }, {.npartitions = out});
    CHECK(g.npartitions() == out);
    std::map<int, std::vector<int>> got;
    for (const auto& [k, members] : tessera::compute(g, sched)) {
      REQUIRE(got.count(k) == 0);
      got[k] = members;
    }
    std::map<int, std::vector<int>> want;
    for (int x : xs) want[x % 13].push_back(x);  // elements in input order within a group
    CHECK(got == want);
  }
  // The graph is O(N + M): N transfers, a barrier, M unpacks, M groups (plus the N inputs).
  auto g = tb::from_sequence(xs, {.npartitions = 7}).groupby([](int x) { return x % 5; }, {.npartitions = 4});
  CHECK(g.task_graph().size() == 7 + 7 + 1 + 4 + 4);
  // An empty bag groups into nothing.
  CHECK(tessera::compute(tb::from_sequence(std::vector<int>{}, {.npartitions = 2})
                             .groupby([](int x) { return x; }), sched).empty());
}

TEST_CASE_TEMPLATE("bag: persist keeps the partitions and later graphs reuse them", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(20), {.npartitions = 4}).map([](int x) { return x * 2; });
  auto p = tessera::persist(b, sched);
  CHECK(p.npartitions() == 4);
  CHECK(p.to_delayed()[1].key() == b.to_delayed()[1].key());  // same keys
  CHECK(p.to_delayed()[1].node()->is_computed());
  CHECK(tessera::compute(p.sum(), sched) == 380);
}

TEST_CASE_TEMPLATE("bag: reductions after a pipeline take the elements one at a time, with the same results",
                   S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(60), {.npartitions = 7});
  auto piped = b.map([](int x) { return x; });  // same elements, pending: the streaming path
  static_assert(tb::detail::Streaming<tb::detail::FrequenciesPartial, int>);
  static_assert(tb::detail::Streaming<tb::detail::CountPartial, int>);
  static_assert(tb::detail::Streaming<tb::detail::SumAll, int>);
  static_assert(tb::detail::Streaming<tb::detail::FoldPartial<std::plus<>>, int, long>);
  static_assert(!tb::detail::Streaming<tb::detail::TopK<tb::detail::IdentityKey>, int, std::uint64_t>);
  auto by_key = [](int x) { return x % 5; };
  auto add = [](long acc, int x) { return acc + x; };
  CHECK(tessera::compute(piped.fold(add, std::plus<>{}, 1000L), sched) ==
        tessera::compute(b.fold(add, std::plus<>{}, 1000L), sched));
  CHECK(bagtest::sorted(tessera::compute(piped.foldby(by_key, add, 0L, std::plus<>{}, 0L), sched)) ==
        bagtest::sorted(tessera::compute(b.foldby(by_key, add, 0L, std::plus<>{}, 0L), sched)));
  CHECK(bagtest::sorted(tessera::compute(piped.frequencies(), sched)) ==
        bagtest::sorted(tessera::compute(b.frequencies(), sched)));
  CHECK(tessera::compute(piped.count(), sched) == 60);
  CHECK(tessera::compute(piped.sum(), sched) == 59 * 60 / 2);
  // A binop failing inside the streaming partial names the element it was given.
  auto failing = piped.fold([](long acc, int x) {
    if (x == 20) throw std::runtime_error("twenty");
    return acc + x;
  }, 0L);
  const auto msg = bagtest::failure_of([&] { (void)tessera::compute(failing, sched); });
  CHECK(msg.find("bag partition 2, element 2") != std::string::npos);  // partitions of 9: 18, 19, 20
  CHECK(msg.find("twenty") != std::string::npos);
}

// ---- errors and drawing -----------------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: a failing element names its partition and index", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  auto b = tb::from_sequence(bagtest::iota_vec(12), {.npartitions = 3});
  auto bad = b.filter([](int x) { return x != 0; }).map([](int x) {
    if (x == 9) throw std::domain_error("nine is bad");
    return 100 / x;
  });
  const auto msg = bagtest::failure_of([&] { (void)tessera::compute(bad, sched); });
  CHECK(msg.find("bag partition 2, element 1") != std::string::npos);  // 9 is element 1 of {8..11}
  CHECK(msg.find("nine is bad") != std::string::npos);
  const auto msg2 = bagtest::failure_of([&] { (void)tessera::compute(bad.count(), sched); });
  CHECK(msg2.find("bag partition 2, element 1") != std::string::npos);
  auto maps = tb::from_sequence(std::vector<std::map<std::string, int>>{{{"a", 1}}, {{"b", 2}}}, {.npartitions = 1});
  const auto msg3 = bagtest::failure_of([&] { (void)tessera::compute(maps.pluck(std::string("a")), sched); });
  CHECK(msg3.find("bag partition 0, element 1") != std::string::npos);
}

TEST_CASE_TEMPLATE("bag: graphs draw like the rest of the library", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto b = tb::from_sequence(bagtest::iota_vec(8), {.npartitions = 4}).map([](int x) { return x + 1; });
  const auto dot = tessera::TaskGraph::of(b.count()).to_dot();
  CHECK(dot.find("map-count-partial") != std::string::npos);
  CHECK(dot.find("count-aggregate") != std::string::npos);
  bagtest::TempDir dir;
  b.visualize(dir / "g.dot");
  CHECK(bagtest::read_file(dir / "g.dot").find("digraph") != std::string::npos);
}

// ---- text -------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: read_text gives each line once whatever the block size", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::TempDir dir;
  // Lines of many lengths, CRLF and LF, an empty line, and no newline at the end.
  const std::string a = "alpha\r\nbe\n\nlonger line here\r\nx\ny\r\n0123456789012345678901234\nend";
  const std::vector<std::string> want_a{"alpha", "be", "", "longer line here", "x", "y",
                                        "0123456789012345678901234", "end"};
  const std::string b = "one\ntwo\n";
  bagtest::write_file(dir / "a.txt", a);
  bagtest::write_file(dir / "b.txt", b);
  bagtest::write_file(dir / "c.txt", "");
  std::vector<std::string> want = want_a;
  want.push_back("one");
  want.push_back("two");
  for (std::uint64_t bs : {0, 1, 2, 3, 5, 7, 8, 16, 17, 64, 1000}) {
    CAPTURE(bs);
    auto lines = tb::read_text(dir / "*.txt", {.blocksize = bs});
    CHECK(tessera::compute(lines, sched) == want);
    if (bs == 1) CHECK(lines.npartitions() == a.size() + b.size() + 1);
  }
  CHECK(tessera::compute(tb::read_text(dir / "c.txt"), sched).empty());
  CHECK(tessera::compute(tb::read_text({dir / "b.txt", dir / "a.txt"}), sched).front() == "one");
  // Block boundaries exactly at line starts, and a file of one long line in small blocks.
  bagtest::write_file(dir / "d.log", "aaaa\nbbbb\ncccc\n");
  CHECK(tessera::compute(tb::read_text(dir / "d.log", {.blocksize = 5}), sched) ==
        std::vector<std::string>{"aaaa", "bbbb", "cccc"});
  bagtest::write_file(dir / "e.log", std::string(100, 'z'));
  auto one = tb::read_text(dir / "e.log", {.blocksize = 9});
  CHECK(one.npartitions() == 12);
  CHECK(tessera::compute(one, sched) == std::vector<std::string>{std::string(100, 'z')});
}

TEST_CASE_TEMPLATE("bag: read_text decompresses .gz and .zst by suffix", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + (i % 3 ? "\n" : "\r\n");
  bagtest::write_gzip(dir / "t.txt.gz", text);
  bagtest::write_zstd(dir / "t.txt.zst", text);
  bagtest::write_gzip(dir / "empty.gz", "");
  const auto want = bagtest::lines_of(text);
  CHECK(want.size() == 20000);
  auto gz = tb::read_text(dir / "t.txt.gz", {.blocksize = 1000});
  CHECK(gz.npartitions() == 1);
  CHECK(tessera::compute(gz, sched) == want);
  CHECK(tessera::compute(tb::read_text(dir / "t.txt.zst"), sched) == want);
  CHECK(tessera::compute(tb::read_text(dir / "empty.gz"), sched).empty());
  // A truncated zstd frame fails, naming the file.
  std::string z = bagtest::read_file(dir / "t.txt.zst");
  bagtest::write_file(dir / "cut.zst", z.substr(0, z.size() / 2));
  const auto msg = bagtest::failure_of([&] { (void)tessera::compute(tb::read_text(dir / "cut.zst"), sched); });
  CHECK(msg.find("cut.zst") != std::string::npos);
}

TEST_CASE_TEMPLATE("bag: read_text errors name the glob, the file and the line", S, TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::TempDir dir;
  try {
    (void)tb::read_text(dir / "nothing-*.txt");
    FAIL("no error for a glob that matches nothing");
  } catch (const tb::FileError& e) {
    CHECK(std::string(e.what()).find("nothing-*.txt") != std::string::npos);
    CHECK(std::string(e.what()).find("matches no file") != std::string::npos);
  }
  CHECK_THROWS_AS((void)tb::read_text(dir / "missing.txt"), tb::FileError);
  std::string text;
  for (int i = 1; i <= 50; ++i) text += i == 37 ? std::string("bad \xC3\x28 byte\n") : "ok " + std::to_string(i) + "\n";
  bagtest::write_file(dir / "u.txt", text);
  for (std::uint64_t bs : {0, 64}) {  // the bad line in the only block, and in a later block
    const auto msg = bagtest::failure_of([&] { (void)tessera::compute(tb::read_text(dir / "u.txt", {.blocksize = bs}), sched); });
    CHECK(msg.find("u.txt:37: invalid UTF-8") != std::string::npos);
  }
  auto raw = tb::read_text(dir / "u.txt", {.blocksize = 64, .encoding = tb::Encoding::bytes});
  CHECK(tessera::compute(raw.count(), sched) == 50);
  // Overlong forms and surrogates are not UTF-8 either; 4-byte characters are.
  bagtest::write_file(dir / "o.txt", "\xC0\xAF\n");
  bagtest::write_file(dir / "s.txt", "\xED\xA0\x80\n");
  bagtest::write_file(dir / "g.txt", "caf\xC3\xA9 \xF0\x9F\x98\x80\n");
  CHECK_THROWS_AS((void)tessera::compute(tb::read_text(dir / "o.txt"), sched), tessera::TaskError);
  CHECK_THROWS_AS((void)tessera::compute(tb::read_text(dir / "s.txt"), sched), tessera::TaskError);
  CHECK(tessera::compute(tb::read_text(dir / "g.txt"), sched).size() == 1);
}

TEST_CASE_TEMPLATE("bag: to_textfiles writes one file per partition, compressed by suffix", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::DefaultScheduler use(sched);
  bagtest::TempDir dir;
  auto b = tb::from_sequence(bagtest::iota_vec(10), {.npartitions = 3}).map([](int x) { return std::to_string(x); });
  const auto plain = tb::to_textfiles(b, dir / "out/part-*.txt");
  CHECK(plain == std::vector<std::string>{dir / "out/part-0.txt", dir / "out/part-1.txt", dir / "out/part-2.txt"});
  CHECK(bagtest::read_file(dir / "out/part-1.txt") == "4\n5\n6\n7\n");
  (void)tb::to_textfiles(b, dir / "gz/p-*.txt.gz");
  CHECK(bagtest::gunzip(dir / "gz/p-2.txt.gz") == "8\n9\n");
  (void)tb::to_textfiles(b, dir / "zst/p-*.zst");
  CHECK(bagtest::unzstd(dir / "zst/p-0.zst") == "0\n1\n2\n3\n");
  // Round trip through read_text.
  CHECK(tessera::compute(tb::read_text(dir / "gz/*.gz"), sched) == tessera::compute(b, sched));
  // A target that cannot be replaced (a non-empty directory) fails and leaves no temporary file.
  std::filesystem::create_directories(dir / "bad/p-1.txt/x");
  CHECK_THROWS_AS((void)tb::to_textfiles(b, dir / "bad/p-*.txt"), tessera::TaskError);
  for (const auto& f : bagtest::files_in(dir.path() / "bad")) CHECK(f.find(".tmp") == std::string::npos);
  CHECK_THROWS_AS((void)tb::to_textfiles(b, dir / "noglob.txt"), tb::FileError);
}

// ---- JSON -------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: read_json parses JSON lines, malformed lines raise or are skipped", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += i == 23 ? std::string("{\"id\": 23, \"name\": oops}\n")
                    : R"({"id": )" + std::to_string(i) + R"(, "name": "n)" + std::to_string(i % 4) + "\"}\n";
    if (i == 10) text += "\n";  // blank lines are no records
  }
  bagtest::write_file(dir / "r.jsonl", text);
  for (std::uint64_t bs : {0, 100}) {
    const auto msg = bagtest::failure_of([&] { (void)tessera::compute(tb::read_json(dir / "r.jsonl", {.blocksize = bs}), sched); });
    CHECK(msg.find("r.jsonl:25: malformed JSON") != std::string::npos);  // 23rd record + blank + 1
  }
  auto ok = tb::read_json(dir / "r.jsonl", {.blocksize = 100, .on_error = tb::OnError::skip});
  CHECK(ok.npartitions() > 5);
  CHECK(tessera::compute(ok.count(), sched) == 39);
  CHECK(tessera::compute(tb::count_malformed(dir / "r.jsonl"), sched) == 1);
  auto ids = ok.map([](const tessera::Json& r) { return r["id"].get<int>(); });
  CHECK(tessera::compute(ids.sum(), sched) == 39 * 40 / 2 - 23);
  auto names = bagtest::sorted(tessera::compute(ok.pluck(std::string("name")).distinct(), sched));
  CHECK(names == std::vector<tessera::Json>{"n0", "n1", "n2", "n3"});
  // Json values travel between tasks (and ranks) in binary and come back equal (types: test_json_codec).
  const tessera::Json doc = {{"a", {1, 2.5, "x", nullptr, true}}, {"b", {{"c", -7}}}};
  CHECK(tessera::decode<tessera::Json>(tessera::encode(doc)) == doc);
  CHECK(tessera::encode(doc).size() < doc.dump().size() + 8);
}

TEST_CASE_TEMPLATE("bag: read_json builds the same Json as nlohmann's parse, types included", S,
                   TESSERA_TEST_SCHEDULERS) {
  namespace tb = tessera::bag;
  auto sched = make_test_scheduler<S>();
  bagtest::TempDir dir;
  const std::vector<std::string> lines = {
      R"({"s": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t", "raw": "żółw 😀", "k\u00e9y": 1})",
      R"({"u": 18446744073709551615, "i": -9223372036854775808, "p": 9223372036854775807, "z": 0, "n": -1})",
      R"({"big": 100000000000000000000, "neg_big": -100000000000000000000})",
      R"([0.1, -2.5e-3, 1e308, 5e-324, 1.7976931348623157e308, 3.0, 1E2, -0.0, 0.0])",
      R"({"negzero_int": -0, "x": [-0]})",
      R"({"a": {"b": {"c": [[], {}, [[{}]], {"d": [null, true, false]}]}}})",
      R"({})", R"([])", R"("just a string")", R"(42)", R"(-7)", R"(null)", R"(true)", R"(1.5)",
      R"({"dup": 1, "other": [1], "dup": {"second": 2}, "dup": "third"})",
      R"(  {"spaced" : [ 1 , 2 ] }  )",
      R"({"z": 1, "a": 2, "m": {"y": 0, "b": 1}})",
      std::string(300, '[') + std::string(300, ']'),
      std::string(1100, '[') + std::string(1100, ']'),  // deeper than simdjson's default depth
  };
  std::string text;
  for (const auto& l : lines) text += l + "\r\n";
  bagtest::write_file(dir / "tricky.jsonl", text);
  bagtest::write_file(dir / "last.jsonl", lines[0]);  // no final newline: the parser may not read past it
  for (std::uint64_t bs : {0, 64}) {
    const auto got = tessera::compute(tb::read_json(dir / "tricky.jsonl", {.blocksize = bs}), sched);
    REQUIRE(got.size() == lines.size());
    for (std::size_t k = 0; k < lines.size(); ++k) {
      INFO("line ", k + 1, ": ", lines[k].substr(0, 80));
      CHECK(bagtest::same_json(got[k], tessera::Json::parse(lines[k])));
    }
  }
  const auto last = tessera::compute(tb::read_json(dir / "last.jsonl"), sched);
  REQUIRE(last.size() == 1);
  CHECK(bagtest::same_json(last[0], tessera::Json::parse(lines[0])));
  CHECK(last[0].at("k\u00e9y") == tessera::Json(1));
  // Lines both libraries reject: errors name the line, with nlohmann's message.
  for (const std::string bad : {R"({"a": 1,})", R"({"a": "\ud800"})", "{\"a\": \"\xff\"}", R"([1] [2])",
                                R"({"a": 01})", R"(nul)"}) {
    bagtest::write_file(dir / "bad.jsonl", "{}\n" + bad + "\n");
    INFO(bad);
    CHECK(bagtest::failure_of([&] { (void)tessera::compute(tb::read_json(dir / "bad.jsonl"), sched); })
              .find("bad.jsonl:2: malformed JSON") != std::string::npos);
  }
}

// ---- the issue's API example ----------------------------------------------------------------

TEST_CASE_TEMPLATE("bag: the API example of the issue runs as written", S, TESSERA_TEST_SCHEDULERS) {
  using bagtest::amount_sum;
  using bagtest::split_words;
  auto sched = make_test_scheduler<S>();
  bagtest::DefaultScheduler use(sched);
  bagtest::TempDir dir;
  std::filesystem::create_directories(dir / "books");
  bagtest::write_gzip(dir / "books/a.txt.gz", "the cat sat on the mat\nthe dog, the end.\n");
  bagtest::write_gzip(dir / "books/b.txt.gz", "a cat and a dog\nthe last line");
  const char* people[] = {"Alice", "Bob", "Carol"};
  for (int f = 0; f < 2; ++f) {
    std::string lines;
    for (int i = 0; i < 30; ++i) {
      const int id = f * 30 + i;
      tessera::Json r = {{"id", id}, {"name", people[id % 3]},
                         {"transactions", {{{"amount", id}}, {{"amount", 1}}}}};
      lines += r.dump() + "\n";
    }
    bagtest::write_gzip(dir / ("accounts." + std::to_string(f) + ".json.gz"), lines);
  }
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  struct Back {
    std::filesystem::path p;
    ~Back() { std::filesystem::current_path(p); }
  } back{cwd};

  // ---- as written in the issue ----
  namespace tb = tessera::bag;

  std::vector<int> one_to_ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto b = tb::from_sequence(one_to_ten, {.npartitions = 2});
  std::vector<int> first3 = b.take(3);                                   // {1, 2, 3}: runs partition 0 only
  auto even_sq = b.filter([](int x) { return x % 2 == 0; }).map([](int x) { return x * x; });
  std::vector<int> v = tessera::compute(even_sq);                        // {4, 16, 36, 64, 100}
  long total = tessera::compute(b.fold(std::plus<>{}, 0L));              // 55 (tree reduction)

  auto words = tb::read_text("books/*.txt.gz")                           // Bag<std::string>, one line each
                   .flat_map([](const std::string& line) { return split_words(line); });
  auto top = tessera::compute(words.frequencies().topk(10, [](const auto& kv) { return kv.second; }));
                                                                         // vector<pair<string, int64_t>>
  auto recs = tb::read_json("accounts.*.json.gz");                       // Bag<tessera::Json>, one per line
  auto alice = recs.filter([](const tessera::Json& r) { return r["name"].get<std::string>() == "Alice"; });
  std::int64_t n = tessera::compute(alice.count());
  auto by_name = recs.foldby([](const tessera::Json& r) { return r["name"].get<std::string>(); },
                             [](long acc, const tessera::Json& r) { return acc + amount_sum(r); }, 0L,
                             std::plus<>{}, 0L);                         // Bag<pair<string, long>>
  auto groups = recs.groupby([](const tessera::Json& r) { return r["id"].get<long>() % 7; });
                                                                         // Bag<pair<long, vector<Json>>>, shuffled
  tb::to_textfiles(words.distinct(), "out/part-*.txt");                  // one file per partition
  // ---- end of the example ----

  std::map<long, std::vector<long>> ids_by_group;
  for (const auto& [k, members] : tessera::compute(groups)) {
    REQUIRE(ids_by_group.count(k) == 0);  // each key once: the shuffle brought its records together
    for (const tessera::Json& r : members) ids_by_group[k].push_back(r["id"].get<long>());
  }
  REQUIRE(ids_by_group.size() == 7);
  for (auto& [k, ids] : ids_by_group) {
    std::sort(ids.begin(), ids.end());
    std::vector<long> want_ids;
    for (long id = k; id < 60; id += 7) want_ids.push_back(id);
    CHECK(ids == want_ids);
  }
  CHECK(first3 == std::vector<int>{1, 2, 3});
  CHECK(v == std::vector<int>{4, 16, 36, 64, 100});
  CHECK(total == 55);
  REQUIRE(top.size() == 10);
  CHECK(top[0] == std::pair<std::string, std::int64_t>{"the", 5});
  CHECK(top[1].second == 2);  // cat, dog, a: 2 each
  CHECK(n == 20);
  std::map<std::string, long> sums;
  for (const auto& [k, s] : tessera::compute(by_name)) sums[k] = s;
  std::map<std::string, long> want;
  for (int id = 0; id < 60; ++id) want[people[id % 3]] += id + 1;
  CHECK(sums == want);
  std::set<std::string> distinct_words;
  for (const auto& w : bagtest::lines_of(bagtest::read_file(dir / "out/part-0.txt"))) distinct_words.insert(w);
  CHECK(distinct_words.size() == 11);
  CHECK(distinct_words.count("mat") == 1);
}
