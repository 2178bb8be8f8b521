#pragma once

// DataFrame resample on a datetime index, written once (see dataframe_suite.hpp for the
// scheduler contract): hand-worked bins that straddle short and empty partitions, and a
// brute-force binning oracle (pandas' rules: left-closed, left-labelled bins, origin
// "start_day", empty bins kept) on many uneven partitions, with and without known divisions.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace dataframe_resample {

namespace td = tessera::dataframe;
inline constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr std::int64_t minute = std::int64_t{60} * 1'000'000'000;
inline constexpr std::int64_t day = 1440 * minute;

struct Row {
  std::int64_t t;
  double x;                        // NaN: missing
  std::optional<std::int64_t> k;   // nullopt: null
};

inline td::Table rows_table(const std::vector<Row>& rows, std::size_t begin, std::size_t end, bool t_as_index) {
  std::vector<std::int64_t> ts, ks;
  std::vector<double> xs;
  std::vector<std::string> ss;
  for (std::size_t i = begin; i < end; ++i) {
    ts.push_back(rows[i].t);
    xs.push_back(rows[i].x);
    ks.push_back(rows[i].k.value_or(0));
    ss.push_back("r" + std::to_string(i));
  }
  td::Column k = td::Column::from_int64(std::move(ks));
  for (std::size_t i = begin; i < end; ++i) {
    if (!rows[i].k) k.set_null(i - begin);
  }
  td::Table t;
  if (t_as_index) t.set_index({"t"}, {td::Column::from_datetime(ts)});
  else t.add_column("t", td::Column::from_datetime(ts));
  t.add_column("x", td::Column::from_float64(std::move(xs)));
  t.add_column("k", std::move(k));
  t.add_column("s", td::Column::from_strings(ss));
  return t;
}

/// The rows in partitions of `sizes` rows (their sum is rows.size()), indexed by t (or with t
/// as a column).
inline td::DataFrame frame(const std::vector<Row>& rows, const std::vector<std::size_t>& sizes, bool t_as_index = true) {
  std::vector<tessera::Delayed<td::Table>> parts;
  std::size_t at = 0;
  for (std::size_t n : sizes) {
    parts.push_back(tessera::literal(rows_table(rows, at, at + n, t_as_index), "resample-part"));
    at += n;
  }
  REQUIRE(at == rows.size());
  td::Schema s{{{"x", td::DType::float64}, {"k", td::DType::int64}, {"s", td::DType::string}}, {}};
  const td::Field t{"t", td::DType::datetime};
  if (t_as_index) s.index = {t};
  else s.columns.insert(s.columns.begin(), t);
  return td::from_delayed(parts, s);
}

/// Brute force: every bin from the first row's to the last row's, with its x and k values.
struct Bins {
  std::vector<std::int64_t> labels;
  std::vector<std::vector<double>> x, k;
  std::vector<std::int64_t> size;
};

inline std::int64_t floor_to(std::int64_t t, std::int64_t origin, std::int64_t step) {
  std::int64_t q = (t - origin) / step;
  if ((t - origin) % step != 0 && t < origin) --q;
  return origin + q * step;
}

/// pandas' origin="start_day": bins start at midnight of the first row's day.
inline Bins brute(const std::vector<Row>& rows, std::int64_t step) {
  Bins b;
  if (rows.empty()) return b;
  std::int64_t lo = rows[0].t, hi = rows[0].t;
  for (const auto& r : rows) {
    lo = std::min(lo, r.t);
    hi = std::max(hi, r.t);
  }
  const std::int64_t origin = floor_to(lo, 0, day);
  for (std::int64_t l = floor_to(lo, origin, step); l <= hi; l += step) b.labels.push_back(l);
  b.x.resize(b.labels.size());
  b.k.resize(b.labels.size());
  b.size.resize(b.labels.size());
  for (const auto& r : rows) {
    const auto i = static_cast<std::size_t>((floor_to(r.t, origin, step) - b.labels[0]) / step);
    ++b.size[i];
    if (!std::isnan(r.x)) b.x[i].push_back(r.x);
    if (r.k) b.k[i].push_back(static_cast<double>(*r.k));
  }
  return b;
}

inline std::optional<double> stat(const std::vector<double>& v, std::int64_t size, const std::string& fn) {
  const auto n = static_cast<double>(v.size());
  double sum = 0;
  for (double a : v) sum += a;
  if (fn == "size") return static_cast<double>(size);
  if (fn == "count") return n;
  if (fn == "sum") return sum;
  if (v.empty()) return std::nullopt;
  if (fn == "mean") return sum / n;
  if (fn == "min") return *std::min_element(v.begin(), v.end());
  if (fn == "max") return *std::max_element(v.begin(), v.end());
  if (fn == "first") return v.front();
  if (fn == "last") return v.back();
  if (v.size() < 2) return std::nullopt;
  double ss = 0;
  for (double a : v) ss += (a - sum / n) * (a - sum / n);
  return fn == "var" ? ss / (n - 1) : std::sqrt(ss / (n - 1));
}

inline void check_values(const td::Table& got, const std::string& col, const std::vector<std::optional<double>>& want) {
  REQUIRE(got.num_rows() == want.size());
  const td::Column& c = got.column(col);
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(col);
    CAPTURE(i);
    if (!want[i]) {
      CHECK((c.is_null(i) || (c.dtype == td::DType::float64 && std::isnan(c.f64[i]))));
    } else {
      REQUIRE_FALSE(c.is_null(i));
      CHECK(c.as_double(i) == doctest::Approx(*want[i]).epsilon(1e-9));
    }
  }
}

inline const std::vector<std::string>& functions() {
  static const std::vector<std::string> fns = {"sum", "mean", "count", "size", "min", "max", "std", "var", "first", "last"};
  return fns;
}

/// Every function of x and k, and size, against brute force; labels too.
inline void check_against_brute(const td::Table& got, const Bins& b) {
  REQUIRE(got.index_names() == std::vector<std::string>{"t"});
  CHECK(got.index_columns()[0].dtype == td::DType::datetime);
  CHECK(got.index_columns()[0].i64 == b.labels);
  for (const std::string col : {"x", "k"}) {
    const auto& values = col == "x" ? b.x : b.k;
    for (const auto& fn : functions()) {
      if (fn == "size") continue;
      std::vector<std::optional<double>> want;
      for (std::size_t i = 0; i < b.labels.size(); ++i) want.push_back(stat(values[i], b.size[i], fn));
      check_values(got, col + "_" + fn, want);
    }
  }
  std::vector<std::optional<double>> sizes;
  for (auto n : b.size) sizes.push_back(static_cast<double>(n));
  check_values(got, "size", sizes);
}

inline td::AggSpec every_function() {
  std::vector<std::string> fns;
  for (const auto& fn : functions()) {
    if (fn != "size") fns.push_back(fn);
  }
  return {{"x", fns}, {"k", fns}, {"", {"size"}}};
}

/// n rows from 2024-03-09 22:17:13 (day 19791 since the epoch: odd, so 2D bins anchored at the
/// epoch would differ from start_day's), steps of 0 to 40 minutes with some gaps of hours,
/// x missing on every 9th row, k null on every 11th.
inline std::vector<Row> random_rows(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<Row> rows;
  std::int64_t t = td::datetime_ns(2024, 3, 9, 22, 17, 13);
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = gen();
    if (i > 0) t += static_cast<std::int64_t>(r % 41) * minute + static_cast<std::int64_t>(r % 977) * 1'000'000'000 / 17;
    if (i > 0 && r % 29 == 0) t += static_cast<std::int64_t>(r % 7 + 2) * 60 * minute;
    const double x = i % 9 == 4 ? NaN : static_cast<double>(static_cast<int>(gen() % 2001) - 1000) / 8.0;
    std::optional<std::int64_t> k;
    if (i % 11 != 7) k = static_cast<std::int64_t>(gen() % 100) - 30;
    rows.push_back({t, x, k});
  }
  return rows;
}

/// Partition sizes 0..24 (a quarter of them empty) summing to n.
inline std::vector<std::size_t> random_sizes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<std::size_t> sizes;
  std::size_t left = n;
  while (left > 0) {
    const std::size_t s = gen() % 4 == 0 ? 0 : std::min<std::size_t>(left, gen() % 25);
    sizes.push_back(s);
    left -= s;
  }
  sizes.push_back(0);
  return sizes;
}

}  // namespace dataframe_resample

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("resample bins straddle short and empty partitions and keep empty bins as pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_resample;
  auto sched = make_test_scheduler<S>();
  const std::int64_t t0 = td::datetime_ns(2024, 1, 1);
  auto at = [&](int minutes) { return t0 + minutes * minute; };
  // Bins of 1h: [00:00 | 01:00 | 02:00 (empty) | 03:00]; 00:00 spans partitions 0 and 2 across
  // an empty one, 03:00 spans partitions 3, 4 and 5.
  const std::vector<Row> rows = {{at(10), 1, 1}, {at(50), 2, 2},           // partition 0
                                 {at(55), NaN, 3}, {at(65), 4, 4},         // partition 2
                                 {at(210), 5, 5},                          // partition 3
                                 {at(220), 6, 6}, {at(230), NaN, std::nullopt},  // 4
                                 {at(239), 8, 8}};                         // 5
  const auto df = frame(rows, {2, 0, 2, 1, 2, 1, 0});
  const auto r = df.resample("1h");
  CHECK(r.step_ns() == 60 * minute);
  CHECK(df.resample("T").step_ns() == minute);
  CHECK(df.resample("90S").step_ns() == 90 * 1'000'000'000LL);
  const td::Table sum = tessera::compute(r.sum(), sched);
  CHECK(sum.column_names() == std::vector<std::string>{"x", "k"});  // s: numeric_only
  CHECK(sum.index_columns()[0].i64 == std::vector<std::int64_t>{at(0), at(60), at(120), at(180)});
  check_values(sum, "x", {3, 4, 0, 19});
  check_values(sum, "k", {6, 4, 0, 19});
  CHECK(sum.column("k").dtype == td::DType::int64);
  const td::Table count = tessera::compute(r.count(), sched);
  CHECK(count.column_names() == std::vector<std::string>{"x", "k", "s"});
  check_values(count, "x", {2, 1, 0, 3});
  check_values(count, "s", {3, 1, 0, 4});
  check_values(tessera::compute(r.size(), sched), "size", {3, 1, 0, 4});
  check_values(tessera::compute(r.mean(), sched), "x", {1.5, 4, std::nullopt, 19.0 / 3});
  check_values(tessera::compute(r.min(), sched), "x", {1, 4, std::nullopt, 5});
  check_values(tessera::compute(r.max(), sched), "k", {3, 4, std::nullopt, 8});
  check_values(tessera::compute(r.first(), sched), "x", {1, 4, std::nullopt, 5});
  check_values(tessera::compute(r.last(), sched), "x", {2, 4, std::nullopt, 8});
  check_values(tessera::compute(r.var(), sched), "x", {0.5, std::nullopt, std::nullopt, 7.0 / 3});
  check_values(tessera::compute(r.std(), sched), "k", {1, std::nullopt, std::nullopt, std::sqrt(7.0 / 3)});
  // agg names "<column>_<function>"; one partition per input partition, each bin once.
  const auto both = r.agg({{"x", {"mean", "max"}}, {"k", {"sum"}}});
  CHECK(both.npartitions() == df.npartitions());
  const td::Table t = tessera::compute(both, sched);
  CHECK(t.column_names() == std::vector<std::string>{"x_mean", "x_max", "k_sum"});
  check_values(t, "x_max", {2, 4, std::nullopt, 8});
  // 30min bins: two empty bins in the gap; 1D: one bin at midnight.
  const td::Table half = tessera::compute(df.resample("30min").size(), sched);
  CHECK(half.index_columns()[0].i64.size() == 8);
  check_values(half, "size", {1, 2, 1, 0, 0, 0, 0, 4});
  const td::Table daily = tessera::compute(df.resample("D").sum(), sched);
  CHECK(daily.index_columns()[0].i64 == std::vector<std::int64_t>{t0});
  check_values(daily, "x", {26});
  // Left-closed, left-labelled: a row on an edge opens the bin it labels; the last
  // nanosecond before an edge stays in the bin before.
  const std::vector<Row> edges = {{at(0), 1, 1}, {at(60) - 1, 2, 2}, {at(60), 4, 4}, {at(120), 8, 8}};
  const td::Table by_edge = tessera::compute(frame(edges, {1, 2, 1}).resample("1h").sum(), sched);
  CHECK(by_edge.index_columns()[0].i64 == std::vector<std::int64_t>{at(0), at(60), at(120)});
  check_values(by_edge, "x", {3, 4, 8});
  // A frame with no rows gives no bins.
  const td::Table none = tessera::compute(frame({}, {0, 0}).resample("1h").sum(), sched);
  CHECK(none.num_rows() == 0);
  CHECK(none.column_names() == std::vector<std::string>{"x", "k"});
}

TEST_CASE_TEMPLATE("resample equals brute-force binning for every rule and function", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_resample;
  auto sched = make_test_scheduler<S>();
  const auto rows = random_rows(400, 7);
  const auto sizes = random_sizes(rows.size(), 11);
  REQUIRE(sizes.size() > 20);
  const auto df = frame(rows, sizes);
  // 7min and 2D do not divide a day: their bins start at midnight of the first day.
  for (const std::string rule : {"1h", "15min", "7min", "450s", "3H", "10T", "1D", "2D"}) {
    CAPTURE(rule);
    const auto r = df.resample(rule);
    const td::Table got = tessera::compute(r.agg(every_function()), sched);
    check_against_brute(got, brute(rows, r.step_ns()));
  }
  CHECK(df.resample("2D").step_ns() == 2 * day);
  const td::Table two = tessera::compute(df.resample("2D").size(), sched);
  CHECK(two.index_columns()[0].i64.front() == td::datetime_ns(2024, 3, 9));
  CHECK(two.index_columns()[0].i64.front() != floor_to(rows[0].t, 0, 2 * day));  // not the epoch's
}

TEST_CASE_TEMPLATE("resample keeps known divisions: each output partition holds its divisions' bins", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_resample;
  auto sched = make_test_scheduler<S>();
  const auto rows = random_rows(300, 3);
  const auto df = frame(rows, random_sizes(rows.size(), 5), false).set_index("t", {.scheduler = sched});
  REQUIRE(df.known_divisions());
  const auto r = df.resample("1h").agg(every_function());
  REQUIRE(r.known_divisions());
  CHECK(r.npartitions() == df.npartitions());
  const auto& in = df.divisions().column(0).i64;
  const auto& out = r.divisions().column(0).i64;
  REQUIRE(out.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) CHECK(out[i] == floor_to(in[i], 0, 60 * minute));
  // Every output partition in one compute (one at a time would rerun the chain each time).
  auto gather = tessera::delayed([](const std::vector<td::Table>& v) { return v; }, {.name = "gather", .pure = true});
  const std::vector<td::Table> parts = tessera::compute(gather(r.partitions()), sched);
  REQUIRE(parts.size() == r.npartitions());
  for (std::size_t i = 0; i < r.npartitions(); ++i) {
    CAPTURE(i);
    for (auto label : parts[i].index_columns()[0].i64) {
      CHECK(label >= out[i]);
      if (i + 1 < r.npartitions()) CHECK(label < out[i + 1]);
      else CHECK(label <= out[i + 1]);
    }
  }
  check_against_brute(tessera::compute(r, sched), brute(rows, 60 * minute));
  // Filtered rows keep the divisions, which then reach past the data: bins stay the data's.
  std::vector<Row> kept;
  for (const auto& row : rows) {
    if (!std::isnan(row.x) && row.x > 60) kept.push_back(row);
  }
  const auto filtered = df[df["x"] > 60.0].resample("1h");
  check_against_brute(tessera::compute(filtered.agg(every_function()), sched), brute(kept, 60 * minute));
  // A step that does not divide a day needs the data's first day: no divisions then.
  const auto seven = df.resample("7min").agg(every_function());
  CHECK_FALSE(seven.known_divisions());
  check_against_brute(tessera::compute(seven, sched), brute(rows, 7 * minute));
}

TEST_CASE_TEMPLATE("resample names a bad rule or a non-datetime or unsorted index or a bad column", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_resample;
  auto sched = make_test_scheduler<S>();
  const auto rows = random_rows(40, 1);
  const auto df = frame(rows, {10, 20, 10});
  for (const std::string rule : {"1x", "", "0h", "1.5h", "h1", "1W", "15 min"}) {
    CAPTURE(rule);
    CHECK_THROWS_WITH_AS((void)df.resample(rule), doctest::Contains(("rule '" + rule + "'").c_str()), tessera::GraphError);
  }
  CHECK_THROWS_WITH_AS((void)frame(rows, {40}, false).resample("1h"),
                       doctest::Contains("needs one datetime64[ns] index, not a range index"), td::TypeError);
  const auto by_k = frame(rows, {40}, false).set_index("k", {.scheduler = sched});
  CHECK_THROWS_WITH_AS((void)by_k.resample("1h"), doctest::Contains("not 'k' (int64)"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)df.resample("1h").agg({{"s", {"sum"}}}),
                       doctest::Contains("resample('1h'): groupby agg: 'sum' of column 's'"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)df.resample("1h").agg({{"x", {"median"}}}), doctest::Contains("'median'"), td::TypeError);
  CHECK_THROWS_AS((void)df.resample("1h").agg({{"y", {"sum"}}}), td::ColumnError);
  CHECK_THROWS_WITH_AS((void)df.resample("1h").agg({{"t", {"max"}}}), doctest::Contains("'t' is the index"),
                       td::ColumnError);
  // Out of order inside a partition, and across partitions (a later partition starts in an
  // earlier bin).
  std::vector<Row> swapped = rows;
  std::swap(swapped[3], swapped[5]);
  REQUIRE(swapped[3].t > swapped[4].t);
  CHECK_THROWS_WITH((void)tessera::compute(frame(swapped, {10, 20, 10}).resample("1h").sum(), sched),
                    doctest::Contains("resample('1h'): the index 't' is not sorted"));
  std::vector<Row> rotated(rows.begin() + 20, rows.end());
  rotated.insert(rotated.end(), rows.begin(), rows.begin() + 20);
  CHECK_THROWS_WITH((void)tessera::compute(frame(rotated, {20, 20}).resample("1h").sum(), sched),
                    doctest::Contains("is not sorted across partitions"));
}

}  // TEST_SUITE
