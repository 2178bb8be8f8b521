#pragma once

// DataFrame operations through the shuffle (merge, sort_values, set_index, loc), written once.
// Include after defining TESSERA_TEST_SCHEDULERS and make_test_scheduler<Tag>(). Results are
// compared with brute-force oracles written here and, bit for bit, with the sync scheduler.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace dataframe_shuffle {

namespace td = tessera::dataframe;

inline td::Table identity(const td::Table& t) { return t; }

/// A DataFrame of these partitions (each a task returning its table).
inline td::DataFrame frame_of(const std::vector<td::Table>& parts) {
  auto fn = tessera::delayed(&identity, {.name = "test-table", .pure = true});
  std::vector<tessera::Delayed<td::Table>> ps;
  for (const auto& p : parts) ps.push_back(fn(p));
  return td::DataFrame(td::schema_of(parts.at(0)), std::move(ps));
}

inline std::string cell(const td::Column& c, std::size_t i) {
  if (c.is_null(i) || (c.dtype == td::DType::float64 && std::isnan(c.f64[i]))) return "NA";
  switch (c.dtype) {
    case td::DType::int64:
    case td::DType::datetime:
    case td::DType::timedelta: return std::to_string(c.i64[i]);
    case td::DType::float64: return std::to_string(c.f64[i]);
    case td::DType::boolean: return c.b8[i] ? "T" : "F";
    case td::DType::string:
    case td::DType::category: return "'" + std::string(c.text(i)) + "'";
  }
  return "?";
}

/// Every row as "a|b|c", sorted (merge's row order is not pandas').
inline std::vector<std::string> sorted_rows(const td::Table& t) {
  std::vector<std::string> rows;
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    std::string r;
    for (std::size_t c = 0; c < t.num_columns(); ++c) r += (c ? "|" : "") + cell(t.column(c), i);
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Key k (int64, nulls where k_null), value v.
inline td::Table kv(const std::vector<std::int64_t>& k, const std::vector<bool>& k_null, td::Column v,
                    const std::string& vname) {
  td::Table t;
  auto kc = td::Column::from_int64(k);
  for (std::size_t i = 0; i < k_null.size(); ++i) {
    if (k_null[i]) kc.set_null(i);
  }
  t.add_column("k", std::move(kc));
  t.add_column(vname, std::move(v));
  return t;
}

/// Brute-force join of (k, a) with (k, b) on k, nulls matching nulls: rows "k|a|b".
inline std::vector<std::string> oracle_join(const td::Table& l, const td::Table& r, const std::string& how) {
  std::vector<std::string> rows;
  std::vector<bool> used(r.num_rows(), false);
  const auto& lk = l.column("k");
  const auto& rk = r.column("k");
  std::vector<std::string> rkeys;  // every pair is compared: the right keys' text once
  for (std::size_t j = 0; j < r.num_rows(); ++j) rkeys.push_back(cell(rk, j));
  for (std::size_t i = 0; i < l.num_rows(); ++i) {
    bool any = false;
    const std::string lkey = cell(lk, i);
    for (std::size_t j = 0; j < r.num_rows(); ++j) {
      if (lkey != rkeys[j]) continue;
      rows.push_back(cell(lk, i) + "|" + cell(l.column("a"), i) + "|" + cell(r.column("b"), j));
      any = true;
      used[j] = true;
    }
    if (!any && (how == "left" || how == "outer")) rows.push_back(cell(lk, i) + "|" + cell(l.column("a"), i) + "|NA");
  }
  for (std::size_t j = 0; j < r.num_rows(); ++j) {
    if (!used[j] && (how == "right" || how == "outer")) rows.push_back(cell(rk, j) + "|NA|" + cell(r.column("b"), j));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// Computes `joined` on `sched`, CHECKs that its rows are the brute-force join of l and r and
/// that it equals, bit for bit, the sync scheduler's result; returns it.
inline td::Table checked_join(const td::DataFrame& joined, const td::Table& l, const td::Table& r,
                              const std::string& how, const std::shared_ptr<tessera::Scheduler>& sched) {
  const td::Table got = tessera::compute(joined, sched);
  CHECK(sorted_rows(got) == oracle_join(l, r, how));
  CHECK(got == tessera::compute(joined, std::make_shared<tessera::SyncScheduler>()));
  return got;
}

inline std::vector<td::Table> left_parts() {
  return {kv({1, 2, 2, 0}, {false, false, false, true}, td::Column::from_int64({10, 20, 21, 30}), "a"),
          kv({}, {}, td::Column::from_int64({}), "a"),  // an empty partition
          kv({5, 1, 9}, {}, td::Column::from_int64({50, 11, 90}), "a")};
}
inline std::vector<td::Table> right_parts() {
  return {kv({2, 1, 0}, {false, false, true}, td::Column::from_strings({"two", "one", "null"}), "b"),
          kv({2, 7}, {}, td::Column::from_strings({"deux", "seven"}), "b")};
}

/// Sides whose joins give more rows than one block of matches (16384, join.cpp): left row i
/// of 8000 has key i % 150, right row j of 400 key j % 160 (keys 150-159 on the right only),
/// each with a null key every 97th / 131st row; b is a string.
inline std::vector<td::Table> many_left_parts() {
  std::vector<td::Table> parts;
  for (std::int64_t p = 0; p < 3; ++p) {
    std::vector<std::int64_t> k, a;
    std::vector<bool> nulls;
    for (std::int64_t i = p * 8000 / 3; i < (p + 1) * 8000 / 3; ++i) {
      k.push_back(i % 150);
      a.push_back(i);
      nulls.push_back(i % 97 == 3);
    }
    parts.push_back(kv(k, nulls, td::Column::from_int64(a), "a"));
  }
  return parts;
}
inline std::vector<td::Table> many_right_parts() {
  std::vector<td::Table> parts;
  for (std::int64_t p = 0; p < 2; ++p) {
    std::vector<std::int64_t> k;
    std::vector<std::string> b;
    std::vector<bool> nulls;
    for (std::int64_t j = p * 200; j < (p + 1) * 200; ++j) {
      k.push_back(j % 160);
      b.push_back("r" + std::to_string(j));
      nulls.push_back(j % 131 == 5);
    }
    parts.push_back(kv(k, nulls, td::Column::from_strings(b), "b"));
  }
  return parts;
}

/// Columns x (float, NaN at some rows), g (string with ties), i (int64) over 3 partitions.
inline std::vector<td::Table> sort_parts() {
  std::vector<td::Table> parts;
  int row = 0;
  for (int p = 0; p < 3; ++p) {
    std::vector<double> x;
    std::vector<std::string> g;
    std::vector<std::int64_t> i;
    for (int k = 0; k < 40 + 17 * p; ++k, ++row) {
      x.push_back(row % 9 == 4 ? std::nan("") : static_cast<double>((row * 37) % 23) - 11);
      g.push_back(std::string(1, "abc"[(row * 7) % 3]));
      i.push_back(row);
    }
    td::Table t;
    t.add_column("x", td::Column::from_float64(x));
    t.add_column("g", td::Column::from_strings(g));
    t.add_column("i", td::Column::from_int64(i));
    parts.push_back(t);
  }
  return parts;
}

/// The expected order by hand: stable, by g (ascending) then x (as asked), NaN last.
inline std::vector<std::int64_t> oracle_order(const td::Table& all, bool by_g, bool x_ascending) {
  std::vector<std::size_t> rows(all.num_rows());
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = k;
  const auto& x = all.column("x").f64;
  const auto& g = all.column("g");
  std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
    if (by_g && g.str(a) != g.str(b)) return g.str(a) < g.str(b);
    if (std::isnan(x[a]) || std::isnan(x[b])) return !std::isnan(x[a]) && std::isnan(x[b]);
    return x_ascending ? x[a] < x[b] : x[a] > x[b];
  });
  std::vector<std::int64_t> ids;
  for (auto r : rows) ids.push_back(all.column("i").i64[r]);
  return ids;
}

/// `parts` with column k moved into the index (named `name`).
inline std::vector<td::Table> indexed_by_k(const std::vector<td::Table>& parts, const std::string& name = "k") {
  std::vector<td::Table> out;
  for (const auto& p : parts) {
    td::Table t;
    for (std::size_t c = 0; c < p.num_columns(); ++c) {
      if (p.column_names()[c] != "k") t.add_column(p.column_names()[c], p.column(c));
    }
    t.set_index({name}, {p.column("k")});
    out.push_back(t);
  }
  return out;
}

/// Every row as "index|a|b|...", sorted.
inline std::vector<std::string> sorted_indexed_rows(const td::Table& t) {
  std::vector<std::string> rows;
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    std::string r = cell(t.index_columns().at(0), i);
    for (std::size_t c = 0; c < t.num_columns(); ++c) r += "|" + cell(t.column(c), i);
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace dataframe_shuffle

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("merge: inner, left, right and outer, duplicate and null keys, empty partitions", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const auto lp = left_parts();
  const auto rp = right_parts();
  const td::Table l = td::Table::concat(lp), r = td::Table::concat(rp);
  auto left = frame_of(lp);
  for (const char* how : {"inner", "left", "right", "outer"}) {
    CAPTURE(how);
    // Both sides of several partitions: the hash shuffle; the right side in one: broadcast.
    for (auto right : {frame_of(rp), frame_of({r})}) {
      auto joined = left.merge(right, {.on = {"k"}, .how = how});
      CHECK(joined.columns() == std::vector<std::string>{"k", "a", "b"});
      (void)checked_join(joined, l, r, how, sched);
    }
  }
  // The left side in one partition is broadcast for inner and right joins.
  auto one = frame_of({l});
  const td::Table got = tessera::compute(one.merge(frame_of(rp), {.on = {"k"}, .how = "right"}), sched);
  CHECK(sorted_rows(got) == oracle_join(l, r, "right"));
}

TEST_CASE_TEMPLATE("merge: npartitions sets the hash join's output partitions, results unchanged", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const auto lp = left_parts();
  const auto rp = right_parts();
  const td::Table l = td::Table::concat(lp), r = td::Table::concat(rp);
  for (const char* how : {"inner", "left", "right", "outer"}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{7}}) {
      CAPTURE(how);
      CAPTURE(n);
      auto joined = frame_of(lp).merge(frame_of(rp), {.on = {"k"}, .how = how, .npartitions = n});
      CHECK(joined.npartitions() == n);
      (void)checked_join(joined, l, r, how, sched);
    }
  }
}

TEST_CASE_TEMPLATE("merge: joins of more rows than one block of matches, nulls and one-sided keys", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const auto lp = many_left_parts();
  const auto rp = many_right_parts();
  const td::Table l = td::Table::concat(lp), r = td::Table::concat(rp);
  for (const char* how : {"inner", "left", "right", "outer"}) {
    CAPTURE(how);
    // One output partition: a single join of all rows (over 16384 of them, several blocks).
    auto joined = frame_of(lp).merge(frame_of(rp), {.on = {"k"}, .how = how, .npartitions = 1});
    CHECK(checked_join(joined, l, r, how, sched).num_rows() > 16384);
  }
}

TEST_CASE_TEMPLATE("merge: no matches, several keys, suffixes, left_on/right_on", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  auto l = frame_of({kv({1, 2}, {}, td::Column::from_int64({1, 2}), "a"),
                     kv({3}, {}, td::Column::from_int64({3}), "a")});
  auto r = frame_of({kv({7, 8}, {}, td::Column::from_strings({"x", "y"}), "b"),
                     kv({9}, {}, td::Column::from_strings({"z"}), "b")});
  CHECK(tessera::compute(l.merge(r, {.on = {"k"}}), sched).num_rows() == 0);
  CHECK(tessera::compute(l.merge(r, {.on = {"k"}, .how = "outer"}), sched).num_rows() == 6);
  // Two keys; a value column both sides have gets the suffixes; distinct key names stay both.
  td::Table a, b;
  a.add_column("k1", td::Column::from_int64({1, 1, 2, 2}));
  a.add_column("k2", td::Column::from_strings({"p", "q", "p", "p"}));
  a.add_column("v", td::Column::from_float64({0.5, 1.5, 2.5, 3.5}));
  b.add_column("c1", td::Column::from_int64({2, 1, 1}));
  b.add_column("k2", td::Column::from_strings({"p", "q", "r"}));
  b.add_column("v", td::Column::from_float64({20, 10, 30}));
  auto m = frame_of({a.slice(0, 2), a.slice(2, 4)})
               .merge(frame_of({b.slice(0, 1), b.slice(1, 3)}), {.left_on = {"k1", "k2"}, .right_on = {"c1", "k2"}});
  CHECK(m.columns() == std::vector<std::string>{"k1", "k2", "v_x", "c1", "v_y"});
  const td::Table t = tessera::compute(m, sched);
  CHECK(sorted_rows(t) == std::vector<std::string>{"1|'q'|1.500000|1|10.000000", "2|'p'|2.500000|2|20.000000",
                                                    "2|'p'|3.500000|2|20.000000"});
  CHECK(t == tessera::compute(m, std::make_shared<tessera::SyncScheduler>()));
}

TEST_CASE_TEMPLATE("merge: NaN float keys match each other as in pandas, -0.0 matches 0.0", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  td::Table a, b;
  a.add_column("f", td::Column::from_float64({std::nan(""), -0.0, 1.5, 2.5}));
  a.add_column("a", td::Column::from_int64({1, 2, 3, 4}));
  b.add_column("f", td::Column::from_float64({0.0, std::nan(""), 2.5, 9.0}));
  b.add_column("b", td::Column::from_strings({"zero", "nan", "two", "nine"}));
  auto m = frame_of({a.slice(0, 2), a.slice(2, 4)}).merge(frame_of({b.slice(0, 3), b.slice(3, 4)}), {.on = {"f"}});
  const td::Table t = tessera::compute(m, sched);
  CHECK(sorted_rows(t) == std::vector<std::string>{"-0.000000|2|'zero'", "2.500000|4|'two'", "NA|1|'nan'"});
}

TEST_CASE("merge: unknown key columns and key dtype mismatches are build-time errors naming them") {
  using namespace dataframe_shuffle;
  auto l = frame_of({kv({1}, {}, td::Column::from_int64({1}), "a")});
  auto r = frame_of({kv({1}, {}, td::Column::from_strings({"x"}), "b")});
  CHECK_THROWS_WITH_AS((void)l.merge(r, {.left_on = {"k"}, .right_on = {"code"}}),
                       doctest::Contains("right key column 'code' is not a column of the right DataFrame; its "
                                         "columns are ['k', 'b']"),
                       td::ColumnError);
  CHECK_THROWS_WITH_AS((void)l.merge(r, {.left_on = {"a"}, .right_on = {"b"}}),
                       doctest::Contains("left 'a' is int64, right 'b' is object"), td::TypeError);
  CHECK_THROWS_AS((void)l.merge(r, {.on = {"k"}, .how = "cross"}), tessera::GraphError);
}

TEST_CASE_TEMPLATE("sort_values: nulls last, ties stable, descending, several columns, head is global", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const auto parts = sort_parts();
  const td::Table all = td::Table::concat(parts);
  auto df = frame_of(parts);
  struct Case {
    std::vector<std::string> by;
    td::SortOptions o;
    bool by_g, x_ascending;
  };
  const std::vector<Case> cases{{{"x"}, {}, false, true},
                                {{"x"}, {.ascending = false}, false, false},
                                {{"g", "x"}, {.ascending_each = {true, false}}, true, false},
                                {{"g", "x"}, {}, true, true}};
  for (const auto& c : cases) {
    CAPTURE(c.by.size());
    CAPTURE(c.x_ascending);
    auto sorted = df.sort_values(c.by, c.o);
    REQUIRE(sorted.npartitions() == 3);
    const td::Table t = tessera::compute(sorted, sched);
    const auto want = oracle_order(all, c.by_g, c.x_ascending);
    CHECK(t.column("i").i64 == want);
    CHECK(t == tessera::compute(sorted, std::make_shared<tessera::SyncScheduler>()));
    // Range partitioning: the sampled boundaries split the rows, none holds most of them.
    const auto outs = tessera::compute(sorted.partitions(), sched);
    for (const auto& o : outs) CHECK(o.num_rows() < all.num_rows() * 2 / 3);
    const td::Table top = tessera::compute(sorted.head(70), sched);
    CHECK(top.column("i").i64 == std::vector<std::int64_t>(want.begin(), want.begin() + 70));
    // Selecting columns keeps the order: head still reads on past a short first partition.
    const td::Table ids = tessera::compute(sorted[{"i"}].head(70), sched);
    CHECK(ids.column("i").i64 == top.column("i").i64);
  }
  CHECK_THROWS_AS((void)df.sort_values("nope"), td::ColumnError);
  CHECK_THROWS_AS((void)df.sort_values({"x", "g"}, {.ascending_each = {true}}), tessera::GraphError);
}

TEST_CASE_TEMPLATE("sort_values: npartitions sets the output partitions, in order, result unchanged", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const auto parts = sort_parts();
  const td::Table all = td::Table::concat(parts);
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    for (const bool ascending : {true, false}) {
      CAPTURE(n);
      CAPTURE(ascending);
      auto sorted = frame_of(parts).sort_values("x", {.ascending = ascending, .npartitions = n});
      REQUIRE(sorted.npartitions() == n);
      const td::Table t = tessera::compute(sorted, sched);
      CHECK(t.column("i").i64 == oracle_order(all, false, ascending));
      CHECK(t == tessera::compute(sorted, std::make_shared<tessera::SyncScheduler>()));
      // Every output holds rows: the n - 1 sampled boundaries split them.
      const auto outs = tessera::compute(sorted.partitions(), sched);
      REQUIRE(outs.size() == n);
      for (const auto& o : outs) CHECK(o.num_rows() > 0);
    }
  }
}

TEST_CASE_TEMPLATE("sort_values: strings descending, nulls last, across partitions", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  std::vector<td::Table> parts;
  std::vector<std::string> want;
  int nulls = 0;
  for (int p = 0; p < 4; ++p) {
    std::vector<std::string> v;
    for (int k = 0; k < 30; ++k) v.push_back("s" + std::to_string((p * 30 + k) * 17 % 41));
    auto c = td::Column::from_strings(v);
    for (int k = p; k < 30; k += 7) c.set_null(static_cast<std::size_t>(k)), ++nulls;
    for (int k = 0; k < 30; ++k) {
      if (!c.is_null(static_cast<std::size_t>(k))) want.push_back(v[static_cast<std::size_t>(k)]);
    }
    td::Table t;
    t.add_column("s", std::move(c));
    parts.push_back(t);
  }
  std::sort(want.begin(), want.end(), std::greater<>());
  auto sorted = frame_of(parts).sort_values("s", {.ascending = false});
  const td::Table t = tessera::compute(sorted, sched);
  REQUIRE(t.num_rows() == want.size() + static_cast<std::size_t>(nulls));
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(t.at<std::string>("s", i) == want[i]);
  for (std::size_t i = want.size(); i < t.num_rows(); ++i) CHECK(t.is_null("s", i));
  CHECK(t == tessera::compute(sorted, std::make_shared<tessera::SyncScheduler>()));
}

TEST_CASE_TEMPLATE("set_index gives sorted known divisions, loc reads only overlapping partitions", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  std::vector<td::Table> parts;
  for (int p = 0; p < 4; ++p) {
    std::vector<std::int64_t> day, v;
    for (int k = 0; k < 50; ++k) {
      const int row = p * 50 + k;
      day.push_back(td::datetime_ns(1990, 1, 1) + static_cast<std::int64_t>((row * 53) % 90) * 86400'000'000'000);
      v.push_back(row);
    }
    td::Table t;
    t.add_column("Date", td::Column::from_datetime(day));
    t.add_column("v", td::Column::from_int64(v));
    parts.push_back(t);
  }
  auto by_day = frame_of(parts).set_index("Date", {.scheduler = sched});
  REQUIRE(by_day.known_divisions());
  CHECK(by_day.divisions().num_rows() == 5);
  CHECK(by_day.columns() == std::vector<std::string>{"v"});
  const td::Table all = tessera::compute(by_day, sched);
  REQUIRE(all.num_rows() == 200);
  const auto& idx = all.index_columns()[0].i64;
  CHECK(std::is_sorted(idx.begin(), idx.end()));
  CHECK(idx.front() == by_day.divisions().column(0).i64.front());
  CHECK(idx.back() == by_day.divisions().column(0).i64.back());
  auto jan = by_day.loc("1990-01-01", "1990-01-31");
  CHECK(jan.npartitions() < by_day.npartitions());
  const td::Table j = tessera::compute(jan, sched);
  std::size_t want = 0;
  for (auto d : idx) want += d <= td::datetime_ns(1990, 1, 31) ? 1 : 0;
  CHECK(j.num_rows() == want);
  CHECK(j.num_rows() > 0);
  for (auto d : j.index_columns()[0].i64) CHECK(d <= td::datetime_ns(1990, 1, 31));
  CHECK(tessera::compute(by_day.loc("1980-01-01", "1980-02-01"), sched).num_rows() == 0);
  // The index travels with its rows through a sort's shuffle.
  const td::Table by_v = tessera::compute(by_day.sort_values("v", {.ascending = false}), sched);
  REQUIRE(by_v.num_rows() == 200);
  for (std::size_t i = 0; i < by_v.num_rows(); ++i) {
    const std::int64_t v = by_v.at<std::int64_t>("v", i);
    CHECK(v == 199 - static_cast<std::int64_t>(i));
    CHECK(by_v.index_columns()[0].i64[i] == td::datetime_ns(1990, 1, 1) + ((v * 53) % 90) * 86400'000'000'000);
  }
  // A filter keeps the divisions: loc still works on it.
  auto even = by_day[by_day["v"] % 2 == 0];
  REQUIRE(even.known_divisions());
  const td::Table je = tessera::compute(even.loc("1990-01-01", "1990-01-31"), sched);
  for (std::size_t i = 0; i < je.num_rows(); ++i) CHECK(je.at<std::int64_t>("v", i) % 2 == 0);
  CHECK(je.num_rows() < j.num_rows());
  CHECK_THROWS_AS((void)by_day.loc(1.5, 2.5), td::TypeError);
  CHECK_THROWS_AS((void)frame_of(parts).loc("1990-01-01", "1990-01-31"), tessera::GraphError);
  CHECK_THROWS_AS((void)frame_of(parts).set_index("nope", {.scheduler = sched}), td::ColumnError);
}

TEST_CASE_TEMPLATE("join on the index: inner, left, right and outer as merge on the labels, overlaps need a suffix", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_shuffle;
  auto sched = make_test_scheduler<S>();
  const td::Table l = td::Table::concat(left_parts()), r = td::Table::concat(right_parts());
  auto left = frame_of(indexed_by_k(left_parts()));
  auto right = frame_of(indexed_by_k(right_parts()));
  for (const char* how : {"inner", "left", "right", "outer"}) {
    CAPTURE(how);
    auto joined = left.join(right, {.how = how});
    CHECK(joined.columns() == std::vector<std::string>{"a", "b"});
    const td::Table got = tessera::compute(joined, sched);
    CHECK(got.index_names() == std::vector<std::string>{"k"});
    CHECK(sorted_indexed_rows(got) == oracle_join(l, r, how));
  }
  // The default is pandas' "left".
  CHECK(sorted_indexed_rows(tessera::compute(left.join(right), sched)) == oracle_join(l, r, "left"));
  // Shared column names: an error naming them, or the suffixes.
  auto also_a = frame_of(indexed_by_k({kv({1, 5}, {}, td::Column::from_int64({-1, -5}), "a")}));
  CHECK_THROWS_WITH_AS((void)left.join(also_a), doctest::Contains("columns overlap but no suffix specified: ['a']"),
                       td::ColumnError);
  const td::Table sfx = tessera::compute(left.join(also_a, {.how = "inner", .rsuffix = "_r"}), sched);
  CHECK(sfx.column_names() == std::vector<std::string>{"a", "a_r"});
  CHECK(sorted_indexed_rows(sfx) == std::vector<std::string>{"1|10|-1", "1|11|-1", "5|50|-5"});
  // Both sides need one index column of the same dtype.
  CHECK_THROWS_WITH_AS((void)frame_of(left_parts()).join(right), doctest::Contains("the left frame has 0 index columns"),
                       tessera::GraphError);
  td::Table by_string;
  by_string.add_column("b", td::Column::from_int64({1}));
  by_string.set_index({"s"}, {td::Column::from_strings({"x"})});
  CHECK_THROWS_WITH_AS((void)left.join(frame_of({by_string})),
                       doctest::Contains("the left index 'k' is int64, the right index 's' is object"), td::TypeError);
  CHECK_THROWS_AS((void)left.join(right, {.how = "cross"}), tessera::GraphError);
}

}  // TEST_SUITE
