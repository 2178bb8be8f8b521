// The row order of sort_values: compare cells and rows, and a stable argsort.
#include "collections/dataframe/sort_key.hpp"
#include "collections/dataframe/radix_sort.hpp"
#include "collections/dataframe/row_key.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tessera::dataframe::detail {

namespace {
template <class T>
int three_way(const T& x, const T& y) noexcept {
  return x < y ? -1 : (y < x ? 1 : 0);
}
}  // namespace

int compare_cells(const Column& a, std::size_t i, const Column& b, std::size_t j) noexcept {
  const bool na = missing(a, i), nb = missing(b, j);
  if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  switch (a.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return three_way(a.i64[i], b.i64[j]);
    case DType::float64: return three_way(a.f64[i], b.f64[j]);
    case DType::boolean: return three_way(a.b8[i], b.b8[j]);
    case DType::string: return three_way(a.str(i), b.str(j));
    case DType::category:  // by string: the two columns may have different categories
      return a.categories == b.categories ? three_way(a.i64[i], b.i64[j]) : three_way(a.text(i), b.text(j));
  }
  return 0;
}

int compare_rows(const std::vector<const Column*>& a, std::size_t i, const std::vector<const Column*>& b,
                 std::size_t j, const std::vector<std::uint8_t>& ascending) noexcept {
  for (std::size_t k = 0; k < a.size(); ++k) {
    int c = compare_cells(*a[k], i, *b[k], j);
    if (c == 0) continue;
    const bool either_missing = missing(*a[k], i) || missing(*b[k], j);
    return (ascending[k] || either_missing) ? c : -c;  // nulls stay last
  }
  return 0;
}

namespace {

/// One numeric column: a radix sort of order-preserving keys (stable), nulls after them in
/// row order.
template <class T>
std::vector<std::uint32_t> sort_numeric(const Column& c, const std::vector<T>& v, bool ascending) {
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> rows, nulls;
  keys.reserve(v.size());
  rows.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (missing(c, i)) {
      nulls.push_back(static_cast<std::uint32_t>(i));
      continue;
    }
    const std::uint64_t k = ordered_key(v[i]);
    keys.push_back(ascending ? k : ~k);
    rows.push_back(static_cast<std::uint32_t>(i));
  }
  radix_sort(keys, rows);
  rows.insert(rows.end(), nulls.begin(), nulls.end());
  return rows;
}

}  // namespace

std::vector<std::uint32_t> sort_order(const Table& t, const SortPlan& p) {
  const auto cols = key_columns(t, p.columns);
  if (cols.size() == 1 && (cols[0]->dtype == DType::int64 || cols[0]->dtype == DType::datetime || cols[0]->dtype == DType::timedelta)) {
    return sort_numeric(*cols[0], cols[0]->i64, p.ascending[0] != 0);
  }
  // category: codes in sorted categories sort as the strings do (nulls: missing()).
  if (cols.size() == 1 && cols[0]->dtype == DType::category) return sort_numeric(*cols[0], cols[0]->i64, p.ascending[0] != 0);
  if (cols.size() == 1 && cols[0]->dtype == DType::float64) return sort_numeric(*cols[0], cols[0]->f64, p.ascending[0] != 0);
  std::vector<std::uint32_t> rows(t.num_rows());
  std::iota(rows.begin(), rows.end(), 0u);
  std::stable_sort(rows.begin(), rows.end(), [&](std::uint32_t x, std::uint32_t y) {
    return compare_rows(cols, x, cols, y, p.ascending) < 0;
  });
  return rows;
}

}  // namespace tessera::dataframe::detail
