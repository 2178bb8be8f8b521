// Table storage, printing and Codec; CSV edge cases; errors thrown when an expression is built.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <zlib.h>
#include <zstd.h>

#include <charconv>
#include <cmath>
#include <random>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/dataframe_testing.hpp"

namespace {
namespace td = tessera::dataframe;
using dataframe_suite::fresh_dir;
using dataframe_suite::write_file;

td::Table read(const std::string& path, const td::CsvOptions& o = {}) {
  tessera::SyncScheduler sync;
  return tessera::compute(td::read_csv(path, o), sync);
}

std::string printed(const td::Table& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

td::Table small() {
  td::Table t;
  t.add_column("x", td::Column::from_int64({1, 2, 30}));
  auto f = td::Column::from_float64({1.5, 2.25, 3});
  f.set_null(1);
  t.add_column("f", std::move(f));
  auto s = td::Column::from_strings({"a", "bb", "c"});
  s.set_null(2);
  t.add_column("s", std::move(s));
  t.add_column("b", td::Column::from_bool({true, false, true}));
  return t;
}
}  // namespace

TEST_SUITE("dataframe.table") {

TEST_CASE("a table prints as pandas prints it") {
  CHECK(printed(small()) == "    x    f    s      b\n0   1  1.5    a   True\n1   2  NaN   bb  False\n2  30  3.0  NaN   True");
  td::Table g;
  g.set_index({"Origin"}, {td::Column::from_strings({"EWR", "JFK"})});
  g.add_column("DepDelay", td::Column::from_float64({1.123456789, 20}));
  // pandas 1.5's own output for the same frames.
  CHECK(printed(g) == "         DepDelay\nOrigin           \nEWR      1.123457\nJFK     20.000000");
  td::Table big;
  std::vector<std::int64_t> v(100);
  for (int i = 0; i < 100; ++i) v[static_cast<std::size_t>(i)] = i;
  big.add_column("v", td::Column::from_int64(v));
  CHECK(printed(big) == "     v\n0    0\n1    1\n2    2\n3    3\n4    4\n..  ..\n95  95\n96  96\n97  97\n98  98\n99  99\n\n[100 rows x 1 columns]");
  td::Table e = td::empty_table(td::Schema{{{"a", td::DType::int64}}, {}});
  CHECK(printed(e) == "Empty DataFrame\nColumns: [a]\nIndex: []");
}

TEST_CASE("a table survives its codec, nulls, strings and index included") {
  td::Table t = small();
  t.set_index({"k"}, {td::Column::from_datetime({0, 86'400'000'000'000, 1})});
  const auto bytes = tessera::encode(t);
  const td::Table back = tessera::decode<td::Table>(bytes);
  CHECK(back == t);
  CHECK(back.is_null("f", 1));
  CHECK(back.index_at<std::string>(1) == "1970-01-02 00:00:00");
  auto cut = bytes;
  cut.resize(cut.size() - 3);
  CHECK_THROWS_AS((void)tessera::decode<td::Table>(cut), tessera::SerializationError);
}

TEST_CASE("unknown columns and dtype errors are thrown when the expression is built") {
  const auto dir = fresh_dir("errors");
  auto df = td::read_csv(write_file(dir, "a.csv", "a,b,s\n1,2.5,x\n"));
  try {
    (void)df["nope"];
    FAIL("unknown column");
  } catch (const td::ColumnError& e) {
    CHECK(std::string(e.what()).find("no column 'nope'; the columns are ['a', 'b', 's']") != std::string::npos);
  }
  CHECK_THROWS_AS((void)(df["s"] + df["a"]), td::TypeError);
  try {
    (void)!df["a"];
    FAIL("! of int64");
  } catch (const td::TypeError& e) {
    CHECK(std::string(e.what()).find("a is int64") != std::string::npos);
  }
  CHECK_THROWS_AS((void)df[df["a"]], td::TypeError);
  CHECK_THROWS_AS((void)df["s"].sum(), td::TypeError);
  CHECK_THROWS_AS((void)df.groupby("a").agg({{"s", {"mean"}}}), td::TypeError);
  CHECK_THROWS_AS((void)df.groupby("a").agg({{"b", {"median"}}}), td::TypeError);
  CHECK_THROWS_AS((void)df.groupby("zz"), td::ColumnError);
  CHECK_THROWS_AS((void)td::read_csv((dir / "a.csv").string(), {.usecols = {"q"}}), td::ColumnError);
  CHECK_THROWS_AS((void)td::read_csv((dir / "none-*.csv").string()), tessera::StorageError);
  auto other = td::read_csv(write_file(dir, "b.csv", "a,b,s\n1,2.5,x\n"));
  CHECK_THROWS_AS((void)df[other["a"] > 0], tessera::GraphError);
}

TEST_CASE("CSV edge cases: CRLF, no final newline, quotes, empty file, header only, NA") {
  const auto dir = fresh_dir("edges");
  const td::Table crlf = read(write_file(dir, "crlf.csv", "a,b\r\n1,\"x,\"\"y\"\"\r\nz\"\r\n2,w"));
  REQUIRE(crlf.num_rows() == 2);
  CHECK(crlf.at<std::string>("b", 0) == "x,\"y\"\r\nz");
  CHECK(crlf.at<std::string>("b", 1) == "w");
  CHECK(crlf.at<std::int64_t>("a", 1) == 2);
  CHECK_THROWS_AS((void)td::read_csv(write_file(dir, "empty.csv", "")), tessera::StorageError);
  const td::Table header_only = read(write_file(dir, "header.csv", "a,b\n"));
  CHECK(header_only.num_rows() == 0);
  CHECK(header_only.column_names() == std::vector<std::string>{"a", "b"});
  const td::Table na = read(write_file(dir, "na.csv", "a,b,c\n1,NA,x\n,2,\n3,missing,NULL\n\n4,5,y\n"),
                            {.na_values = {"missing"}});
  REQUIRE(na.num_rows() == 4);
  CHECK(na.column("a").dtype == td::DType::float64);  // NA in the sample: float64, as pandas
  CHECK(na.is_null("a", 1));
  CHECK(na.is_null("b", 0));
  CHECK(na.is_null("b", 2));
  CHECK(na.is_null("c", 1));
  CHECK(na.is_null("c", 2));
  CHECK(na.at<double>("b", 3) == 5);
  const td::Table used = read((dir / "na.csv").string(), {.na_values = {"missing"}, .usecols = {"c", "a"}});
  CHECK(used.column_names() == std::vector<std::string>{"a", "c"});
  const td::Table typed = read((dir / "na.csv").string(), {.keep_default_na = false, .dtype = {{"b", td::DType::string}}});
  CHECK(typed.at<std::string>("b", 0) == "NA");
  CHECK(typed.at<std::string>("c", 2) == "NULL");
  // A row with fewer fields gets nulls; more fields is a bad row.
  const td::Table short_row = read(write_file(dir, "short.csv", "a,b\n1\n2,3\n"));
  CHECK(short_row.is_null("b", 0));
  try {
    (void)read(write_file(dir, "long.csv", "a,b\n1,2\n3,4,5\n"));
    FAIL("too many fields");
  } catch (const tessera::Error& e) {
    CHECK(std::string(e.what()).find("long.csv:3: expected 2 fields, saw 3") != std::string::npos);
  }
}

TEST_CASE("a non-numeric value after the sample is an error naming file, line and column") {
  const auto dir = fresh_dir("late");
  std::string text = "n,v\n";
  for (int i = 0; i < 3000; ++i) text += std::to_string(i) + "," + std::to_string(i * 2) + "\n";
  text += "3000,abc\n";
  const auto path = write_file(dir, "late.csv", text);
  try {
    (void)read(path, {.sample = 1000});
    FAIL("abc is not an int64");
  } catch (const tessera::Error& e) {
    CHECK(std::string(e.what()).find(path + ":3002: column 'v': cannot parse 'abc' as int64") != std::string::npos);
  }
  const td::Table t = read(path, {.dtype = {{"v", td::DType::string}}, .sample = 1000});
  CHECK(t.at<std::string>("v", 3000) == "abc");
}

TEST_CASE("gzip and zstd files are read by suffix") {
  const auto dir = fresh_dir("compressed");
  const std::string text = dataframe_suite::sample_csv(300);
  {
    gzFile g = gzopen((dir / "a.csv.gz").c_str(), "wb");
    gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
    gzclose(g);
    std::string z(ZSTD_compressBound(text.size()), '\0');
    z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
    std::ofstream(dir / "a.csv.zst", std::ios::binary) << z;
  }
  const td::Table plain = read(write_file(dir, "a.csv", text));
  CHECK(read((dir / "a.csv.gz").string(), {.blocksize = 100}) == plain);
  CHECK(read((dir / "a.csv.zst").string()) == plain);
  auto both = td::read_csv({(dir / "a.csv.gz").string(), (dir / "a.csv.zst").string()});
  CHECK(both.npartitions() == 2);
}

TEST_CASE("format_csv quotes what needs quotes and writes nulls empty") {
  const std::string csv = td::format_csv(small(), {.index = false});
  CHECK(csv == "x,f,s,b\n1,1.5,a,True\n2,,bb,False\n30,3.0,,True\n");
  td::Table q;
  q.add_column("s", td::Column::from_strings({"a,b", "say \"hi\"", "two\nlines"}));
  CHECK(td::format_csv(q) == ",s\n0,\"a,b\"\n1,\"say \"\"hi\"\"\"\n2,\"two\nlines\"\n");
}

TEST_CASE("validity bits stay right when values follow nulls for many words") {
  td::Column c(td::DType::float64);
  c.push_null();
  for (int i = 0; i < 1000; ++i) c.push_float(i);
  c.push_null();
  CHECK(c.size() == 1002);
  CHECK(c.null_count() == 2);
  CHECK(c.is_null(0));
  CHECK(!c.is_null(500));
  CHECK(c.is_null(1001));
  td::Column d = td::Column::from_float64({1, 2, 3});
  d.append(c);
  CHECK(d.null_count() == 2);
  CHECK(d.is_null(3));
  CHECK(d.is_null(1004));
  CHECK(!d.is_null(1003));
}

TEST_CASE("floats parse to the same doubles as std::from_chars") {
  std::mt19937_64 rng(7);
  std::vector<std::string> texts = {"0", "-0", "1.", "0.1", "-0.000001", "123456789012345", "1234567890123456",
                                    "0.30000000000000004", "1e300", "-2.5E-3", "inf", "12345.678901234567"};
  for (int i = 0; i < 2000; ++i) {
    const auto digits = std::to_string(rng() % 10'000'000'000'000'000ULL);
    const auto cut = rng() % (digits.size() + 1);
    texts.push_back((rng() % 2 ? "-" : "") + digits.substr(0, cut) + "." + digits.substr(cut));
  }
  std::string csv = "v\n";
  for (const auto& t : texts) csv += t + "\n";
  const auto dir = fresh_dir("floats");
  const td::Table t = read(write_file(dir, "f.csv", csv), {.dtype = {{"v", td::DType::float64}}});
  REQUIRE(t.num_rows() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double want = 0;
    std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), want);
    CHECK_MESSAGE(t.column("v").f64[i] == want, texts[i]);
  }
}

}  // TEST_SUITE
