#pragma once

// DataFrame behaviour, written once. Include after defining TESSERA_TEST_SCHEDULERS and
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Results are compared with values worked out by hand and with the sync scheduler (the oracle).
// Files are written by the driver into a folder every rank sees (the build's temp directory).

#include <tessera/collections/dataframe/arrays.hpp>
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/dataframe_testing.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("read_csv splits a file at record boundaries, quoted newlines included", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("blocks");
  const auto path = write_file(dir, "data.csv", sample_csv(500));
  auto whole = td::read_csv(path, {.parse_dates = {"day"}, .blocksize = 0});
  CHECK(whole.npartitions() == 1);
  // 97-byte blocks: many block edges fall inside quoted fields that hold newlines.
  auto split = td::read_csv(path, {.parse_dates = {"day"}, .blocksize = 97});
  CHECK(split.npartitions() > 50);
  const td::Table a = tessera::compute(whole, sched);
  const td::Table b = tessera::compute(split, sched);
  CHECK(a.num_rows() == 500);
  CHECK(b == a);
  CHECK(a.column("x").dtype == td::DType::float64);
  CHECK(a.column("id").dtype == td::DType::int64);
  CHECK(a.column("flag").dtype == td::DType::boolean);
  CHECK(a.column("day").dtype == td::DType::datetime);
  CHECK(a.at<std::string>("name", 5) == "x, \"quoted\"\nline 5");
  CHECK(a.is_null("x", 3));
  CHECK(a.at<std::string>("day", 1) == "2024-01-02 00:00:00");
}

TEST_CASE_TEMPLATE("reductions skip nulls as pandas", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("reduce");
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.blocksize = 1000});
  const auto xs = sample_x(300);
  double sum = 0, mx = -1e300, mn = 1e300;
  for (double v : xs) {
    sum += v;
    mx = std::max(mx, v);
    mn = std::min(mn, v);
  }
  const double mean = sum / static_cast<double>(xs.size());
  double ss = 0;
  for (double v : xs) ss += (v - mean) * (v - mean);
  const double var = ss / static_cast<double>(xs.size() - 1);
  auto [s, m, lo, hi, c, v, sd] = tessera::compute(df["x"].sum(), df["x"].mean(), df["x"].min(), df["x"].max(),
                                                   df["x"].count(), df["x"].var(), df["x"].std(), sched);
  CHECK(s == doctest::Approx(sum));
  CHECK(m == doctest::Approx(mean));
  CHECK(lo == mn);
  CHECK(hi == mx);
  CHECK(c == static_cast<std::int64_t>(xs.size()));
  CHECK(v == doctest::Approx(var));
  CHECK(sd == doctest::Approx(std::sqrt(var)));
  CHECK(tessera::compute(df.length(), sched) == 300);
}

TEST_CASE_TEMPLATE("filters, expressions, assign and map_partitions", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("filter");
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(200)), {.parse_dates = {"day"}, .blocksize = 700});
  auto kept = df[(df["x"] > 0 && !df["flag"]) || df["group"] == "c"];
  const td::Table t = tessera::compute(kept, sched);
  std::size_t want = 0;
  for (int i = 0; i < 200; ++i) {
    const bool x_pos = i % 7 != 3 && (i % 11) * 0.5 - 2 > 0;
    if ((x_pos && i % 2 == 0) || i % 3 == 2) ++want;
  }
  CHECK(t.num_rows() == want);
  CHECK(t == on_sync(kept));
  // Dates compare with date strings; arithmetic, isna and fillna.
  auto early = df[df["day"] < "2024-01-03"];
  CHECK(tessera::compute(early.length(), sched) == 200 / 28 * 2 + 2);
  auto y = df.assign("y", (df["x"] * 2 + df["id"]).fillna(-1.0)).assign("missing", df["x"].isna());
  const td::Table ty = tessera::compute(y[{"id", "y", "missing"}], sched);
  CHECK(ty.column_names() == std::vector<std::string>{"id", "y", "missing"});
  CHECK(ty.at<double>("y", 3) == -1.0);
  CHECK(ty.at<bool>("missing", 3));
  CHECK(ty.at<double>("y", 4) == doctest::Approx(((4 % 11) * 0.5 - 2) * 2 + 4));
  CHECK(tessera::compute(df["x"].isna().to_frame(), sched).num_rows() == 200);
  auto mp = df.map_partitions(add_one_to_x);
  CHECK(mp.schema().contains("x1"));
  const td::Table tm = tessera::compute(mp, sched);
  CHECK(tm.at<double>("x1", 0) == doctest::Approx(-1.0));
  const td::Table h = tessera::compute(df.head(3), sched);
  CHECK(h.num_rows() == 3);
  CHECK(h.at<std::int64_t>("id", 2) == 2);
  const td::Table tl = tessera::compute(df.tail(2), sched);
  CHECK(tl.at<std::int64_t>("id", 1) == 199);
}

TEST_CASE_TEMPLATE("groupby agg by tree reduction equals a hand count", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("groupby");
  // 80 small blocks: the tree reduction has two combine levels.
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(2000)), {.blocksize = 700});
  REQUIRE(df.npartitions() > 64);
  auto g = df.groupby("group").agg({{"x", {"mean", "count", "max", "first", "last"}}, {"id", {"sum", "size"}}});
  const td::Table t = tessera::compute(g, sched);
  REQUIRE(t.num_rows() == 3);
  CHECK(t.index_at<std::string>(0) == "a");
  CHECK(t.index_at<std::string>(2) == "c");
  for (int k = 0; k < 3; ++k) {
    double sum = 0, mx = -1e300;
    std::int64_t count = 0, ids = 0, size = 0;
    double first = NAN, last = NAN;
    for (int i = k; i < 2000; i += 3) {
      ids += i;
      ++size;
      if (i % 7 == 3) continue;
      const double x = (i % 11) * 0.5 - 2;
      if (count == 0) first = x;
      last = x;
      sum += x;
      ++count;
      mx = std::max(mx, x);
    }
    const auto r = static_cast<std::size_t>(k);
    CHECK(t.at<double>("x_mean", r) == doctest::Approx(sum / static_cast<double>(count)));
    CHECK(t.at<std::int64_t>("x_count", r) == count);
    CHECK(t.at<double>("x_max", r) == mx);
    CHECK(t.at<double>("x_first", r) == first);
    CHECK(t.at<double>("x_last", r) == last);
    CHECK(t.at<std::int64_t>("id_sum", r) == ids);
    CHECK(t.at<std::int64_t>("id_size", r) == size);
  }
  CHECK(t == on_sync(g));
  // Several keys, and value_counts.
  const td::Table two = tessera::compute(df.groupby({"group", "flag"})["x"].mean(), sched);
  CHECK(two.num_rows() == 6);
  CHECK(two.index_columns().size() == 2);
  // int64 and datetime keys.
  auto keyed = df.assign("k", df["id"] % 4);
  const td::Table by_k = tessera::compute(keyed.groupby("k")["id"].agg({{"id", {"count", "min"}}}), sched);
  REQUIRE(by_k.num_rows() == 4);
  CHECK(by_k.index_at<std::int64_t>(3) == 3);
  CHECK(by_k.at<std::int64_t>("id_count", 3) == 500);
  CHECK(by_k.at<std::int64_t>("id_min", 3) == 3);
  auto dated = td::read_csv((dir / "data.csv").string(), {.parse_dates = {"day"}, .blocksize = 5000});
  const td::Table by_day = tessera::compute(dated.groupby("day").size(), sched);
  REQUIRE(by_day.num_rows() == 28);
  CHECK(by_day.index_at<std::string>(27) == "2024-01-28 00:00:00");
  CHECK(by_day.at<std::int64_t>("size", 0) == 72);  // i % 28 == 0 for 72 of 0..1999
  const td::Table vc = tessera::compute(df["group"].value_counts(), sched);
  CHECK(vc.at<std::int64_t>("count", 0) == 667);
  CHECK(vc.index_at<std::string>(0) == "a");
}

TEST_CASE_TEMPLATE("describe and to_csv round trip", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("describe");
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(100)), {.parse_dates = {"day"}, .blocksize = 900});
  const td::Table d = tessera::compute(df.describe(), sched);
  CHECK(d.column_names() == std::vector<std::string>{"id", "x"});
  CHECK(d.at<double>("id", 0) == 100);              // count
  CHECK(d.at<double>("id", 1) == doctest::Approx(49.5));
  CHECK(d.at<double>("id", 3) == 0);                // min
  CHECK(d.at<double>("id", 4) == doctest::Approx(24.75));
  CHECK(d.at<double>("id", 5) == doctest::Approx(49.5));
  CHECK(d.at<double>("id", 7) == 99);
  const auto files = td::to_csv(df, (dir / "out" / "part-*.csv").string(), {.index = false}, *sched);
  CHECK(files.size() == df.npartitions());
  for (const auto& e : std::filesystem::directory_iterator(dir / "out")) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);  // renamed when complete
  }
  auto back = td::read_csv((dir / "out" / "part-*.csv").string(), {.parse_dates = {"day"}, .blocksize = 0});
  const td::Table t = tessera::compute(back, sched);
  const td::Table want = tessera::compute(df, sched);
  CHECK(t.num_rows() == 100);
  // part-10 sorts before part-2: compare as sets of ids via a sum and the first file's rows.
  CHECK(tessera::compute(back["id"].sum(), sched) == doctest::Approx(4950));
  CHECK(t.column("name").dtype == td::DType::string);
  CHECK(t.at<std::string>("name", 0) == want.at<std::string>("name", 0));
}

TEST_CASE_TEMPLATE("a bad row names file, line and column, skip drops it", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("bad");
  const auto path = write_file(dir, "bad.csv", "a,b\n1,2\n3,4\n\"q\nq\",9\n5,oops\n7,8\n");
  auto df = td::read_csv(path, {.dtype = {{"a", td::DType::string}, {"b", td::DType::int64}}});
  try {
    (void)tessera::compute(df, sched);
    FAIL("a bad row must fail");
  } catch (const tessera::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find(path + ":6: column 'b': cannot parse 'oops' as int64") != std::string::npos);
  }
  auto skipped = td::read_csv(path, {.dtype = {{"a", td::DType::string}, {"b", td::DType::int64}},
                                     .on_bad_lines = td::OnBadLines::skip});
  const td::Table t = tessera::compute(skipped, sched);
  CHECK(t.num_rows() == 4);
  CHECK(t.at<std::string>("a", 2) == "q\nq");
  CHECK(t.at<std::int64_t>("b", 3) == 8);
}

TEST_CASE_TEMPLATE("str, dt, astype and where: code points, dates before 1970, Python's float repr", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("methods");
  const auto path = write_file(dir, "m.csv",
                               "name,when,v,s\n"
                               "\" Z\xC3\xBCrich \",1969-12-31 23:30:00,0.1,12\n"
                               "\xC3\x89" "COLE,1970-01-01,1e16,abc\n"
                               ",2024-02-29 13:45:10,1e-05,\n"
                               "plain,1900-03-01,100,-7\n");
  auto df = td::read_csv(path, {.parse_dates = {"when"}});
  const auto name = df["name"], when = df["when"], v = df["v"];
  auto out = df.assign("len", name.str().len())
                 .assign("stripped", name.str().strip().str().len())
                 .assign("lower", name.str().lower())
                 .assign("upper", name.str().upper())
                 .assign("mid", name.str().slice(1, 3))
                 .assign("last3", name.str().slice(-3))
                 .assign("empty", name.str().slice(2, 1))
                 .assign("has_u", name.str().contains("\xC3\xBC"))
                 .assign("starts", name.str().startswith("\xC3\x89"))
                 .assign("year", when.dt().year())
                 .assign("month", when.dt().month())
                 .assign("day", when.dt().day())
                 .assign("hour", when.dt().hour())
                 .assign("minute", when.dt().minute())
                 .assign("second", when.dt().second())
                 .assign("dow", when.dt().dayofweek())
                 .assign("doy", when.dt().dayofyear())
                 .assign("vs", v.astype(td::DType::string))
                 .assign("ws", when.astype(td::DType::string))
                 .assign("big", v.where(v > 1))
                 .assign("small", v.where(v < 1, -1));
  const td::Table t = tessera::compute(out, sched);
  REQUIRE(t.num_rows() == 4);
  CHECK(t.at<std::int64_t>("len", 0) == 8);  // " Zürich ": 8 code points, 9 bytes
  CHECK(t.at<std::int64_t>("stripped", 0) == 6);
  CHECK(t.is_null("len", 2));
  CHECK(t.is_null("lower", 2));
  CHECK(t.is_null("has_u", 2));
  CHECK(t.at<std::string>("lower", 0) == " z\xC3\xBCrich ");
  CHECK(t.at<std::string>("lower", 1) == "\xC3\x89" "cole");  // ASCII letters only
  CHECK(t.at<std::string>("upper", 3) == "PLAIN");
  CHECK(t.at<std::string>("mid", 0) == "Z\xC3\xBC");
  CHECK(t.at<std::string>("last3", 1) == "OLE");
  CHECK(t.at<std::string>("empty", 3).empty());
  CHECK(t.at<bool>("has_u", 0));
  CHECK_FALSE(t.at<bool>("has_u", 3));
  CHECK(t.at<bool>("starts", 1));
  const std::vector<std::vector<std::int64_t>> fields = {  // year month day hour minute second dow doy
      {1969, 12, 31, 23, 30, 0, 2, 365}, {1970, 1, 1, 0, 0, 0, 3, 1}, {2024, 2, 29, 13, 45, 10, 3, 60},
      {1900, 3, 1, 0, 0, 0, 3, 60}};
  const std::vector<std::string> field_names = {"year", "month", "day", "hour", "minute", "second", "dow", "doy"};
  for (std::size_t r = 0; r < 4; ++r) {
    for (std::size_t f = 0; f < field_names.size(); ++f) {
      CAPTURE(r);
      CAPTURE(field_names[f]);
      CHECK(t.at<std::int64_t>(field_names[f], r) == fields[r][f]);
    }
  }
  CHECK(t.at<std::string>("vs", 0) == "0.1");
  CHECK(t.at<std::string>("vs", 1) == "1e+16");
  CHECK(t.at<std::string>("vs", 2) == "1e-05");
  CHECK(t.at<std::string>("vs", 3) == "100.0");
  CHECK(t.at<std::string>("ws", 0) == "1969-12-31 23:30:00");
  CHECK(t.at<std::string>("ws", 1) == "1970-01-01");
  CHECK(t.is_null("big", 0));
  CHECK(t.at<double>("big", 1) == 1e16);
  CHECK(t.at<double>("small", 0) == 0.1);
  CHECK(t.at<double>("small", 3) == -1.0);
  CHECK(t.column("year").dtype == td::DType::int64);

  // Strings to numbers as Python's int(): the filtered rows convert, 'abc' fails naming its row.
  CHECK(tessera::compute(df[df["s"] != "abc"]["s"].astype(td::DType::int64).sum(), sched) == 5.0);
  try {
    (void)tessera::compute(df["s"].astype(td::DType::float64).sum(), sched);
    FAIL("'abc' is not a number");
  } catch (const tessera::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("astype(float64) of s: row 1 is 'abc', not a number") != std::string::npos);
  }
  // Wrong dtypes are refused when the expression is built.
  CHECK_THROWS_WITH_AS((void)v.str(), doctest::Contains("needs a string column; v is float64"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)name.dt(), doctest::Contains("needs a datetime64[ns] column"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)when.astype(td::DType::float64), doctest::Contains("cannot become float64"),
                       td::TypeError);
  CHECK_THROWS_WITH_AS((void)v.where(v), doctest::Contains("not bool"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)name.where(v > 1, 3), doctest::Contains("where: name is object"), td::TypeError);
}

TEST_CASE_TEMPLATE("groupby split_out: range-shuffled groups equal the tree's, in key order", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("split-out");
  std::ostringstream csv;
  csv << "k,name,v,w\n";
  for (int i = 0; i < 4000; ++i) {
    const int k = (i * 7919) % 997;
    csv << k << ",n" << (i % 13 == 0 ? std::string() : std::to_string(i % 311)) << "," << (i % 17 == 0 ? "" : std::to_string(i % 101))
        << "," << i * 0.5 << "\n";
  }
  auto df = td::read_csv(write_file(dir, "g.csv", csv.str()), {.blocksize = 2000});
  REQUIRE(df.npartitions() >= 16);
  const td::AggSpec spec{{"v", {"sum", "mean", "count", "min", "max", "std", "first", "last"}}, {"w", {"size"}}};
  for (const std::vector<std::string>& keys : {std::vector<std::string>{"k"}, {"name"}, {"k", "name"}}) {
    CAPTURE(keys[0]);
    CAPTURE(keys.size());
    const td::Table tree = tessera::compute(df.groupby(keys, {.split_out = 1}).agg(spec), sched);
    auto split = df.groupby(keys, {.split_out = 7}).agg(spec);
    REQUIRE(split.npartitions() == 7);
    check_close(tessera::compute(split, sched), tree);
    // No output holds every group.
    for (const auto& part : split.partitions()) CHECK(tessera::compute(part, sched).num_rows() < tree.num_rows());
    // Automatic: at 16 partitions or more, the shuffle into npartitions outputs.
    auto forced = df.groupby(keys, {.collapse_below = 0}).agg(spec);
    CHECK(forced.npartitions() == df.npartitions());
    check_close(tessera::compute(forced, sched), tree);
  }
  // Automatic with small groups: all of them land in the first output.
  auto small = df.groupby("k").sum();
  REQUIRE(small.npartitions() == df.npartitions());
  CHECK(tessera::compute(small.partitions()[0], sched).num_rows() == 997);
  CHECK(tessera::compute(small.partitions()[1], sched).num_rows() == 0);
  check_close(tessera::compute(small, sched), tessera::compute(df.groupby("k", {.split_out = 1}).sum(), sched));
}

TEST_CASE_TEMPLATE("repartition, concat and from_delayed keep the rows in order", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("repartition");
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.parse_dates = {"day"}, .blocksize = 1500});
  REQUIRE(df.npartitions() >= 5);
  const td::Table all = tessera::compute(df, sched);
  for (std::size_t k : {std::size_t{1}, std::size_t{3}, df.npartitions(), df.npartitions() * 3 + 1}) {
    CAPTURE(k);
    auto r = df.repartition(k);
    CHECK(r.npartitions() == k);
    CHECK(tessera::compute(r, sched) == all);
  }
  // More partitions than rows: some are empty, none lost.
  CHECK(tessera::compute(df.head(4).repartition(9), sched) == tessera::compute(df.head(4), sched));
  const td::Table twice = tessera::compute(td::concat({df, df.repartition(2)}), sched);
  CHECK(twice.num_rows() == 600);
  CHECK(twice.slice(300, 600) == all);
  CHECK_THROWS_WITH_AS((void)td::concat({df, df[{"id", "x"}]}), doctest::Contains("concat: DataFrame 1 has 2 columns"),
                       td::TypeError);
  CHECK_THROWS_AS((void)df.repartition(0), tessera::GraphError);
  // from_delayed / to_delayed: the partitions round trip; a partition of other columns is named.
  auto back = td::from_delayed(df.to_delayed(), df.schema());
  CHECK(tessera::compute(back, sched) == all);
  auto wrong = td::from_delayed(df[{"id"}].to_delayed(), df.schema());
  try {
    (void)tessera::compute(wrong, sched);
    FAIL("a partition without the meta's columns must fail");
  } catch (const tessera::Error& e) {
    const std::string msg = e.what();  // whichever partition failed first, named with both column lists
    CHECK(msg.find("from_delayed: partition ") != std::string::npos);
    CHECK(msg.find(" has columns [id:int64], the meta [id:int64, group:object") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS((void)df.nlargest(3, "name"), doctest::Contains("nlargest: column 'name' is object"), td::TypeError);
  // nlargest of more rows than there are: all non-null ones, largest first.
  const td::Table top = tessera::compute(df.nlargest(1000, "x"), sched);
  CHECK(top.num_rows() == static_cast<std::size_t>(tessera::compute(df["x"].count(), sched)));
  for (std::size_t i = 1; i < top.num_rows(); ++i) CHECK(top.at<double>("x", i - 1) >= top.at<double>("x", i));
}

TEST_CASE_TEMPLATE("from_array and to_array: a partition per block of rows, dtypes and nulls as documented", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  // 7 x 3 of 0..20, blocks of 3 rows and of 2 columns: rechunked to one block of columns.
  std::vector<double> v(21);
  for (int k = 0; k < 21; ++k) v[k] = k;
  const tessera::Array x = tessera::array::from_vector(v, {7, 3}, {3, 2});
  auto df = td::from_array(x, {"a", "b", "c"});
  CHECK(df.npartitions() == 3);
  const td::Table t = tessera::compute(df, sched);
  REQUIRE(t.num_rows() == 7);
  CHECK(t.column("c").dtype == td::DType::float64);
  for (std::size_t r = 0; r < 7; ++r) CHECK(t.at<double>("b", r) == 3.0 * r + 1);
  // Integers become int64 columns; a 1-d array one column named "0".
  const std::vector<std::int32_t> small{5, -6, 7, 8, 9};
  const td::Table one = tessera::compute(td::from_array(tessera::array::from_vector(small, {5}, {2})), sched);
  CHECK(one.column_names() == std::vector<std::string>{"0"});
  CHECK(one.column("0").i64 == std::vector<std::int64_t>{5, -6, 7, 8, 9});
  CHECK_THROWS_WITH_AS((void)td::from_array(x, {"a"}), doctest::Contains("1 column names for an array of shape"),
                       tessera::ShapeError);

  // Back: lengths computed on this scheduler; float64, NaN where x is null; the same blocks.
  const auto dir = fresh_dir("to_array");
  auto csv = td::read_csv(write_file(dir, "data.csv", sample_csv(40)), {.blocksize = 300});
  REQUIRE(csv.npartitions() >= 3);
  const td::Table all = tessera::compute(csv, sched);
  auto mixed = csv[{"id", "x"}];
  const tessera::Array ax = td::to_array(mixed, tessera::compute(td::partition_lengths(mixed), sched));
  CHECK(ax.dtype() == tessera::DType::float64);
  CHECK(ax.shape() == tessera::Shape{40, 2});
  CHECK(ax.chunks()[0].size() == csv.npartitions());
  const tessera::NDArray nx = tessera::compute(ax, sched);
  for (std::size_t r = 0; r < 40; ++r) {
    CHECK(nx.at<double>(r, 0) == static_cast<double>(r));
    if (all.is_null("x", r)) CHECK(std::isnan(nx.at<double>(r, 1)));
    else CHECK(nx.at<double>(r, 1) == all.at<double>("x", r));
  }
  // One dtype stays: int64 ids, bool flags. The round trip gives the frame back.
  const tessera::NDArray ids = tessera::compute(td::to_array(csv[{"id"}], tessera::compute(td::partition_lengths(csv), sched)), sched);
  CHECK(ids.dtype() == tessera::DType::int64);
  CHECK(ids.at<std::int64_t>(39, 0) == 39);
  auto flags = td::to_array(csv[{"flag"}], tessera::compute(td::partition_lengths(csv), sched));
  CHECK(flags.dtype() == tessera::DType::bool_);
  CHECK(tessera::compute(td::from_array(flags, {"flag"}), sched) == tessera::compute(csv[{"flag"}], sched));
  // Errors: a string column at once; wrong lengths and nulls in an int64 Array in the task, named.
  CHECK_THROWS_WITH_AS((void)td::to_array(csv, {1}), doctest::Contains("to_array: column 'group' is object"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)td::to_array(mixed, {1, 2}), doctest::Contains("2 lengths for"), tessera::ShapeError);
  std::vector<std::int64_t> wrong = tessera::compute(td::partition_lengths(csv), sched);
  wrong[1] += 1;  // only partition 1 disagrees with its length
  const std::string says = "to_array: partition 1 has " + std::to_string(wrong[1] - 1) + " rows, its length says " +
                           std::to_string(wrong[1]);
  CHECK_THROWS_WITH((void)tessera::compute(td::to_array(mixed, wrong), sched), doctest::Contains(says.c_str()));
  auto holes = td::from_delayed(
      {tessera::delayed([] {
         td::Column c = td::Column::from_int64({1, 2});
         c.set_null(1);
         td::Table h;
         h.add_column("n", std::move(c));
         return h;
       }, {.name = "holes"})()},
      td::Schema{.columns = {{"n", td::DType::int64}}, .index = {}});
  CHECK_THROWS_WITH((void)tessera::compute(td::to_array(holes, {2}), sched),
                    doctest::Contains("column 'n' has nulls in partition 0"));
  // Without lengths they are computed first (on the default scheduler).
  CHECK(td::to_array(mixed).chunks() == ax.chunks());
}

}  // TEST_SUITE
