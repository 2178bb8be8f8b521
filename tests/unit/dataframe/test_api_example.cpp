// Issue 15's API example, the lines this slice supports, as written, on flights-style data that
// pandas generates (flights_oracle.py); every result is compared with pandas' own. The file
// to_hdf5 writes is read back by read_hdf5 and loaded by h5py and pandas (hdf5_oracle.py).
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/local_schedulers.hpp"

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::testing::local_scheduler<Tag>(4);
}
#define TESSERA_TEST_SCHEDULERS SyncTag, ThreadsTag
#include "support/dataframe_flights.hpp"

namespace {
using dataframe_flights::expected;
using dataframe_flights::flights_dir;
namespace fs = std::filesystem;

/// Changes the working directory for the scope (the example uses relative paths).
struct InDir {
  fs::path old = fs::current_path();
  explicit InDir(const fs::path& d) { fs::current_path(d); }
  ~InDir() { fs::current_path(old); }
};
}  // namespace

TEST_SUITE("dataframe.api") {

TEST_CASE("the issue's example, as written, gives pandas' results") {
  const auto want = expected();
  InDir here(flights_dir());
  // ---- the example's lines ----
  namespace td = tessera::dataframe;

  auto df = td::read_csv("flights/*.csv", {.parse_dates = {"Date"}, .na_values = {"NA"}});
  double worst = tessera::compute(df["DepDelay"].max());                         // skips nulls, as pandas
  auto on_time = df[df["DepDelay"] <= 0 && !df["Cancelled"]];
  td::Table by_origin = tessera::compute(df.groupby("Origin")["DepDelay"].mean());   // in-memory result
  td::Table stats = tessera::compute(df.groupby({"Origin", "Dest"}).agg({{"DepDelay", {"mean", "max", "count"}},
                                                                           {"Distance", {"sum"}}}));
  auto airports = td::read_csv("airports.csv");
  auto joined = df.merge(airports, {.left_on = {"Origin"}, .right_on = {"Code"}, .how = "left"});
  td::Table top10 = tessera::compute(joined.sort_values("DepDelay", {.ascending = false}).head(10));
  auto by_day = df.set_index("Date");                                             // sorted, known divisions
  td::Table jan = tessera::compute(by_day.loc("1990-01-01", "1990-01-31"));
  td::to_csv(on_time, "out/part-*.csv");
#if defined(TESSERA_HAVE_HDF5_IO)  // a build with TESSERA_ENABLE_HDF5=OFF has no HDF5 I/O
  td::to_hdf5(df, "flights.h5", "/flights");                                     // readable by h5py / pandas
#endif
  std::cout << tessera::compute(df.describe()) << "\n";                          // pandas-style printed table
  for (std::size_t i = 0; i < by_origin.num_rows(); ++i)                          // keys in the index, as pandas
    std::printf("%s %.6f\n", by_origin.index_at<std::string>(i).c_str(), by_origin.at<double>("DepDelay", i));
  std::int64_t kept = tessera::compute(on_time["DepDelay"].count());              // non-null values
  bool missing = top10.is_null("City", 0);                                        // nulls are visible
  td::Table all = tessera::compute(df);
#if defined(TESSERA_HAVE_HDF5_IO)
  td::Table from_h5 = tessera::compute(td::read_hdf5("flights.h5", "/flights"));   // the read back
#endif
  // ---- compared with pandas ----
  CHECK(worst == doctest::Approx(want["worst"].get<double>()));
  CHECK(kept == want["kept"].get<std::int64_t>());
  CHECK(all.num_rows() == want["rows"].get<std::size_t>());
  std::size_t city_nulls = 0;
  for (std::size_t i = 0; i < all.num_rows(); ++i) city_nulls += all.is_null("City", i) ? 1 : 0;
  CHECK(city_nulls == want["city_nulls"].get<std::size_t>());
  REQUIRE(top10.num_rows() == 10);
  CHECK(top10.column_names() == want["top10_columns"].get<std::vector<std::string>>());
  for (std::size_t i = 0; i < 10; ++i) {
    const auto& row = want["top10"][i];
    CHECK(top10.at<std::string>("Origin", i) == row[0].get<std::string>());
    CHECK(top10.at<double>("DepDelay", i) == row[1].get<double>());
    CHECK(top10.is_null("Name", i) == row[2].get<bool>());
    CHECK(top10.is_null("City", i) == row[3].get<bool>());
  }
  CHECK(missing == want["top10"][0][3].get<bool>());
  CHECK(by_day.known_divisions());
  CHECK(jan.num_rows() == want["jan_rows"].get<std::size_t>());
  std::int64_t jan_distance = 0;
  for (std::size_t i = 0; i < jan.num_rows(); ++i) jan_distance += jan.at<std::int64_t>("Distance", i);
  CHECK(jan_distance == want["jan_distance"].get<std::int64_t>());
  REQUIRE(by_origin.num_rows() == want["by_origin"].size());
  for (std::size_t i = 0; i < by_origin.num_rows(); ++i) {
    const auto key = by_origin.index_at<std::string>(i);
    CHECK(by_origin.at<double>("DepDelay", i) == doctest::Approx(want["by_origin"][key].get<double>()));
  }
  REQUIRE(stats.num_rows() == want["stats"].size());
  for (std::size_t i = 0; i < stats.num_rows(); ++i) {
    const auto& row = want["stats"][i];
    CHECK(stats.index_at<std::string>(i, 0) == row[0].get<std::string>());
    CHECK(stats.index_at<std::string>(i, 1) == row[1].get<std::string>());
    CHECK(stats.at<double>("DepDelay_mean", i) == doctest::Approx(row[2].get<double>()));
    CHECK(stats.at<double>("DepDelay_max", i) == row[3].get<double>());
    CHECK(stats.at<std::int64_t>("DepDelay_count", i) == row[4].get<std::int64_t>());
    CHECK(stats.at<std::int64_t>("Distance_sum", i) == row[5].get<std::int64_t>());
  }
  const td::Table d = tessera::compute(df.describe());
  CHECK(d.column_names() == std::vector<std::string>{"DepDelay", "Distance"});
  for (std::size_t r = 0; r < 8; ++r) {
    CHECK(d.index_at<std::string>(r) == want["describe_index"][r].get<std::string>());
    for (const char* c : {"DepDelay", "Distance"}) {
      CHECK(d.at<double>(c, r) == doctest::Approx(want["describe"][c][r].get<double>()));
    }
  }
#if defined(TESSERA_HAVE_HDF5_IO)
  CHECK(from_h5 == all);
  CHECK(from_h5.column("Date").dtype == td::DType::datetime);
  // h5py and pandas load the file as the layout documents it, with the same values.
  REQUIRE(std::system("/usr/bin/python3 " TESSERA_HDF5_ORACLE " read flights.h5 /flights h5.json") == 0);
  const auto pandas = nlohmann::json::parse(std::ifstream("h5.json"));
  CHECK(pandas["nrows"].get<std::size_t>() == want["rows"].get<std::size_t>());
  CHECK(pandas["columns"].get<std::vector<std::string>>() == all.column_names());
  CHECK(pandas["pandas_dtypes"]["Date"] == "datetime64[ns]");
  std::size_t pandas_city_nulls = 0, same_delay = 0;
  for (const auto& v : pandas["values"]["City"]) pandas_city_nulls += v.is_null() ? 1 : 0;
  CHECK(pandas_city_nulls == want["city_nulls"].get<std::size_t>());
  for (std::size_t i = 0; i < all.num_rows(); ++i) {
    const auto& v = pandas["values"]["DepDelay"][i];
    const bool same = all.is_null("DepDelay", i) ? v.is_null()
                                                 : !v.is_null() && v.get<double>() == all.at<double>("DepDelay", i);
    same_delay += same ? 1 : 0;
  }
  CHECK(same_delay == all.num_rows());
#endif
  auto back = td::read_csv("out/part-*.csv", {.parse_dates = {"Date"}});
  CHECK(tessera::compute(back.length()) == want["on_time_rows"].get<std::int64_t>());
}

}  // TEST_SUITE
