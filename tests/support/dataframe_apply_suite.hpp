#pragma once

// DataFrame::apply_rows, written once (see dataframe_suite.hpp for the scheduler contract):
// typed lambdas on rows of uneven partitions (empty ones too) against a row-by-row oracle,
// nulls as std::optional or skipped, result dtypes, captures (sent to MPI workers), the
// build-time type check and a lambda that throws.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dataframe_apply {

namespace td = tessera::dataframe;
inline constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// Row i: a = i / 4 (null on rows 3 and 10, NaN on row 6), b = 10 - i (null on row 5),
/// s = "w<i>", f = (i % 3 == 0), t = 2024-01-01 + i hours; partitions of 0, 4, 0, 1, 6, 1, 0 rows.
inline constexpr std::size_t rows = 12;
inline bool a_null(std::size_t i) { return i == 3 || i == 10; }
inline bool b_null(std::size_t i) { return i == 5; }
inline double a_of(std::size_t i) { return i == 6 ? NaN : static_cast<double>(i) / 4; }
inline std::int64_t b_of(std::size_t i) { return 10 - static_cast<std::int64_t>(i); }
inline std::int64_t t_of(std::size_t i) { return td::datetime_ns(2024, 1, 1) + static_cast<std::int64_t>(i) * 3'600'000'000'000; }

inline td::DataFrame frame() {
  const std::size_t sizes[] = {0, 4, 0, 1, 6, 1, 0};
  std::vector<tessera::Delayed<td::Table>> parts;
  std::size_t at = 0;
  for (std::size_t n : sizes) {
    std::vector<double> a;
    std::vector<std::int64_t> b, t;
    std::vector<std::string> s;
    std::vector<bool> f;
    for (std::size_t i = at; i < at + n; ++i) {
      a.push_back(a_null(i) ? 0 : a_of(i));
      b.push_back(b_null(i) ? 0 : b_of(i));
      s.push_back("w" + std::to_string(i));
      f.push_back(i % 3 == 0);
      t.push_back(t_of(i));
    }
    td::Column ac = td::Column::from_float64(std::move(a)), bc = td::Column::from_int64(std::move(b));
    for (std::size_t i = at; i < at + n; ++i) {
      if (a_null(i)) ac.set_null(i - at);
      if (b_null(i)) bc.set_null(i - at);
    }
    td::Table tb;
    tb.add_column("a", std::move(ac));
    tb.add_column("b", std::move(bc));
    tb.add_column("s", td::Column::from_strings(s));
    tb.add_column("f", td::Column::from_bool(f));
    tb.add_column("t", td::Column::from_datetime(std::move(t)));
    parts.push_back(tessera::literal(std::move(tb), "apply-part"));
    at += n;
  }
  return td::from_delayed(parts, {.columns = {{"a", td::DType::float64},
                                              {"b", td::DType::int64},
                                              {"s", td::DType::string},
                                              {"f", td::DType::boolean},
                                              {"t", td::DType::datetime}},
                                  .index = {}});
}

/// A float64 result against want (nullopt: null; NaN: NaN).
inline void check_doubles(const td::Table& got, const std::string& col, const std::vector<std::optional<double>>& want) {
  REQUIRE(got.num_rows() == want.size());
  const td::Column& c = got.column(col);
  REQUIRE(c.dtype == td::DType::float64);
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    REQUIRE(c.is_null(i) == !want[i].has_value());
    if (!want[i]) continue;
    if (std::isnan(*want[i])) CHECK(std::isnan(c.f64[i]));
    else CHECK(c.f64[i] == doctest::Approx(*want[i]));
  }
}

inline double times_three(double a) { return a * 3; }

}  // namespace dataframe_apply

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("apply_rows calls a typed lambda on every row with nulls skipped or passed as optionals", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_apply;
  auto sched = make_test_scheduler<S>();
  const auto df = frame();
  // double x int64 -> double; a null in a or b gives null, NaN stays NaN.
  const td::Series ab = df.apply_rows<double>({"a", "b"}, [](double a, std::int64_t b) { return a * static_cast<double>(b); });
  CHECK(ab.dtype() == td::DType::float64);
  CHECK(ab.name() == "apply");
  std::vector<std::optional<double>> want;
  for (std::size_t i = 0; i < rows; ++i) {
    if (a_null(i) || b_null(i)) want.push_back(std::nullopt);
    else want.push_back(a_of(i) * static_cast<double>(b_of(i)));
  }
  check_doubles(tessera::compute(ab, sched), "apply", want);
  // Optionals see the nulls: the lambda decides (here a missing value counts as 100).
  const auto opt = df.apply_rows({"a", "b"}, [](std::optional<double> a, std::optional<std::int64_t> b) {
    return a.value_or(100.0) + static_cast<double>(b.value_or(1000));
  }, "opt");
  want.clear();
  for (std::size_t i = 0; i < rows; ++i) {
    want.push_back((a_null(i) ? 100.0 : a_of(i)) + static_cast<double>(b_null(i) ? 1000 : b_of(i)));
  }
  check_doubles(tessera::compute(opt, sched), "opt", want);
  // An optional result is null where the lambda says so.
  const auto some = df.apply_rows({"b"}, [](std::int64_t b) -> std::optional<double> {
    if (b % 2 == 0) return std::nullopt;
    return static_cast<double>(b) / 2;
  });
  want.clear();
  for (std::size_t i = 0; i < rows; ++i) {
    if (b_null(i) || b_of(i) % 2 == 0) want.push_back(std::nullopt);
    else want.push_back(static_cast<double>(b_of(i)) / 2);
  }
  check_doubles(tessera::compute(some, sched), "apply", want);
  // Result dtypes from the return type: string, bool, int64 (from a datetime argument).
  const td::Table st = tessera::compute(
      df.apply_rows({"s", "f"}, [](std::string_view s, bool f) { return std::string(s) + (f ? "!" : "?"); }, "tag"), sched);
  REQUIRE(st.column("tag").dtype == td::DType::string);
  const td::Table even = tessera::compute(df.apply_rows({"b"}, [](std::int64_t b) { return b % 2 == 0; }), sched);
  REQUIRE(even.column("apply").dtype == td::DType::boolean);
  const td::Table hours = tessera::compute(
      df.apply_rows({"t"}, [](std::int64_t t) { return (t - td::datetime_ns(2024, 1, 1)) / 3'600'000'000'000; }), sched);
  REQUIRE(hours.column("apply").dtype == td::DType::int64);
  REQUIRE(st.num_rows() == rows);
  for (std::size_t i = 0; i < rows; ++i) {
    CAPTURE(i);
    CHECK(st.at<std::string>("tag", i) == "w" + std::to_string(i) + (i % 3 == 0 ? "!" : "?"));
    CHECK(even.is_null("apply", i) == b_null(i));
    if (!b_null(i)) CHECK(even.at<bool>("apply", i) == (b_of(i) % 2 == 0));
    CHECK(hours.at<std::int64_t>("apply", i) == static_cast<std::int64_t>(i));
  }
  // Captured values travel with the lambda (to MPI workers too); a function pointer works.
  const double k = 2.5;
  const td::Table cap = tessera::compute(df.apply_rows({"b"}, [k](std::int64_t b) { return k * static_cast<double>(b); }), sched);
  const td::Table fp = tessera::compute(df.apply_rows({"a"}, &times_three), sched);
  for (std::size_t i = 0; i < rows; ++i) {
    CAPTURE(i);
    if (!b_null(i)) CHECK(cap.at<double>("apply", i) == k * static_cast<double>(b_of(i)));
    if (!a_null(i) && i != 6) CHECK(fp.at<double>("apply", i) == 3 * a_of(i));
  }
  // The Series has the frame's rows: it can be assigned back and filter.
  const auto with = df.assign("ab", ab);
  const td::Table w = tessera::compute(with[with["ab"] > 1.0], sched);
  std::size_t over = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    if (!a_null(i) && !b_null(i) && i != 6 && a_of(i) * static_cast<double>(b_of(i)) > 1.0) ++over;
  }
  CHECK(w.num_rows() == over);
  CHECK(w.column_names() == std::vector<std::string>{"a", "b", "s", "f", "t", "ab"});
}

TEST_CASE_TEMPLATE("apply_rows checks columns against parameter types and names the row a lambda throws on", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_apply;
  auto sched = make_test_scheduler<S>();
  const auto df = frame();
  CHECK_THROWS_WITH_AS((void)df.apply_rows({"a"}, [](std::int64_t a) { return a; }),
                       doctest::Contains("column 'a' is float64, but parameter 1 of the function is std::int64_t"),
                       td::TypeError);
  CHECK_THROWS_WITH_AS((void)df.apply_rows({"a", "s"}, [](double a, double s) { return a + s; }),
                       doctest::Contains("column 's' is object, but parameter 2 of the function is double"),
                       td::TypeError);
  CHECK_THROWS_WITH_AS((void)df.apply_rows({"a", "b"}, [](double a) { return a; }),
                       doctest::Contains("2 column(s) named for a function of 1 parameter(s)"), tessera::GraphError);
  CHECK_THROWS_AS((void)df.apply_rows({"nope"}, [](double a) { return a; }), td::ColumnError);
  // b == 2 on row 8: the fourth row of the fifth partition; the error names it and the message.
  const auto bad = df.apply_rows({"b"}, [](std::int64_t b) {
    if (b == 2) throw std::invalid_argument("b is two");
    return b;
  }, "bad");
  CHECK_THROWS_WITH((void)tessera::compute(bad, sched),
                    doctest::Contains("apply_rows 'bad': the function threw on row 3 of the partition: std::invalid_argument: b is two"));
  // With an index the error names its label too.
  const auto by_t = df.set_index("t", {.scheduler = sched});
  const auto bad_t = by_t.apply_rows({"b"}, [](std::int64_t b) {
    if (b == 2) throw std::runtime_error("two");
    return b;
  });
  CHECK_THROWS_WITH((void)tessera::compute(bad_t, sched), doctest::Contains("(index t = 2024-01-01 08:00:00)"));
}

}  // TEST_SUITE
