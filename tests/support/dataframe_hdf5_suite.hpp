#pragma once

// DataFrame HDF5 round trips, written once. Include after defining TESSERA_TEST_SCHEDULERS and
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// The write runs on the scheduler under test (partitions computed and appended on its
// workers); what comes back, read on that scheduler, must equal the frame computed on the sync
// scheduler (the oracle), bit for bit. Files live under the temp directory with absolute paths
// (MPI workers open them too).

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/dataframe_testing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dataframe_suite {

/// Fails on the partition holding id 150 (a write that breaks half-way).
inline td::Table fail_at_150(const td::Table& t) {
  for (auto id : t.column("id").i64) {
    if (id == 150) throw std::runtime_error("partition with id 150 refused");
  }
  return t;
}

/// Nulls in name (a string) and x only from id 200 on: their masks start after partitions
/// without nulls.
inline td::Table late_nulls(const td::Table& t) {
  td::Table out = t;
  const auto& ids = t.column("id").i64;
  td::Column& name = out.column(out.column_index("name"));
  td::Column& x = out.column(out.column_index("x"));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 200 || ids[i] % 3 != 0) continue;
    name.set_null(i);  // its slot keeps the string: the writer stores what it holds
    x.set_null(i);
    x.f64[i] = std::nan("");
  }
  return out;
}

inline std::size_t nulls(const td::Table& t, const std::string& column) { return t.column(column).null_count(); }

/// The objects of an HDF5 file as h5ls -r lists them (a failed write may leave none of its own).
inline std::string h5ls(const std::string& file) {
  const std::string out = file + ".ls";
  REQUIRE(std::system(("h5ls -r " + file + " > " + out + " 2>&1").c_str()) == 0);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(out);
  return text.str();
}

/// What a directory holds, file names only (nothing may be left behind by a failed write).
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dataframe_suite

TEST_SUITE("dataframe.hdf5") {

TEST_CASE_TEMPLATE("to_hdf5 then read_hdf5 gives back every dtype, the nulls and the strings", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("h5-round");
  const std::string file = (dir / "t.h5").string();
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.parse_dates = {"day"}, .blocksize = 900})
                .map_partitions(with_nulls, "with-nulls");
  REQUIRE(df.npartitions() > 5);
  const td::Table want = on_sync(df);
  REQUIRE(nulls(want, "id") == 60);
  REQUIRE(nulls(want, "x") == 43);

  td::to_hdf5(df, file, "/runs/first", {.chunk_rows = 64}, *sched);
  auto back = td::read_hdf5(file, "/runs/first", {.partition_rows = 70});
  CHECK(back.npartitions() == 5);  // ceil(300 / 70)
  CHECK(back.schema() == df.schema());
  const td::Table got = tessera::compute(back, sched);
  CHECK(got == want);
  for (const char* c : {"id", "group", "x", "flag", "day"}) CHECK(nulls(got, c) == nulls(want, c));
  CHECK(got.at<std::string>("name", 5) == "x, \"quoted\"\nline 5");
  CHECK(got.at<std::string>("day", 1) == "2024-01-02 00:00:00");
  CHECK(got.is_null("day", 4));
  CHECK(got.is_null("flag", 3));
  CHECK(got.is_null("group", 2));
  CHECK(got.is_null("id", 1));
  CHECK(got.at<std::int64_t>("id", 299) == 299);

  // npartitions, compressed datasets, and a second write that replaces the group.
  td::to_hdf5(df[df["id"] < 100], file, "/runs/first/", {.compression = 4, .chunk_rows = 32}, *sched);
  const td::Table small = tessera::compute(td::read_hdf5(file, "/runs/first", {.npartitions = 3}), sched);
  CHECK(small.num_rows() == 80);  // ids 0-99 less the 20 null ones
  CHECK(small == on_sync(df[df["id"] < 100]));

  // Masks that begin after rows without nulls (the rows before are valid).
  auto late = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.parse_dates = {"day"}, .blocksize = 900})
                  .map_partitions(late_nulls, "late-nulls");
  td::to_hdf5(late, file, "/runs/late", {.chunk_rows = 16}, *sched);
  const td::Table late_got = tessera::compute(td::read_hdf5(file, "/runs/late", {.npartitions = 4}), sched);
  CHECK(late_got == on_sync(late));
  CHECK(nulls(late_got, "name") == 33);  // ids 201, 204, ..., 297
  CHECK(!late_got.is_null("name", 198));
  CHECK(late_got.is_null("name", 201));
  CHECK(listing(dir) == std::vector<std::string>{"data.csv", "t.h5"});
}

TEST_CASE_TEMPLATE("an index written by to_hdf5 comes back as the index", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("h5-index");
  const std::string file = (dir / "t.h5").string();
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(200)), {.parse_dates = {"day"}, .blocksize = 700});
  for (const char* key : {"id", "group", "day"}) {
    CAPTURE(key);
    auto indexed = df.set_index(key, {.scheduler = sched});
    td::to_hdf5(indexed, file, std::string("by_") + key, {}, *sched);
    const td::Table want = on_sync(indexed);
    const td::Table got = tessera::compute(td::read_hdf5(file, std::string("by_") + key), sched);
    CHECK(got.index_names() == std::vector<std::string>{key});
    CHECK(got == want);
    CHECK(got.num_rows() == 200);
  }
  const td::Table by_id = tessera::compute(td::read_hdf5(file, "by_id"), sched);
  CHECK(by_id.index_at<std::int64_t>(199) == 199);
  // An index with nulls (last, as set_index puts them) keeps them.
  for (const char* key : {"id", "group", "day"}) {
    CAPTURE(key);
    auto indexed = df.map_partitions(with_nulls, "with-nulls").set_index(key, {.scheduler = sched});
    td::to_hdf5(indexed, file, std::string("null_") + key, {.chunk_rows = 8}, *sched);
    const td::Table want = on_sync(indexed);
    const td::Table got = tessera::compute(td::read_hdf5(file, std::string("null_") + key, {.npartitions = 6}), sched);
    CHECK(got == want);
    REQUIRE(got.index_columns().size() == 1);
    CHECK(got.index_columns()[0].null_count() == 40);
  }
}

TEST_CASE_TEMPLATE("zero rows, empty partitions and many partitions round trip", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("h5-edges");
  const std::string file = (dir / "t.h5").string();
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(400)), {.parse_dates = {"day"}, .blocksize = 300})
                .map_partitions(with_nulls, "with-nulls");
  REQUIRE(df.npartitions() > 40);

  // No rows at all: the schema survives, one empty partition comes back.
  auto none = df[df["x"] > 1000.0];
  td::to_hdf5(none, file, "none", {}, *sched);
  auto back_none = td::read_hdf5(file, "none");
  CHECK(back_none.schema() == df.schema());
  CHECK(back_none.npartitions() == 1);
  const td::Table got_none = tessera::compute(back_none, sched);
  CHECK(got_none.num_rows() == 0);
  CHECK(got_none == td::empty_table(df.schema()));

  // Most partitions empty (only ids 100-139 and 300-309 kept, less the null ids), and
  // partitions of one row.
  auto sparse = df[(df["id"] >= 100 && df["id"] < 140) || (df["id"] >= 300 && df["id"] < 310)];
  td::to_hdf5(sparse, file, "sparse", {.chunk_rows = 7}, *sched);
  const td::Table want_sparse = on_sync(sparse);
  REQUIRE(want_sparse.num_rows() == 40);  // 50 ids less the 10 null ones
  CHECK(tessera::compute(td::read_hdf5(file, "sparse", {.partition_rows = 1}), sched) == want_sparse);
  CHECK(td::read_hdf5(file, "sparse", {.partition_rows = 1}).npartitions() == 40);
  CHECK(tessera::compute(td::read_hdf5(file, "sparse", {.npartitions = 200}), sched) == want_sparse);

  // Every partition appended in order, more partitions than chunks and chunks than partitions.
  td::to_hdf5(df, file, "all", {.chunk_rows = 3}, *sched);
  CHECK(tessera::compute(td::read_hdf5(file, "all", {.partition_rows = 33}), sched) == on_sync(df));
  const auto in_file = listing(dir);
  CHECK(in_file == std::vector<std::string>{"data.csv", "t.h5"});
}

TEST_CASE_TEMPLATE("a write that fails leaves nothing: no temporary group, no new file, the old group intact", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("h5-fail");
  const std::string file = (dir / "t.h5").string();
  auto df = td::read_csv(write_file(dir, "data.csv", sample_csv(300)), {.parse_dates = {"day"}, .blocksize = 900});
  auto bad = df.map_partitions(fail_at_150, "fail-at-150");

  // Into a new file: the file goes.
  CHECK_THROWS_AS(td::to_hdf5(bad, file, "/deep/g", {}, *sched), tessera::TaskError);
  CHECK(listing(dir) == std::vector<std::string>{"data.csv"});

  // Into an existing file: the group written before stays as it was, and neither the
  // temporary group nor the parent groups the write made are left (a later write under the
  // same names succeeds and the file's groups are only the good ones).
  td::to_hdf5(df, file, "/good", {}, *sched);
  CHECK_THROWS_AS(td::to_hdf5(bad, file, "/good", {}, *sched), tessera::TaskError);
  CHECK_THROWS_AS(td::to_hdf5(bad, file, "/new/parents/g", {}, *sched), tessera::TaskError);
  CHECK(tessera::compute(td::read_hdf5(file, "/good"), sched) == on_sync(df));
  try {
    (void)td::read_hdf5(file, "/new");
    FAIL("the parent group of a failed write is still there");
  } catch (const tessera::StorageError& e) {
    CHECK(std::string(e.what()).find("no such group") != std::string::npos);
  }
  CHECK(listing(dir) == std::vector<std::string>{"data.csv", "t.h5"});
  const std::string objects = h5ls(file);
  CAPTURE(objects);
  CHECK(objects.find("tessera-partial") == std::string::npos);
  CHECK(objects.find("/new") == std::string::npos);
  CHECK(objects.find("/good/columns/day") != std::string::npos);
  td::to_hdf5(df[df["id"] < 10], file, "/new/parents/g", {}, *sched);
  CHECK(tessera::compute(td::read_hdf5(file, "/new/parents/g"), sched).num_rows() == 10);
}

}  // TEST_SUITE
