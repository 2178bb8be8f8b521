// The category dtype's storage: categories built sorted, take/slice share them, append and
// Table::concat give the union (pandas' union_categoricals(sort_categories=True), checked
// against pandas 1.5.3: categories and codes as literals), the codec carries the categories
// and refuses bad ones, and printing shows the strings.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace td = tessera::dataframe;

/// A category column of `v` with row `null_row` null.
td::Column with_null(const std::vector<std::string>& v, std::size_t null_row) {
  auto c = td::Column::from_categorical(v);
  c.set_null(null_row);
  return c;
}

std::vector<std::int64_t> codes(const td::Column& c) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < c.size(); ++i) out.push_back(c.is_null(i) ? -1 : c.i64[i]);
  return out;
}

}  // namespace

TEST_SUITE("dataframe.categorical") {

TEST_CASE("category storage: sorted categories, codes, name and text") {
  // pd.Categorical(["z", "a", "m", "a"]): categories ['a', 'm', 'z'], codes [2, 0, 1, 0]
  const td::Column c = td::Column::from_categorical({"z", "a", "m", "a"});
  CHECK(c.dtype == td::DType::category);
  CHECK(std::string(td::dtype_name(c.dtype)) == "category");
  CHECK_FALSE(td::is_numeric(c.dtype));
  CHECK(c.categories->values == std::vector<std::string>{"a", "m", "z"});
  CHECK(c.i64 == std::vector<std::int64_t>{2, 0, 1, 0});
  CHECK(c.text(0) == "z");
  CHECK(c.categories->code("m") == 1);
  CHECK(c.categories->code("q") == -1);
  CHECK_THROWS_AS((void)c.as_double(0), td::TypeError);
  const td::Column t = c.take(std::vector<std::uint32_t>{3, 0});
  CHECK(t.categories == c.categories);  // shared, not copied
  CHECK(t.i64 == std::vector<std::int64_t>{0, 2});
  td::Column n(td::DType::category);
  n.push_null();
  CHECK(n.is_null(0));
  CHECK(n.i64[0] == -1);
  CHECK(n.categories->values.empty());
}

TEST_CASE("category append and concat: the union of the categories, codes remapped, as union_categoricals") {
  // union_categoricals([pd.Categorical(["b", "d", None]), pd.Categorical(["c", "a", "d"])],
  //                    sort_categories=True): categories ['a', 'b', 'c', 'd'], codes [1, 3, -1, 2, 0, 3]
  td::Table p0, p1;
  p0.add_column("k", with_null({"b", "d", "b"}, 2));
  p1.add_column("k", td::Column::from_categorical({"c", "a", "d"}));
  const std::vector<td::Table> parts{p0, p1};
  const td::Table all = td::Table::concat(parts);
  const td::Column& k = all.column("k");
  CHECK(k.categories->values == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(codes(k) == std::vector<std::int64_t>{1, 3, -1, 2, 0, 3});
  // equal strings are equal columns whatever their categories
  td::Column same = td::Column::from_categorical({"b", "d", "b", "c", "a", "d"});
  same.set_null(2);
  CHECK(same == k);
  // the same categories: codes appended as they are, the categories still shared
  td::Column a = td::Column::from_categorical({"x", "y"});
  a.append(a.slice(1, 2));
  CHECK(a.i64 == std::vector<std::int64_t>{0, 1, 1});
  // an empty category column takes the other's categories
  td::Column e(td::DType::category);
  e.append(a);
  CHECK(e.categories == a.categories);
  CHECK_THROWS_AS(e.append(td::Column::from_strings({"x"})), td::TypeError);
}

TEST_CASE("category codec: the categories travel with the codes, bad ones are refused") {
  td::Table t;
  t.add_column("k", with_null({"q", "p", "q"}, 1));
  t.add_column("v", td::Column::from_int64({1, 2, 3}));
  const td::Table back = tessera::decode<td::Table>(tessera::encode(t));
  CHECK(back == t);
  CHECK(back.column("k").categories->values == std::vector<std::string>{"p", "q"});
  CHECK(back.column("k").is_null(1));
  td::Column bad = td::Column::from_categorical({"a", "b"});
  bad.i64[1] = 7;  // a code past the categories
  td::Table tb;
  tb.add_column("k", bad);
  CHECK_THROWS_AS((void)tessera::decode<td::Table>(tessera::encode(tb)), tessera::SerializationError);
}

TEST_CASE("category prints its strings, NaN for nulls, as pandas") {
  // print(pd.DataFrame({"k": pd.Categorical(["bb", None, "a"])}))
  td::Table t;
  auto k = td::Column::from_categorical({"bb", "a", "a"});
  k.set_null(1);
  t.add_column("k", std::move(k));
  std::ostringstream os;
  os << t;
  CHECK(os.str() == "     k\n0   bb\n1  NaN\n2    a");
}

}  // TEST_SUITE
