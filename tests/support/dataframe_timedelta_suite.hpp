#pragma once

// timedelta64[ns] behaviour, written once. Include after defining TESSERA_TEST_SCHEDULERS and
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Every expected value below is a literal computed with pandas 1.5.3 (/usr/bin/python3) on the
// CSV of timedelta_csv(): pd.read_csv(..., parse_dates=["dep", "arr"]), then
// df["dur"] = pd.to_timedelta(df["dur"]), and the pandas expression named next to each literal
// (Timedelta values as .value, nanoseconds).

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/dataframe_testing.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dataframe_suite {

/// 12 rows: dur holds pandas' printed forms, "-00:10:00", an empty field and NaT (nulls).
inline std::string timedelta_csv() {
  return "id,g,n,x,dep,arr,dur\n"
         "0,a,-7,-1.0,2024-03-01 00:00:00,2024-03-02 00:00:00,1 days 02:03:04\n"
         "1,b,-4,-0.75,2024-03-02 01:07:00,2024-03-03 05:11:13,00:45:00\n"
         "2,a,-1,-0.5,2024-03-03 02:14:00,2024-03-04 10:22:26,-1 days +23:59:59\n"
         "3,b,2,-0.25,2024-03-04 03:21:00,2024-03-05 15:33:39,\n"
         "4,a,5,0.0,2024-03-05 04:28:00,2024-03-06 20:44:52,2 days\n"
         "5,c,8,0.25,2024-03-06 05:35:00,2024-03-07 01:55:05,00:00:00.5\n"
         "6,a,11,0.5,2024-03-07 06:42:00,2024-03-08 06:06:18,01:30:00\n"
         "7,b,14,0.75,2024-03-08 07:49:00,2024-03-09 11:17:31,NaT\n"
         "8,a,17,1.0,2024-03-09 08:56:00,2024-03-10 16:28:44,-00:10:00\n"
         "9,b,20,1.25,2024-03-10 09:03:00,2024-03-11 21:39:57,1 days 00:00:01\n"
         "10,a,23,1.5,2024-03-11 10:10:00,2024-03-12 02:50:10,00:00:00.000001\n"
         "11,b,26,1.75,2024-03-12 11:17:00,2024-03-13 07:01:23,03:00:00\n";
}

using Ns = std::vector<std::optional<std::int64_t>>;
constexpr std::nullopt_t nat = std::nullopt;

/// The column's values (nulls as nat); CHECKs its dtype.
inline Ns ns_of(const td::Column& c, td::DType want) {
  CHECK(c.dtype == want);
  Ns out;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.is_null(i)) out.emplace_back(nat);
    else out.emplace_back(c.i64[i]);
  }
  return out;
}

inline td::DataFrame timedelta_frame(const std::filesystem::path& dir) {
  // 130-byte blocks: several partitions, so every reduction combines partial states.
  return td::read_csv(write_file(dir, "td.csv", timedelta_csv()),
                      {.parse_dates = {"dep", "arr"}, .parse_timedeltas = {"dur"}, .blocksize = 130});
}

}  // namespace dataframe_suite

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("timedelta64[ns]: read_csv parses pandas' forms, arithmetic follows pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  auto df = timedelta_frame(fresh_dir("td-arith"));
  CHECK(df.npartitions() > 3);
  CHECK(df["dur"].dtype() == td::DType::timedelta);
  auto dur = df["dur"], dep = df["dep"], arr = df["arr"];
  auto out = df[{"id"}]
                 .assign("dur", dur)
                 .assign("trip", arr - dep)
                 .assign("dep_plus", dep + dur)
                 .assign("dep_minus", dep - dur)
                 .assign("sum", dur + (arr - dep))
                 .assign("times_n", dur * df["n"])
                 .assign("times_x", dur * df["x"])
                 .assign("times_15", 1.5 * dur)
                 .assign("div_3", dur / 3)
                 .assign("ratio", dur / (arr - dep))
                 .assign("neg", -dur)
                 .assign("abs", dur.abs())
                 .assign("gt_90min", dur > td::Timedelta::minutes(90))
                 .assign("le_text", dur <= "01:30:00")
                 .assign("minus_lit", dur - td::Timedelta::seconds(1));
  const td::Table t = tessera::compute(out, sched);
  // df["dur"]
  CHECK(ns_of(t.column("dur"), td::DType::timedelta) ==
        Ns{93784000000000, 2700000000000, -1000000000, nat, 172800000000000, 500000000, 5400000000000, nat,
           -600000000000, 86401000000000, 1000, 10800000000000});
  // df.arr - df.dep
  CHECK(ns_of(t.column("trip"), td::DType::timedelta) ==
        Ns{86400000000000, 101053000000000, 115706000000000, 130359000000000, 145012000000000, 73205000000000,
           84258000000000, 98911000000000, 113564000000000, 131817000000000, 60010000000000, 71063000000000});
  // df.dep + df.dur, df.dep - df.dur
  CHECK(ns_of(t.column("dep_plus"), td::DType::datetime) ==
        Ns{1709344984000000000, 1709344320000000000, 1709432039000000000, nat, 1709785680000000000,
           1709703300500000000, 1709799120000000000, nat, 1709973960000000000, 1710147781000000000,
           1710151800000001000, 1710253020000000000});
  CHECK(ns_of(t.column("dep_minus"), td::DType::datetime) ==
        Ns{1709157416000000000, 1709338920000000000, 1709432041000000000, nat, 1709440080000000000,
           1709703299500000000, 1709788320000000000, nat, 1709975160000000000, 1709974979000000000,
           1710151799999999000, 1710231420000000000});
  // df.dur + (df.arr - df.dep)
  CHECK(ns_of(t.column("sum"), td::DType::timedelta) ==
        Ns{180184000000000, 103753000000000, 115705000000000, nat, 317812000000000, 73205500000000,
           89658000000000, nat, 112964000000000, 218218000000000, 60010000001000, 81863000000000});
  // df.dur * df.n, df.dur * df.x, df.dur * 1.5, df.dur / 3
  CHECK(ns_of(t.column("times_n"), td::DType::timedelta) ==
        Ns{-656488000000000, -10800000000000, 1000000000, nat, 864000000000000, 4000000000, 59400000000000, nat,
           -10200000000000, 1728020000000000, 23000, 280800000000000});
  CHECK(ns_of(t.column("times_x"), td::DType::timedelta) ==
        Ns{-93784000000000, -2025000000000, 500000000, nat, 0, 125000000, 2700000000000, nat, -600000000000,
           108001250000000, 1500, 18900000000000});
  CHECK(ns_of(t.column("times_15"), td::DType::timedelta) ==
        Ns{140676000000000, 4050000000000, -1500000000, nat, 259200000000000, 750000000, 8100000000000, nat,
           -900000000000, 129601500000000, 1500, 16200000000000});
  CHECK(ns_of(t.column("div_3"), td::DType::timedelta) ==
        Ns{31261333333333, 900000000000, -333333333, nat, 57600000000000, 166666666, 1800000000000, nat,
           -200000000000, 28800333333333, 333, 3600000000000});
  // df.dur / (df.arr - df.dep)
  const std::vector<double> ratio{1.085462962962963,     0.02671865258824577, -8.642594161063386e-06, 0,
                                  1.1916255206465671,    6.830134553650707e-06, 0.0640888698995941,   0,
                                  -0.005283364446479518, 0.6554617386224842,    1.6663889351774705e-11,
                                  0.15197782249553213};
  const td::Column& r = t.column("ratio");
  CHECK(r.dtype == td::DType::float64);
  for (std::size_t i = 0; i < ratio.size(); ++i) {
    CAPTURE(i);
    CHECK(r.is_null(i) == (i == 3 || i == 7));
    if (!r.is_null(i)) CHECK(r.f64[i] == doctest::Approx(ratio[i]).epsilon(1e-15));
  }
  // -df.dur, df.dur.abs()
  CHECK(ns_of(t.column("neg"), td::DType::timedelta) ==
        Ns{-93784000000000, -2700000000000, 1000000000, nat, -172800000000000, -500000000, -5400000000000, nat,
           600000000000, -86401000000000, -1000, -10800000000000});
  CHECK(ns_of(t.column("abs"), td::DType::timedelta) ==
        Ns{93784000000000, 2700000000000, 1000000000, nat, 172800000000000, 500000000, 5400000000000, nat,
           600000000000, 86401000000000, 1000, 10800000000000});
  // df.dur > pd.Timedelta(minutes=90), df.dur <= pd.Timedelta("01:30:00")
  const std::vector<int> gt{1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1}, le{0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0};
  for (std::size_t i = 0; i < gt.size(); ++i) {
    CAPTURE(i);
    CHECK(t.column("gt_90min").b8[i] == gt[i]);
    CHECK(t.column("le_text").b8[i] == le[i]);
  }
  CHECK(t.column("minus_lit").i64[0] == 93783000000000);
}

TEST_CASE_TEMPLATE("timedelta64[ns]: .dt components, to_timedelta, reductions and groupby as pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  auto df = timedelta_frame(fresh_dir("td-reduce"));
  auto dur = df["dur"];
  auto out = df[{"id"}]
                 .assign("days", dur.dt().days())
                 .assign("seconds", dur.dt().seconds())
                 .assign("micro", dur.dt().microseconds())
                 .assign("total", dur.dt().total_seconds())
                 .assign("n_s", td::to_timedelta(df["n"], "s"))
                 .assign("x_ms", td::to_timedelta(df["x"], "ms"))
                 .assign("parsed", td::to_timedelta(dur.astype(td::DType::string)));
  const td::Table t = tessera::compute(out, sched);
  // df.dur.dt.days, .dt.seconds, .dt.microseconds (pandas gives float64 for the NaT rows)
  CHECK(ns_of(t.column("days"), td::DType::int64) == Ns{1, 0, -1, nat, 2, 0, 0, nat, -1, 1, 0, 0});
  CHECK(ns_of(t.column("seconds"), td::DType::int64) ==
        Ns{7384, 2700, 86399, nat, 0, 0, 5400, nat, 85800, 1, 0, 10800});
  CHECK(ns_of(t.column("micro"), td::DType::int64) == Ns{0, 0, 0, nat, 0, 500000, 0, nat, 0, 0, 1, 0});
  // df.dur.dt.total_seconds()
  const std::vector<double> total{93784.0, 2700.0, -1.0, 0, 172800.0, 0.5, 5400.0, 0, -600.0, 86401.0, 1e-06, 10800.0};
  for (std::size_t i = 0; i < total.size(); ++i) {
    CAPTURE(i);
    if (i != 3 && i != 7) CHECK(t.column("total").f64[i] == total[i]);
  }
  CHECK(t.column("total").is_null(3));
  // pd.to_timedelta(df.n, unit="s"), pd.to_timedelta(df.x, unit="ms")
  CHECK(ns_of(t.column("n_s"), td::DType::timedelta) ==
        Ns{-7000000000, -4000000000, -1000000000, 2000000000, 5000000000, 8000000000, 11000000000, 14000000000,
           17000000000, 20000000000, 23000000000, 26000000000});
  CHECK(ns_of(t.column("x_ms"), td::DType::timedelta) ==
        Ns{-1000000, -750000, -500000, -250000, 0, 250000, 500000, 750000, 1000000, 1250000, 1500000, 1750000});
  // astype(str) then to_timedelta gives the values back (pandas' printed form parses)
  CHECK(ns_of(t.column("parsed"), td::DType::timedelta) == ns_of(tessera::compute(df, sched).column("dur"), td::DType::timedelta));

  // df.dur.sum().value, .mean(), .min(), .max(), .count(), .std() (nulls skipped)
  CHECK(tessera::compute(dur.sum(), sched) == 371284500001000.0);
  CHECK(tessera::compute(dur.mean(), sched) == doctest::Approx(37128450000100.0).epsilon(1e-13));
  CHECK(tessera::compute(dur.min(), sched) == -600000000000.0);
  CHECK(tessera::compute(dur.max(), sched) == 172800000000000.0);
  CHECK(tessera::compute(dur.count(), sched) == 10);
  // apply_rows hands a timedelta to a std::int64_t parameter as its nanoseconds (NaT rows give
  // null without a call); resample sums a timedelta column per bin as a timedelta.
  {
    const auto plus_one = df.apply_rows({"dur"}, [](std::int64_t ns) { return ns + 1; });
    const td::Table with = tessera::compute(df.assign("ns1", plus_one), sched);
    Ns want = ns_of(with.column("dur"), td::DType::timedelta);
    for (auto& v : want) if (v) *v += 1;
    CHECK(ns_of(with.column("ns1"), td::DType::int64) == want);
    // df[["dep", "dur"]].set_index("dep").resample("5D").dur.sum().astype("int64")
    const td::Table bins = tessera::compute(df[{"dep", "dur"}].set_index("dep").resample("5D").sum(), sched);
    CHECK(ns_of(bins.column("dur"), td::DType::timedelta) == Ns{269283000000000, 91201500000000, 10800000001000});
  }
  CHECK(tessera::compute(dur.std(), sched) == doctest::Approx(60082021219284.0).epsilon(1e-12));
  CHECK_THROWS_WITH_AS((void)dur.var(), doctest::Contains("var: dur is timedelta64[ns]"), td::TypeError);

  // df.groupby("g").dur.agg(["sum", "mean", "min", "max", "count"]); std per group:
  // [v.std().value for _, v in df.groupby("g").dur] (pandas 1.5.3's groupby std fails on timedelta)
  const td::Table g = tessera::compute(df.groupby("g").agg({{"dur", {"sum", "mean", "min", "max", "count", "std"}}}), sched);
  CHECK(ns_of(g.column("dur_sum"), td::DType::timedelta) == Ns{271383000001000, 99901000000000, 500000000});
  CHECK(ns_of(g.column("dur_mean"), td::DType::timedelta) == Ns{45230500000166, 33300333333333, 500000000});
  CHECK(ns_of(g.column("dur_min"), td::DType::timedelta) == Ns{-600000000000, 2700000000000, 500000000});
  CHECK(ns_of(g.column("dur_max"), td::DType::timedelta) == Ns{172800000000000, 86401000000000, 500000000});
  CHECK(ns_of(g.column("dur_count"), td::DType::int64) == Ns{6, 3, 1});
  const Ns gstd = ns_of(g.column("dur_std"), td::DType::timedelta);
  REQUIRE(gstd.size() == 3);
  CHECK(static_cast<double>(*gstd[0]) == doctest::Approx(72677382830437.0).epsilon(1e-12));
  CHECK(static_cast<double>(*gstd[1]) == doctest::Approx(46164522095797.0).epsilon(1e-12));
  CHECK(gstd[2] == nat);
  // The range-shuffled groupby gives the same table (timedelta accumulators through the shuffle).
  const td::Table g2 = tessera::compute(
      df.groupby("g", {.split_out = 2}).agg({{"dur", {"sum", "mean", "min", "max", "count", "std"}}}), sched);
  CHECK(g2 == g);
  CHECK_THROWS_WITH_AS((void)df.groupby("g").agg({{"dur", {"var"}}}), doctest::Contains("'var' of column 'dur'"),
                       td::TypeError);
}

TEST_CASE_TEMPLATE("timedelta64[ns]: sort and merge keys, to_csv as pandas writes, type errors at build", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("td-keys");
  auto df = timedelta_frame(dir);
  // df.sort_values("dur", kind="stable").id (NaT last)
  const td::Table sorted = tessera::compute(df.sort_values("dur"), sched);
  CHECK(ns_of(sorted.column("id"), td::DType::int64) == Ns{8, 2, 10, 5, 1, 6, 11, 9, 0, 4, 3, 7});
  // df.nlargest(3, "dur").id, df.nsmallest(2, "dur").id
  CHECK(ns_of(tessera::compute(df.nlargest(3, "dur"), sched).column("id"), td::DType::int64) == Ns{4, 0, 9});
  CHECK(ns_of(tessera::compute(df.nsmallest(2, "dur"), sched).column("id"), td::DType::int64) == Ns{8, 2});
  // A merge on the timedelta key: each non-null dur matches its own row; the nulls match each other.
  const td::Table m = tessera::compute(df[{"id", "dur"}].merge(df[{"dur", "n"}], {.on = {"dur"}}).sort_values("id"), sched);
  CHECK(m.num_rows() == 14);  // 10 + 2 x 2 null keys
  // df[["id", "dur"]].to_csv(index=False)
  const td::Table all = tessera::compute(df[{"id", "dur"}], sched);
  CHECK(td::format_csv(all, {.index = false}) ==
        "id,dur\n0,1 days 02:03:04\n1,0 days 00:45:00\n2,-1 days +23:59:59\n3,\n4,2 days 00:00:00\n"
        "5,0 days 00:00:00.500000\n6,0 days 01:30:00\n7,\n8,-1 days +23:50:00\n9,1 days 00:00:01\n"
        "10,0 days 00:00:00.000001\n11,0 days 03:00:00\n");
  const auto files = td::to_csv(df, (dir / "out-*.csv").string(), {.index = false}, *sched);
  auto back = td::read_csv(files, {.parse_dates = {"dep", "arr"}, .parse_timedeltas = {"dur"}});
  CHECK(tessera::compute(back, sched) == on_sync(df));

  auto dep = df["dep"], dur = df["dur"], n = df["n"];
  CHECK_THROWS_WITH_AS((void)(dep + dep), doctest::Contains("(datetime64[ns] + datetime64[ns])"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(dur + n), doctest::Contains("dur and n (timedelta64[ns] + int64)"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(dur * dur), doctest::Contains("(timedelta64[ns] * timedelta64[ns])"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(n / dur), doctest::Contains("(int64 / timedelta64[ns])"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(dur < 5), doctest::Contains("(timedelta64[ns] < int64)"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(dur > "soon"), doctest::Contains("'soon' is not a duration"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)dur.dt().year(), doctest::Contains(".dt.year needs a datetime64[ns] column; dur is timedelta64[ns]"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)dep.dt().days(), doctest::Contains(".dt.days needs a timedelta64[ns] column; dep is datetime64[ns]"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)n.dt(), doctest::Contains("needs a datetime64[ns] column or a timedelta64[ns] column"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)td::to_timedelta(n, "fortnights"), doctest::Contains("unknown unit 'fortnights'"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)(-dep), doctest::Contains("dep is datetime64[ns]"), td::TypeError);
  CHECK_THROWS_WITH_AS((void)n.fillna(td::Timedelta::seconds(1)), doctest::Contains("the value is timedelta64[ns]"),
                       td::TypeError);
  CHECK_THROWS_WITH_AS((void)df["x"].where(n > 0, td::Timedelta::seconds(1)),
                       doctest::Contains("other is timedelta64[ns]"), td::TypeError);
  // fillna and where with a duration on a timedelta column: pandas' dur.fillna(pd.Timedelta(0))
  const td::Table filled = tessera::compute(
      df[{"id"}].assign("f", dur.fillna(td::Timedelta::seconds(0))).assign("w", dur.where(n > 0, "1 days")), sched);
  CHECK(ns_of(filled.column("f"), td::DType::timedelta) ==
        Ns{93784000000000, 2700000000000, -1000000000, 0, 172800000000000, 500000000, 5400000000000, 0,
           -600000000000, 86401000000000, 1000, 10800000000000});
  // dur.where(df.n > 0, pd.Timedelta("1 days")): rows 0-2 have n < 0; row 3 (n = 2) keeps its NaT
  CHECK(ns_of(filled.column("w"), td::DType::timedelta) ==
        Ns{86400000000000, 86400000000000, 86400000000000, nat, 172800000000000, 500000000, 5400000000000, nat,
           -600000000000, 86401000000000, 1000, 10800000000000});

  // A value that is no duration: file:line and the column.
  const auto bad = write_file(dir, "bad.csv", "id,dur\n0,00:01:00\n1,1 days 02:03\n");
  try {
    (void)tessera::compute(td::read_csv(bad, {.parse_timedeltas = {"dur"}}), sched);
    FAIL("a bad duration must fail");
  } catch (const tessera::Error& e) {
    CHECK(std::string(e.what()).find(bad + ":3: column 'dur': cannot parse '1 days 02:03' as timedelta64[ns]") !=
          std::string::npos);
  }
  CHECK_THROWS_AS((void)td::read_csv(bad, {.parse_timedeltas = {"nope"}}), td::ColumnError);
}

#if defined(TESSERA_HAVE_HDF5_IO)
TEST_CASE_TEMPLATE("timedelta64[ns]: to_hdf5 then read_hdf5 gives the durations and NaT back", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("td-h5");
  auto df = timedelta_frame(dir);
  const std::string file = (dir / "td.h5").string();
  td::to_hdf5(df.set_index("dur", {.scheduler = sched}), file, "/by_dur", {.chunk_rows = 4}, *sched);
  td::to_hdf5(df, file, "/plain", {.chunk_rows = 4}, *sched);
  const td::Table plain = tessera::compute(td::read_hdf5(file, "/plain", {.partition_rows = 5}), sched);
  CHECK(plain == on_sync(df));
  CHECK(plain.column("dur").dtype == td::DType::timedelta);
  CHECK(plain.column("dur").null_count() == 2);
  const td::Table by = tessera::compute(td::read_hdf5(file, "/by_dur"), sched);
  CHECK(by.index_columns().at(0).dtype == td::DType::timedelta);
  CHECK(by == on_sync(df.set_index("dur")));
}
#endif

}  // TEST_SUITE
