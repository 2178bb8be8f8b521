#pragma once

// DataFrame rolling windows and quantiles, written once (see dataframe_suite.hpp for the
// scheduler contract). Hand-worked values on partitions of uneven sizes (empty ones and ones
// shorter than the window), and a brute-force window oracle on many small CSV partitions.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/dataframe_testing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace dataframe_window {

namespace td = tessera::dataframe;
inline constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// x (float64 with NaNs) and k (int64, 1..12) in partitions of 0, 3, 0, 1, 1, 5, 2, 0 rows.
inline td::DataFrame uneven_frame() {
  const std::vector<double> x = {1, NaN, 3, 4, NaN, 6, 2, 8, 1, NaN, 5, 7};
  const std::size_t sizes[] = {0, 3, 0, 1, 1, 5, 2, 0};
  std::vector<tessera::Delayed<td::Table>> parts;
  std::size_t at = 0;
  for (std::size_t n : sizes) {
    td::Table t;
    std::vector<std::int64_t> k;
    for (std::size_t i = at; i < at + n; ++i) k.push_back(static_cast<std::int64_t>(i) + 1);
    t.add_column("x", td::Column::from_float64(std::vector<double>(x.begin() + static_cast<std::ptrdiff_t>(at),
                                                                   x.begin() + static_cast<std::ptrdiff_t>(at + n))));
    t.add_column("k", td::Column::from_int64(std::move(k)));
    parts.push_back(tessera::literal(std::move(t), "window-part"));
    at += n;
  }
  return td::from_delayed(parts, {.columns = {{"x", td::DType::float64}, {"k", td::DType::int64}}, .index = {}});
}

inline void check_column(const td::Table& t, const std::string& col, const std::vector<double>& want) {
  REQUIRE(t.num_rows() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(col);
    CAPTURE(i);
    const double got = t.at<double>(col, i);
    if (std::isnan(want[i])) CHECK(std::isnan(got));
    else CHECK(got == doctest::Approx(want[i]).epsilon(1e-12));
  }
}

/// Brute force: the statistic over each window of `v` (NaN = missing), as pandas defines it.
inline std::vector<double> brute(const std::vector<double>& v, std::size_t w, std::size_t minp, const std::string& stat) {
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::vector<double> win;
    for (std::size_t j = i + 1 >= w ? i + 1 - w : 0; j <= i; ++j) {
      if (!std::isnan(v[j])) win.push_back(v[j]);
    }
    const double n = static_cast<double>(win.size());
    double sum = 0;
    for (double a : win) sum += a;
    double ss = 0;
    for (double a : win) ss += (a - sum / n) * (a - sum / n);
    double r = NaN;
    if (stat == "count") r = n;
    else if (stat == "sum") r = sum;
    else if (win.empty()) r = NaN;
    else if (stat == "mean") r = sum / n;
    else if (stat == "min") r = *std::min_element(win.begin(), win.end());
    else if (stat == "max") r = *std::max_element(win.begin(), win.end());
    else if (win.size() >= 2) r = stat == "var" ? ss / (n - 1) : std::sqrt(ss / (n - 1));
    const std::size_t have = stat == "count" ? std::min(i + 1, w) : win.size();  // count: rows
    out.push_back(have < minp ? NaN : r);
  }
  return out;
}

inline td::DataFrame rolled(const td::Rolling& r, const std::string& stat) {
  if (stat == "sum") return r.sum();
  if (stat == "mean") return r.mean();
  if (stat == "min") return r.min();
  if (stat == "max") return r.max();
  if (stat == "var") return r.var();
  if (stat == "std") return r.std();
  return r.count();
}

}  // namespace dataframe_window

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("rolling windows span short and empty partitions, skipping NaN as pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_window;
  auto sched = make_test_scheduler<S>();
  const auto df = uneven_frame();
  // By hand, window 3, at least 2 values: x = 1 NaN 3 | | 4 | NaN | 6 2 8 1 NaN | 5 7.
  auto r = df.rolling(3, {.min_periods = 2});
  CHECK(r.sum().npartitions() == df.npartitions());
  const td::Table sum = tessera::compute(r.sum(), sched);
  check_column(sum, "x", {NaN, NaN, 4, 7, 7, 10, 8, 16, 11, 9, 6, 12});
  check_column(sum, "k", {NaN, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33});
  CHECK(sum.column("k").dtype == td::DType::float64);
  check_column(tessera::compute(r.max(), sched), "x", {NaN, NaN, 3, 4, 4, 6, 6, 8, 8, 8, 5, 7});
  check_column(tessera::compute(r.min(), sched), "x", {NaN, NaN, 1, 3, 3, 4, 2, 2, 1, 1, 1, 5});
  check_column(tessera::compute(r.count(), sched), "x", {NaN, 1, 2, 2, 2, 2, 2, 3, 3, 2, 2, 2});
  check_column(tessera::compute(r.mean(), sched), "x", {NaN, NaN, 2, 3.5, 3.5, 5, 4, 16.0 / 3, 11.0 / 3, 4.5, 3, 6});
  check_column(tessera::compute(r.var(), sched), "x", {NaN, NaN, 2, 0.5, 0.5, 2, 8, 28.0 / 3, 43.0 / 3, 24.5, 8, 2});
  // Default min_periods = window: only full windows of values.
  check_column(tessera::compute(df.rolling(3).sum(), sched), "x",
               {NaN, NaN, NaN, NaN, NaN, NaN, NaN, 16, 11, NaN, NaN, NaN});
  // window 1 is the values; min_periods 0 sums an empty window to 0.
  check_column(tessera::compute(df.rolling(1).sum(), sched), "x", {1, NaN, 3, 4, NaN, 6, 2, 8, 1, NaN, 5, 7});
  check_column(tessera::compute(df.rolling(2, {.min_periods = 0}).sum(), sched), "x", {1, 1, 3, 7, 4, 6, 8, 10, 9, 1, 5, 12});
  // A window longer than several partitions together, against brute force, every statistic.
  std::vector<double> xs = {1, NaN, 3, 4, NaN, 6, 2, 8, 1, NaN, 5, 7};
  for (const std::string stat : {"sum", "mean", "min", "max", "var", "std", "count"}) {
    CAPTURE(stat);
    check_column(tessera::compute(rolled(df.rolling(5, {.min_periods = 1}), stat), sched), "x", brute(xs, 5, 1, stat));
  }
  // An index column stays the index, row for row (set_index keeps k's order: it is sorted).
  const td::Table by_k = tessera::compute(df.set_index("k", {.scheduler = sched}).rolling(2).sum(), sched);
  check_column(by_k, "x", {NaN, NaN, NaN, 7, NaN, NaN, 8, 10, 9, NaN, NaN, 12});
  for (std::size_t i = 0; i < by_k.num_rows(); ++i) CHECK(by_k.index_at<std::int64_t>(i) == static_cast<std::int64_t>(i) + 1);
  // Series.rolling gives a Series of the same name.
  const td::Table s = tessera::compute(df["x"].rolling(3, {.min_periods = 2}).std(), sched);
  CHECK(s.column_names() == std::vector<std::string>{"x"});
  check_column(s, "x", {NaN, NaN, std::sqrt(2.0), std::sqrt(0.5), std::sqrt(0.5), std::sqrt(2.0), std::sqrt(8.0),
                        std::sqrt(28.0 / 3), std::sqrt(43.0 / 3), std::sqrt(24.5), std::sqrt(8.0), std::sqrt(2.0)});
}

TEST_CASE_TEMPLATE("rolling over many small CSV partitions equals brute force, bad windows are named", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_window;
  auto sched = make_test_scheduler<S>();
  const auto dir = dataframe_suite::fresh_dir("rolling");
  auto df = td::read_csv(dataframe_suite::write_file(dir, "data.csv", dataframe_suite::sample_csv(200)), {.blocksize = 300});
  REQUIRE(df.npartitions() > 10);
  const td::Table all = tessera::compute(df, sched);
  std::vector<double> xs;
  for (std::size_t i = 0; i < all.num_rows(); ++i) xs.push_back(all.is_null("x", i) ? NaN : all.at<double>("x", i));
  for (const std::string stat : {"sum", "mean", "min", "max", "var", "std", "count"}) {
    CAPTURE(stat);
    // 25 rows: each window reaches back over several partitions.
    check_column(tessera::compute(rolled(df[{"x", "id"}].rolling(25, {.min_periods = 20}), stat), sched), "x",
                 brute(xs, 25, 20, stat));
  }
  CHECK_THROWS_WITH_AS((void)df.rolling(3), doctest::Contains("rolling: column 'group' is object"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)df[{"x"}].rolling(0), doctest::Contains("window = 0"), tessera::GraphError);
  CHECK_THROWS_WITH_AS((void)df["x"].rolling(3, {.min_periods = 4}), doctest::Contains("min_periods = 4"),
                       tessera::GraphError);
}

TEST_CASE_TEMPLATE("quantile is exact, with pandas' linear interpolation", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_window;
  auto sched = make_test_scheduler<S>();
  const auto df = uneven_frame();
  // x's values sorted: 1 1 2 3 4 5 6 7 8 (NaNs skipped); k: 1..12.
  auto [med, q1, q9, lo, hi, kmed] =
      tessera::compute(df["x"].quantile(0.5), df["x"].quantile(0.25), df["x"].quantile(0.9), df["x"].quantile(0),
                       df["x"].quantile(1), df["k"].quantile(0.5), sched);
  CHECK(med == 4);
  CHECK(q1 == 2);
  CHECK(q9 == doctest::Approx(7.2));
  CHECK(lo == 1);
  CHECK(hi == 8);
  CHECK(kmed == 6.5);
  const td::Table t = tessera::compute(df.quantile({0.1, 0.5, 0.75}), sched);
  CHECK(t.column_names() == std::vector<std::string>{"x", "k"});
  CHECK(t.index_at<double>(0) == 0.1);
  check_column(t, "x", {1, 4, 6});
  check_column(t, "k", {2.1, 6.5, 9.25});
  check_column(tessera::compute(df["k"].quantile(std::vector<double>{0.3}), sched), "k", {4.3});
  // No values (every partition filtered empty): NaN, as pandas.
  CHECK(std::isnan(tessera::compute(df[df["k"] > 100]["x"].quantile(0.5), sched)));
  CHECK_THROWS_WITH_AS((void)df["x"].quantile(1.5), doctest::Contains("q = 1.5"), tessera::GraphError);
  CHECK_THROWS_WITH_AS((void)df.quantile({0.5, -0.1}), doctest::Contains("q = -0.1"), tessera::GraphError);
}

}  // TEST_SUITE
