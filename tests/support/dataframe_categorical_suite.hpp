#pragma once

// The category dtype's behaviour, written once. Include after defining TESSERA_TEST_SCHEDULERS and
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
// Every expected value is a literal computed with pandas 1.5.3 (/usr/bin/python3) on
// categorical_csv(): df = pd.read_csv(..., dtype={"k": "category"}), then the pandas
// expression named next to each literal.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/dataframe_testing.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dataframe_suite {

/// 12 rows; k has two empty fields (nulls).
inline std::string categorical_csv() {
  return "id,k,v,s\n0,b,1,x\n1,a,2,y\n2,,3,x\n3,c,4,z\n4,b,5,y\n5,d,6,x\n6,a,7,z\n7,,8,y\n8,e,9,x\n9,b,10,z\n"
         "10,c,11,y\n11,a,12,x\n";
}

/// 30-byte blocks: several partitions, each with its own categories (only the values it holds).
inline td::DataFrame categorical_frame(const std::filesystem::path& dir, std::int64_t blocksize = 30) {
  return td::read_csv(write_file(dir, "cat.csv", categorical_csv()),
                      {.dtype = {{"k", td::DType::category}}, .blocksize = blocksize});
}

/// The int64 column's values.
inline std::vector<std::int64_t> ints_of(const td::Table& t, const std::string& name) {
  const td::Column& c = t.column(name);
  CHECK(c.dtype == td::DType::int64);
  return c.i64;
}

/// The text column's values, "<null>" for nulls.
inline std::vector<std::string> texts_of(const td::Column& c) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < c.size(); ++i) out.push_back(c.is_null(i) ? "<null>" : std::string(c.text(i)));
  return out;
}

}  // namespace dataframe_suite

TEST_SUITE("dataframe.behaviour") {

TEST_CASE_TEMPLATE("category: read_csv dtype override, concat unions categories, == / != and fillna as pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  auto df = categorical_frame(fresh_dir("cat-basic"));
  CHECK(df.npartitions() > 2);
  CHECK(df["k"].dtype() == td::DType::category);
  const td::Table all = tessera::compute(df, sched);
  const td::Column& k = all.column("k");
  REQUIRE(k.dtype == td::DType::category);
  // df.k.cat.categories, df.k.cat.codes: the partitions' categories joined give pandas' own
  CHECK(k.categories->values == std::vector<std::string>{"a", "b", "c", "d", "e"});
  const td::Table codes = tessera::compute(df[{"id"}].assign("codes", df["k"].cat().codes()), sched);
  const std::vector<std::int64_t> pandas_codes{1, 0, -1, 2, 1, 3, 0, -1, 4, 1, 2, 0};
  std::vector<std::int64_t> joined;
  for (std::size_t i = 0; i < k.size(); ++i) joined.push_back(k.is_null(i) ? -1 : k.i64[i]);
  CHECK(joined == pandas_codes);
  CHECK(ints_of(codes, "codes").size() == 12);
  // cat.codes are per partition (each has its own categories): each is its partition's codes,
  // -1 where k is null; the one-partition case below gives pandas' own.
  const auto with_codes = tessera::compute(df[{"k"}].assign("codes", df["k"].cat().codes()).partitions(), sched);
  REQUIRE(with_codes.size() == df.npartitions());
  for (const td::Table& part : with_codes) {
    const td::Column& pk = part.column("k");
    for (std::size_t i = 0; i < part.num_rows(); ++i) {
      CHECK(part.at<std::int64_t>("codes", i) == (pk.is_null(i) ? -1 : pk.i64[i]));
    }
  }
  const td::Table one = tessera::compute(categorical_frame(fresh_dir("cat-one"), 0)["k"].cat().codes().to_frame(), sched);
  CHECK(one.column(0).i64 == pandas_codes);
  CHECK(one.column(0).valid.empty());

  // df[df.k == "b"].id, df[df.k != "b"].id, df[df.k == "zz"].id (an unknown category matches nothing)
  CHECK(ints_of(tessera::compute(df[df["k"] == "b"], sched), "id") == std::vector<std::int64_t>{0, 4, 9});
  CHECK(ints_of(tessera::compute(df[df["k"] != "b"], sched), "id") ==
        std::vector<std::int64_t>{1, 2, 3, 5, 6, 7, 8, 10, 11});
  CHECK(tessera::compute(df[df["k"] == "zz"], sched).num_rows() == 0);
  CHECK(ints_of(tessera::compute(df["b" == df["k"]], sched), "id") == std::vector<std::int64_t>{0, 4, 9});
  // df.k.isna()
  const td::Table na = tessera::compute(df["k"].isna().to_frame(), sched);
  CHECK(na.column(0).b8 == std::vector<std::uint8_t>{0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0});
  // df.k.fillna("b"); fillna with a new value adds it to the categories (pandas raises instead)
  const td::Table filled = tessera::compute(df["k"].fillna("b").to_frame(), sched);
  CHECK(filled.column(0).dtype == td::DType::category);
  CHECK(texts_of(filled.column(0)) == std::vector<std::string>{"b", "a", "b", "c", "b", "d", "a", "b", "e", "b", "c", "a"});
  const td::Table added = tessera::compute(df["k"].fillna("zz").to_frame(), sched);
  CHECK(texts_of(added.column(0))[2] == "zz");
  CHECK(added.column(0).categories->values.back() == "zz");
  // astype(object) and back: nulls stay null (tessera's astype rule; pandas writes 'nan')
  const td::Table str = tessera::compute(df["k"].astype(td::DType::string).to_frame(), sched);
  CHECK(str.column(0).dtype == td::DType::string);
  CHECK(texts_of(str.column(0)) ==
        std::vector<std::string>{"b", "a", "<null>", "c", "b", "d", "a", "<null>", "e", "b", "c", "a"});
  auto round = df.assign("k2", df["k"].astype(td::DType::string).astype(td::DType::category));
  CHECK(round["k2"].dtype() == td::DType::category);
  const td::Table r = tessera::compute(round, sched);
  CHECK(r.column("k2") == r.column("k"));
  // print: the strings, NaN for nulls (print(df.head(5)))
  std::ostringstream os;
  os << r.slice(0, 5);
  const std::string printed = os.str();
  CHECK(printed.find("   id    k  v  s") == 0);
  CHECK(printed.find("2   2  NaN  3  x") != std::string::npos);
}

TEST_CASE_TEMPLATE("category: groupby, value_counts, nunique, sort_values and merge through the shuffle as pandas", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("cat-shuffle");
  auto df = categorical_frame(dir);
  // df.groupby("k", observed=True).v.sum(): keys are the category strings (object), sorted
  for (std::size_t split_out : {std::size_t{1}, std::size_t{3}}) {
    CAPTURE(split_out);
    const td::DataFrame g = df.groupby("k", {.split_out = split_out})["v"].sum();
    CHECK(g.schema().index.at(0).dtype == td::DType::string);
    const td::Table t = tessera::compute(g, sched);
    std::map<std::string, std::int64_t> got;
    for (std::size_t i = 0; i < t.num_rows(); ++i) got[t.index_at<std::string>(i)] = t.at<std::int64_t>("v", i);
    CHECK(got == std::map<std::string, std::int64_t>{{"a", 21}, {"b", 16}, {"c", 15}, {"d", 6}, {"e", 9}});
    if (split_out == 1) CHECK(texts_of(t.index_columns()[0]) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  }
  // df.k.value_counts(), df.k.nunique()
  const td::Table vc = tessera::compute(df["k"].value_counts(), sched);
  CHECK(texts_of(vc.index_columns()[0]) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(ints_of(vc, "count") == std::vector<std::int64_t>{3, 3, 2, 1, 1});
  CHECK(tessera::compute(df["k"].nunique(), sched) == 5);
  // df.sort_values(["k", "id"]).id, and k alone (stable: ids ascending within a category)
  CHECK(ints_of(tessera::compute(df.sort_values({"k", "id"}), sched), "id") ==
        std::vector<std::int64_t>{1, 6, 11, 0, 4, 9, 3, 10, 5, 8, 2, 7});
  CHECK(ints_of(tessera::compute(df.sort_values("k"), sched), "id") ==
        std::vector<std::int64_t>{1, 6, 11, 0, 4, 9, 3, 10, 5, 8, 2, 7});
  // df.merge(right, on="k") with right.k object, then category (different categories: by string)
  const std::string right_csv = "k,w\na,100\nc,300\ne,500\nf,600\n";
  auto right_str = td::read_csv(write_file(dir, "right.csv", right_csv), {.blocksize = 10});
  auto right_cat = td::read_csv(write_file(dir, "right2.csv", right_csv), {.dtype = {{"k", td::DType::category}}, .blocksize = 10});
  REQUIRE(right_str.npartitions() > 1);  // both sides shuffled (no broadcast)
  for (const auto* right : {&right_str, &right_cat}) {
    const td::DataFrame m = df.merge(*right, {.on = {"k"}});
    CHECK(m.schema().columns[m.schema().find("k")].dtype == td::DType::string);
    const td::Table t = tessera::compute(m.sort_values("id"), sched);
    CHECK(ints_of(t, "id") == std::vector<std::int64_t>{1, 3, 6, 8, 10, 11});
    CHECK(ints_of(t, "w") == std::vector<std::int64_t>{100, 300, 100, 500, 300, 100});
    CHECK(texts_of(t.column("s")) == std::vector<std::string>{"y", "z", "z", "x", "y", "x"});
  }
  // a categorical value column crosses the shuffle as it is (categories travel with it)
  auto keyed = df.assign("kk", df["k"]).merge(right_cat.assign("k", right_cat["k"].astype(td::DType::string)), {.on = {"k"}});
  const td::Table kk = tessera::compute(keyed.sort_values("id"), sched);
  CHECK(kk.column("kk").dtype == td::DType::category);
  CHECK(texts_of(kk.column("kk")) == std::vector<std::string>{"a", "c", "a", "e", "c", "a"});
}

#if defined(TESSERA_HAVE_HDF5_IO)
TEST_CASE_TEMPLATE("category: to_hdf5 stores the strings with dtype category, read_hdf5 gives a category back", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto sched = make_test_scheduler<S>();
  const auto dir = fresh_dir("cat-hdf5");
  auto df = categorical_frame(dir);
  const std::string file = (dir / "cat.h5").string();
  td::to_hdf5(df, file, "/cat", {.chunk_rows = 4}, *sched);
  auto back = td::read_hdf5(file, "/cat", {.partition_rows = 5});
  CHECK(back["k"].dtype() == td::DType::category);
  const td::Table t = tessera::compute(back, sched);
  CHECK(t == tessera::compute(df, sched));
  CHECK(t.column("k").categories->values == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(t.column("k").is_null(2));
}
#endif

TEST_CASE_TEMPLATE("category: errors name the column and dtype", S, TESSERA_TEST_SCHEDULERS) {
  using namespace dataframe_suite;
  auto df = categorical_frame(fresh_dir("cat-errors"));
  // pandas: "Unordered Categoricals can only compare equality or not"
  CHECK_THROWS_WITH_AS((void)(df["k"] < "b"), doctest::Contains("only with == and !="), td::TypeError);
  CHECK_THROWS_WITH_AS((void)df["v"].astype(td::DType::category), doctest::Contains("v is int64 and cannot become category"),
                       td::TypeError);
  CHECK_THROWS_WITH_AS((void)df["v"].cat(), doctest::Contains(".cat.codes needs a category column"), td::TypeError);
  CHECK_THROWS_AS((void)df["k"].sum(), td::TypeError);
  CHECK_THROWS_AS((void)(df["k"] == 1), td::TypeError);
}

}  // TEST_SUITE
