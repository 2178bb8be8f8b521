// DataFrame HDF5 files against h5py and pandas (hdf5_oracle.py, path in TESSERA_HDF5_ORACLE):
// files tessera writes load in pandas with the same values, files pandas writes in the documented
// layout read in tessera with the same values; and bad files and arguments give errors naming
// the file, the group, the column and the dtype at fault. Round trips on every scheduler are in
// support/dataframe_hdf5_suite.hpp.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/dataframe_testing.hpp"
#include "support/local_schedulers.hpp"

namespace {

using namespace dataframe_suite;
using nlohmann::json;

/// Runs the oracle with `args`; REQUIREs it succeeds (its output is in the failure message).
void oracle(const std::string& args, const std::filesystem::path& dir) {
  const std::string log = (dir / "oracle.log").string();
  const int rc = std::system(("/usr/bin/python3 " TESSERA_HDF5_ORACLE " " + args + " > " + log + " 2>&1").c_str());
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("hdf5_oracle.py " << args << ":\n" << text);
  REQUIRE(rc == 0);
}

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

/// Checks a column against the oracle's values (null: JSON null; datetimes as nanoseconds).
void check_column(const td::Column& c, const json& want, const std::string& name) {
  REQUIRE(want.size() == c.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const json& v = want[i];
    bool same = false;
    if (c.is_null(i) || v.is_null()) {
      same = c.is_null(i) && v.is_null();
    } else {
      switch (c.dtype) {
        case td::DType::int64:
        case td::DType::datetime:
        case td::DType::timedelta: same = v.get<std::int64_t>() == c.i64[i]; break;
        case td::DType::float64: same = v.get<double>() == c.f64[i]; break;  // exact: the same bits
        case td::DType::boolean: same = v.get<bool>() == (c.b8[i] != 0); break;
        case td::DType::string:
        case td::DType::category: same = v.get<std::string>() == c.text(i); break;
      }
    }
    if (!same && wrong++ < 3) FAIL_CHECK("column " << name << " row " << i << ": pandas has " << v.dump());
  }
  CHECK_MESSAGE(wrong == 0, "column " << name << ": " << wrong << " rows differ");
}

void check_table(const td::Table& t, const json& want) {
  CHECK(t.column_names() == want["columns"].get<std::vector<std::string>>());
  CHECK(t.num_rows() == want["nrows"].get<std::size_t>());
  for (const auto& name : t.column_names()) check_column(t.column(name), want["values"][name], name);
  if (want["index"].is_null()) {
    CHECK(t.index_names().empty());
    return;
  }
  REQUIRE(t.index_names() == want["index"].get<std::vector<std::string>>());
  for (std::size_t i = 0; i < t.index_names().size(); ++i) {
    check_column(t.index_columns()[i], want["index_values"][t.index_names()[i]], t.index_names()[i]);
  }
}

/// The message `f` throws as StorageError (fails the test if it throws nothing or another type).
std::string storage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const tessera::StorageError& e) {
    return e.what();
  }
  FAIL("no StorageError");
  return {};
}

td::Table same_table(const td::Table& t) { return t; }

/// A DataFrame of one partition holding `t`.
td::DataFrame frame_of(const td::Table& t) {
  auto fn = tessera::delayed(&same_table, {.name = "test-table", .pure = true});
  return td::DataFrame(td::schema_of(t), {fn(t)});
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("dataframe.hdf5.pandas") {

TEST_CASE("a file to_hdf5 writes loads in h5py and pandas with the same values") {
  const auto dir = fresh_dir("h5-pandas-reads");
  const std::string file = (dir / "t.h5").string();
  auto csv = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.parse_dates = {"day"}, .blocksize = 900});
  auto df = csv.map_partitions(with_nulls, "with-nulls");
  auto sched = tessera::testing::local_scheduler<ThreadsTag>(4);
  td::to_hdf5(df, file, "/nulls", {.chunk_rows = 50}, *sched);
  td::to_hdf5(df.set_index("group", {.scheduler = sched}), file, "/by_group", {.compression = 3}, *sched);
  td::to_hdf5(csv, file, "/clean", {}, *sched);

  for (const std::string g : {"nulls", "by_group", "clean"}) {
    CAPTURE(g);
    const auto out = dir / (g + ".json");
    oracle("read " + file + " /" + g + " " + out.string(), dir);
    const json got = read_json(out);
    const td::DataFrame src = g == "nulls" ? df : g == "clean" ? csv
                                                                                        : df.set_index("group");
    check_table(on_sync(src), got);
    CHECK(got["h5py_dtypes"]["flag"] == "bool");  // h5py's enum: numpy bool
    CHECK(got["h5py_dtypes"]["name"] == "object");
  }
  // Without nulls pandas gets each dtype tessera names (with nulls: float64 / object, as pandas).
  const json clean = read_json(dir / "clean.json");
  for (const auto& f : csv.schema().columns) CHECK(clean["pandas_dtypes"][f.name] == td::dtype_name(f.dtype));
}

TEST_CASE("a timedelta64[ns] column loads in pandas as timedelta64[ns], NaT included") {
  const auto dir = fresh_dir("h5-pandas-timedelta");
  const std::string file = (dir / "t.h5").string();
  const auto csv = write_file(dir, "t.csv", "k,dur\n0,1 days 02:03:04\n1,-1 days +23:59:59\n2,NaT\n3,00:00:00.5\n");
  auto df = td::read_csv(csv, {.parse_timedeltas = {"dur"}, .blocksize = 20});
  auto sched = tessera::testing::local_scheduler<ThreadsTag>(4);
  td::to_hdf5(df, file, "/t", {}, *sched);
  td::to_hdf5(df.set_index("k", {.scheduler = sched}), file, "/by_k", {}, *sched);
  for (const std::string g : {"t", "by_k"}) {
    CAPTURE(g);
    oracle("read " + file + " /" + g + " " + (dir / "t.json").string(), dir);
    const json got = read_json(dir / "t.json");
    CHECK(got["pandas_dtypes"]["dur"] == "timedelta64[ns]");
    check_table(on_sync(g == "t" ? df : df.set_index("k")), got);
    // pd.Timedelta("1 days 02:03:04").value, pd.Timedelta("-1 days +23:59:59").value, NaT, 0.5 s
    CHECK(got["values"]["dur"] == json::parse("[93784000000000, -1000000000, null, 500000000]"));
  }
}

TEST_CASE("a file pandas writes through h5py in the documented layout reads in tessera") {
  const auto dir = fresh_dir("h5-pandas-writes");
  const std::string file = (dir / "p.h5").string();
  oracle("write " + file + " " + (dir / "p.json").string(), dir);
  const json want = read_json(dir / "p.json");
  auto sched = tessera::testing::local_scheduler<ThreadsTag>(4);
  for (const std::string g : {"plain", "indexed"}) {
    CAPTURE(g);
    auto df = td::read_hdf5(file, g, {.partition_rows = 97});
    CHECK(df.npartitions() == 11);  // ceil(1000 / 97)
    const td::Table t = tessera::compute(df, sched);
    check_table(t, want[g]);
    CHECK(t == on_sync(df));
    CHECK(t.column("i").null_count() == 143);  // pd.NA on every 7th of 1000 rows
    CHECK(t.column("d").null_count() == 100);  // NaT without a mask
    CHECK(t.column("s").dtype == td::DType::string);
    CHECK(t.column("d").dtype == td::DType::datetime);
    CHECK(t.column("b").dtype == td::DType::boolean);
    CHECK(t.column("t").dtype == td::DType::timedelta);
    CHECK(t.column("t").null_count() == 100);  // NaT without a mask
  }
  CHECK(td::read_hdf5(file, "plain").schema().columns.at(5).dtype == td::DType::string);  // fixed-length bytes
}

TEST_CASE("read_hdf5 errors name the file, the group, the column and the dtype at fault") {
  const auto dir = fresh_dir("h5-errors");
  const std::string file = (dir / "bad.h5").string();
  oracle("bad " + file, dir);
  CHECK(tessera::compute(td::read_hdf5(file, "good")).num_rows() == 5);

  const auto read = [&](const std::string& g, const td::Hdf5ReadOptions& o = {}) {
    return storage_error([&] { (void)td::read_hdf5(file, g, o); });
  };
  const std::string missing_file = (dir / "nope.h5").string();
  std::string e = storage_error([&] { (void)td::read_hdf5(missing_file, "/g"); });
  CHECK(has(e, "read_hdf5: file '" + missing_file + "', group '/g'"));
  CHECK(has(e, "does not exist"));
  const std::string text = write_file(dir, "text.h5", "not hdf5\n");
  e = storage_error([&] { (void)td::read_hdf5(text, "/g"); });
  CHECK(has(e, text));
  CHECK(has(e, "not an HDF5 file"));

  e = read("/absent/deeper");
  CHECK(has(e, file));
  CHECK(has(e, "group '/absent/deeper': no such group"));
  e = read("no_layout");
  CHECK(has(e, "group 'no_layout'"));
  CHECK(has(e, "no attribute 'tessera_layout'"));
  e = read("version2");
  CHECK(has(e, "group 'version2'"));
  CHECK(has(e, "unknown layout 'tessera.dataframe/2' (expected 'tessera.dataframe/1')"));
  e = read("wrong_type");
  CHECK(has(e, "dataset 'wrong_type/columns/s'"));
  CHECK(has(e, "string"));
  CHECK(has(e, "cannot hold dtype int64"));
  e = read("dtype_attr");
  CHECK(has(e, "dtype mismatch for column 'a'"));
  CHECK(has(e, "'float64'"));
  CHECK(has(e, "'int64'"));
  e = read("unknown_dtype");
  CHECK(has(e, "column 's': unknown dtype 'period[D]'"));
  e = read("short");
  CHECK(has(e, "length mismatch: dataset 'short/columns/a' has 4 rows, the table 5"));
  e = read("missing");
  CHECK(has(e, "dataset 'missing/columns/s' of column 's' is missing"));
  e = read("no_nrows");
  CHECK(has(e, "group 'no_nrows': no attribute 'nrows'"));
  e = read("good", {.partition_rows = 2, .npartitions = 2});
  CHECK(has(e, "not both"));
  e = read("good", {.partition_rows = -1});
  CHECK(has(e, "must not be negative"));
}

TEST_CASE("to_hdf5 rejects bad names and options before it touches the disk") {
  const auto dir = fresh_dir("h5-write-errors");
  const std::string file = (dir / "w.h5").string();
  td::Table t;
  t.add_column("a/b", td::Column::from_int64({1, 2}));
  std::string e = storage_error([&] { td::to_hdf5(frame_of(t), file, "/g"); });
  CHECK(has(e, "to_hdf5: file '" + file + "', group '/g'"));
  CHECK(has(e, "the column name 'a/b' cannot name a dataset"));
  td::Table ok;
  ok.add_column("a", td::Column::from_int64({1, 2}));
  e = storage_error([&] { td::to_hdf5(frame_of(ok), file, "/g", {.compression = 12}); });
  CHECK(has(e, "compression must be 0-9, got 12"));
  e = storage_error([&] { td::to_hdf5(frame_of(ok), file, "/"); });
  CHECK(has(e, "not the root"));
  td::Table nul;
  nul.add_column("s", td::Column::from_strings({"fine", std::string("nul\0inside", 10)}));
  CHECK(!std::filesystem::exists(file));
  // Found by the write task: a TaskError, and the file it had created is gone.
  try {
    td::to_hdf5(frame_of(nul), file, "/g");
    FAIL("a NUL inside a string was written");
  } catch (const tessera::TaskError& err) {
    CHECK(has(err.message(), "to_hdf5: file '" + file + "'"));
    CHECK(has(err.message(), "'columns/s' row 1"));
    CHECK(has(err.message(), "NUL"));
  }
  CHECK(!std::filesystem::exists(file));
  // A partition whose dtypes are not the frame's: the columns and dtypes of both are named.
  td::Table floats;
  floats.add_column("a", td::Column::from_float64({1.5, 2.5}));
  td::DataFrame lying(td::schema_of(ok), frame_of(floats).partitions());
  try {
    td::to_hdf5(lying, file, "/g");
    FAIL("a partition of other dtypes was written");
  } catch (const tessera::TaskError& err) {
    CHECK(has(err.message(), "group '/g'"));
    CHECK(has(err.message(), "a:float64"));
    CHECK(has(err.message(), "a:int64"));
  }
  CHECK(!std::filesystem::exists(file));
  const std::string text = write_file(dir, "text.h5", "not hdf5\n");
  e = storage_error([&] { td::to_hdf5(frame_of(ok), text, "/g"); });
  CHECK(has(e, "not an HDF5 file"));
  CHECK(std::filesystem::file_size(text) == 9);  // left as it was
}

}  // TEST_SUITE
