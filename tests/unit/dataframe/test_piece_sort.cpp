// The range shuffle's sorted combine without a concatenation (src/collections/dataframe/
// piece_sort.hpp, radix_sort.hpp): bucket_sort against std::stable_sort on keys that spread,
// cluster (buckets past the insertion-sort size) and tie; sort_pieces against the concatenation
// sorted by sort_order (the path it replaces), with nulls, NaN, descending keys, strings and
// index columns.
#include "collections/dataframe/piece_sort.hpp"
#include "collections/dataframe/radix_sort.hpp"
#include "collections/dataframe/sort_key.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {
namespace td = tessera::dataframe;
namespace tdd = tessera::dataframe::detail;

/// bucket_sort of `keys` (row i has key keys[i]) and the std::stable_sort order of the same.
void check_bucket_sort(const std::vector<std::uint64_t>& keys) {
  std::vector<std::uint64_t> sorted;
  std::vector<std::uint32_t> rows;
  std::uint64_t reserved = 0;
  const auto each = [&](const auto& f) {
    for (std::size_t i = 0; i < keys.size(); ++i) f(keys[i], static_cast<std::uint32_t>(i));
  };
  tdd::bucket_sort(keys.size(), each, [&](std::uint64_t b) { reserved += b; }, sorted, rows);
  std::vector<std::uint32_t> want(keys.size());
  std::iota(want.begin(), want.end(), 0u);
  std::stable_sort(want.begin(), want.end(), [&](auto a, auto b) { return keys[a] < keys[b]; });
  CHECK(rows == want);
  for (std::size_t k = 0; k < rows.size(); ++k) REQUIRE(sorted[k] == keys[rows[k]]);
  CAPTURE(reserved);
}

td::Table piece(std::vector<double> x, std::vector<std::int64_t> i, std::vector<std::string> s,
                const std::vector<std::size_t>& null_x) {
  td::Table t;
  td::Column cx = td::Column::from_float64(std::move(x));
  for (auto r : null_x) cx.set_null(r);
  t.add_column("x", std::move(cx));
  td::Column ci = td::Column::from_int64(i);
  t.add_column("i", std::move(ci));
  t.add_column("s", td::Column::from_strings(s));
  std::vector<std::int64_t> label(i.size());
  for (std::size_t k = 0; k < i.size(); ++k) label[k] = 1000 + i[k];
  t.set_index({"label"}, {td::Column::from_int64(std::move(label))});
  return t;
}

}  // namespace

TEST_SUITE("dataframe.piece_sort") {
  TEST_CASE("bucket_sort orders as std::stable_sort: spread, clustered, tied and empty keys") {
    std::mt19937_64 g(7);
    std::vector<std::uint64_t> spread(50000), clustered(50000), tied(3000);
    for (auto& k : spread) k = g();
    // Half spread, half within 2^16 of one value: those share one bucket, which is radix
    // sorted on its low bits; a fifth of them tie.
    for (auto& k : clustered) k = g() % 2 != 0 ? g() : (std::uint64_t{1} << 40) + (g() % 65536) * (g() % 5);
    for (auto& k : tied) k = g() % 3;
    check_bucket_sort(spread);
    check_bucket_sort(clustered);
    check_bucket_sort(tied);
    check_bucket_sort({});
    check_bucket_sort({42});
  }

  TEST_CASE("sort_pieces gives the concatenation sorted by sort_order, nulls and NaN last, index kept") {
    std::mt19937_64 g(11);
    std::vector<td::Table> pieces;
    std::int64_t id = 0;
    for (std::size_t p = 0; p < 5; ++p) {
      const std::size_t n = p == 2 ? 0 : 700 + 97 * p;  // one empty piece
      std::vector<double> x(n);
      std::vector<std::int64_t> i(n);
      std::vector<std::string> s(n);
      std::vector<std::size_t> nulls;
      for (std::size_t k = 0; k < n; ++k) {
        x[k] = static_cast<double>(static_cast<std::int64_t>(g() % 200) - 100) / 4;  // many ties, -0.0 / 0.0
        if (k % 37 == 5) x[k] = std::nan("");
        if (k % 41 == 3) nulls.push_back(k);
        i[k] = id++;
        s[k] = "r" + std::to_string(i[k]);
      }
      pieces.push_back(piece(std::move(x), std::move(i), std::move(s), nulls));
    }
    for (const bool ascending : {true, false}) {
      CAPTURE(ascending);
      const tdd::SortPlan plan{{"x"}, {static_cast<std::uint8_t>(ascending)}};
      REQUIRE(tdd::piecewise_sortable(pieces, plan));
      const td::Table all = td::Table::concat(pieces);
      const td::Table want = all.take(tdd::sort_order(all, plan));
      std::vector<td::Table> copy = pieces;
      const td::Table got = tdd::sort_pieces(copy, plan);
      CHECK(got == want);
      CHECK(got.index_names() == std::vector<std::string>{"label"});
      CHECK(got.index_columns().at(0) == want.index_columns().at(0));
      CHECK(copy[0].column(0).size() == 0);  // the pieces' columns were released
    }
  }

  TEST_CASE("piecewise_sortable: one numeric key and one layout only") {
    std::vector<td::Table> pieces{piece({1, 2}, {0, 1}, {"a", "b"}, {}), piece({3}, {2}, {"c"}, {})};
    CHECK(tdd::piecewise_sortable(pieces, {{"i"}, {1}}));
    CHECK_FALSE(tdd::piecewise_sortable(pieces, {{"s"}, {1}}));       // strings: the general sort
    CHECK_FALSE(tdd::piecewise_sortable(pieces, {{"x", "i"}, {1, 1}}));  // several columns
    td::Table other;
    other.add_column("x", td::Column::from_int64({5}));  // another layout: concat's error
    pieces.push_back(other);
    CHECK_FALSE(tdd::piecewise_sortable(pieces, {{"x"}, {1}}));
  }
}
