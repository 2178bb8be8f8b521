// timedelta64[ns] text and storage: format_timedelta / parse_timedelta, a Table printed, and the
// Column codec. The expected strings and nanosecond values are literals produced with pandas
// 1.5.3 (/usr/bin/python3): str(pd.Series(...)) / DataFrame repr, pd.Timedelta(text).value.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {
namespace td = tessera::dataframe;

constexpr std::int64_t s = 1'000'000'000;
constexpr std::int64_t day = 86'400 * s;

std::string printed(const td::Table& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace

TEST_SUITE("dataframe.timedelta") {

TEST_CASE("format_timedelta prints as pandas: days rounded down, the time positive, us or ns fractions") {
  // pd.Timedelta(ns)._repr_base(format="long")
  const std::vector<std::pair<std::int64_t, std::string>> long_form{
      {93784 * s, "1 days 02:03:04"},
      {-s, "-1 days +23:59:59"},
      {s / 2, "0 days 00:00:00.500000"},
      {1, "0 days 00:00:00.000000001"},
      {1'500'000, "0 days 00:00:00.001500"},
      {1'000, "0 days 00:00:00.000001"},
      {5400 * s, "0 days 01:30:00"},
      {-day, "-1 days +00:00:00"},
      {2 * day, "2 days 00:00:00"},
      {-1'250'000'000, "-1 days +23:59:58.750000"},
      {-s / 2, "-1 days +23:59:59.500000"},
      {0, "0 days 00:00:00"},
  };
  for (const auto& [ns, text] : long_form) {
    CAPTURE(ns);
    CHECK(td::format_timedelta(ns, true) == text);
  }
  // A column of whole days only: pandas prints "2 days", "-3 days".
  CHECK(td::format_timedelta(2 * day, false) == "2 days");
  CHECK(td::format_timedelta(-3 * day, false) == "-3 days");
  CHECK(td::format_timedelta(0, false) == "0 days");
  CHECK(td::format_timedelta(90 * s, false) == "0 days 00:01:30");
}

TEST_CASE("parse_timedelta reads pandas' printed forms and units, other text is refused") {
  // pd.Timedelta(text).value
  const std::vector<std::pair<std::string, std::int64_t>> good{
      {"1 days 02:03:04", 93784000000000},
      {"02:03:04", 7384000000000},
      {"2:03:04", 7384000000000},
      {"-1 days +23:59:59", -1000000000},
      {"-1 days 02:00:00", -79200000000000},
      {"-02:03:04", -7384000000000},
      {"25:00:00", 90000000000000},
      {"1 day", 86400000000000},
      {"1 days", 86400000000000},
      {"  3 days 00:00:00.000000001 ", 259200000000001},
      {"00:00:00.1234567891", 123456789},
      {"0 days 00:00:00.500000", 500000000},
      {"1.5s", 1500000000},
      {"90min", 5400000000000},
      {"2h", 7200000000000},
      {"3d", 259200000000000},
      {"250ms", 250000000},
      {"10us", 10000},
      {"7ns", 7},
      {"-1.5s", -1500000000},
  };
  for (const auto& [text, want] : good) {
    CAPTURE(text);
    std::int64_t ns = -42;
    CHECK(td::parse_timedelta(text, ns));
    CHECK(ns == want);
  }
  // pandas refuses these too ("only leading negative signs", "expected hh:mm:ss format").
  for (const std::string bad : {"1 days -01:00:00", "1 days 02:03", "", "abc", "1 parsecs", "12:60:00",
                                "00:00:61", "1 days 02:03:04x", "99999999999999999999 days", "1 fortnight"}) {
    CAPTURE(bad);
    std::int64_t ns = 0;
    CHECK_FALSE(td::parse_timedelta(bad, ns));
  }
  // Every printed form parses back to its value.
  for (std::int64_t ns : std::vector<std::int64_t>{93784 * s, -s, s / 2, 1, -day, -1'250'000'000, 7 * day + 3}) {
    std::int64_t back = 0;
    CHECK(td::parse_timedelta(td::format_timedelta(ns, true), back));
    CHECK(back == ns);
  }
}

TEST_CASE("a timedelta column prints as pandas prints it, NaT for nulls") {
  td::Table t;
  t.add_column("id", td::Column::from_int64({0, 1, 2, 3, 4, 5}));
  auto d = td::Column::from_timedelta({93784 * s, 2700 * s, -s, 0, 2 * day, s / 2});
  d.set_null(3);
  t.add_column("dur", std::move(d));
  // print(df[["id", "dur"]].head(6)) of the suite's CSV
  CHECK(printed(t) ==
        "   id                    dur\n"
        "0   0        1 days 02:03:04\n"
        "1   1        0 days 00:45:00\n"
        "2   2      -1 days +23:59:59\n"
        "3   3                    NaT\n"
        "4   4        2 days 00:00:00\n"
        "5   5 0 days 00:00:00.500000");
  td::Table w;
  auto days = td::Column::from_timedelta({day, -3 * day, 0});
  days.set_null(2);
  w.add_column("w", std::move(days));
  // pd.DataFrame({"w": pd.to_timedelta(["1 days", "-3 days", None])})
  CHECK(printed(w) == "        w\n0  1 days\n1 -3 days\n2     NaT");
  CHECK(t.at<std::string>("dur", 2) == "-1 days +23:59:59");
  CHECK(t.at<std::int64_t>("dur", 0) == 93784 * s);
  CHECK(std::string(td::dtype_name(td::DType::timedelta)) == "timedelta64[ns]");
}

TEST_CASE("a timedelta column and index survive the codec, nulls included") {
  td::Table t;
  auto d = td::Column::from_timedelta({-s, 0, 5 * day});
  d.set_null(1);
  t.add_column("dur", std::move(d));
  t.set_index({"k"}, {td::Column::from_timedelta({1, 2, 3})});
  const td::Table back = tessera::decode<td::Table>(tessera::encode(t));
  CHECK(back == t);
  CHECK(back.column("dur").dtype == td::DType::timedelta);
  CHECK(back.index_columns().at(0).dtype == td::DType::timedelta);
  CHECK(back.is_null("dur", 1));
  td::Table other = t;
  other.column(0).dtype = td::DType::int64;  // same values, another dtype: not equal
  CHECK_FALSE(other == t);
}

}  // TEST_SUITE
