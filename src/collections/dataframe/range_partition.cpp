// Sample-based range partitioning: samples, boundaries, range tags, the split and the sorted
// combine of the shuffle behind sort_values and set_index.
#include "collections/dataframe/range_partition.hpp"
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/piece_sort.hpp"
#include "collections/dataframe/row_key.hpp"

#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <functional>

namespace tessera::dataframe::detail {
namespace {

constexpr std::size_t samples_per_partition = 256;
constexpr const char* weight_column = "__tessera_weight";

/// One row from each of k equal strata of [0, rows), at a fixed pseudo-random offset.
std::vector<std::uint32_t> stratified(std::size_t rows, std::size_t k) {
  std::vector<std::uint32_t> at;
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t lo = j * rows / k, hi = (j + 1) * rows / k;
    std::uint64_t x = (j + 1) * 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
    at.push_back(static_cast<std::uint32_t>(lo + (x ^ (x >> 29)) % (hi - lo)));
  }
  return at;
}

/// The first and last rows in sort order among those whose first sort column is not null.
std::vector<std::uint32_t> extremes(const std::vector<const Column*>& cols, std::size_t rows, const SortPlan& p) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < rows; ++i) {
    if (missing(*cols[0], i)) continue;
    if (out.empty()) {
      out = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i)};
    } else if (compare_rows(cols, i, cols, out[0], p.ascending) < 0) {
      out[0] = static_cast<std::uint32_t>(i);
    } else if (compare_rows(cols, i, cols, out[1], p.ascending) > 0) {
      out[1] = static_cast<std::uint32_t>(i);
    }
  }
  return out;
}

/// The samples, sorted, with the cumulative weight at each; without rows whose first sort
/// column is null when `non_null`.
Table sorted_samples(const std::vector<Table>& samples, const SortPlan& p, bool non_null,
                     std::vector<double>& cumulative) {
  Table all = Table::concat(samples);
  if (all.num_columns() == 0) return all;
  std::vector<std::uint32_t> order = sort_order(all, p);
  if (non_null) {
    const Column& c = all.column(p.columns[0]);
    std::erase_if(order, [&](std::uint32_t r) { return missing(c, r); });
  }
  const auto& w = all.column(weight_column).f64;
  double sum = 0;
  for (auto r : order) cumulative.push_back(sum += w[r]);
  Table keys;
  for (const auto& name : p.columns) keys.add_column(name, all.column(name).take(order));
  return keys;
}

/// n_out - 1 boundary ranks: the first sample at or past each j / n_out of the weight.
std::vector<std::uint32_t> bound_ranks(const std::vector<double>& cumulative, std::uint32_t n_out) {
  std::vector<std::uint32_t> at;
  if (cumulative.empty()) return at;
  const double total = cumulative.back();
  std::size_t k = 0;
  for (std::uint32_t j = 1; j < n_out; ++j) {
    while (k + 1 < cumulative.size() && cumulative[k] < total * j / n_out) ++k;
    at.push_back(static_cast<std::uint32_t>(k));
  }
  return at;
}

}  // namespace

Table sample_keys(const Table& t, const SortPlan& p) {
  const auto cols = key_columns(t, p.columns);
  const std::size_t n = t.num_rows();
  const std::size_t k = std::min(n, samples_per_partition);
  std::vector<std::uint32_t> rows = stratified(n, k);
  std::vector<double> weight(rows.size(), static_cast<double>(n) / static_cast<double>(std::max<std::size_t>(k, 1)));
  for (auto r : extremes(cols, n, p)) {  // exact ends for set_index's divisions; no weight
    rows.push_back(r);
    weight.push_back(0);
  }
  Table out;
  for (std::size_t c = 0; c < cols.size(); ++c) out.add_column(p.columns[c], cols[c]->take(rows));
  out.add_column(weight_column, Column::from_float64(std::move(weight)));
  return out;
}

Table range_bounds(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out) {
  std::vector<double> cumulative;
  const Table s = sorted_samples(samples, p, false, cumulative);
  return s.take(bound_ranks(cumulative, n_out));
}

Table range_divisions(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out) {
  std::vector<double> cumulative;
  const Table s = sorted_samples(samples, p, true, cumulative);
  if (s.num_rows() == 0) return s;
  std::vector<std::uint32_t> rows{0};
  for (auto r : bound_ranks(cumulative, n_out)) rows.push_back(r);
  rows.push_back(static_cast<std::uint32_t>(s.num_rows() - 1));
  return s.take(rows);
}

namespace {

/// The number of non-null boundaries at or before each non-null value of one numeric column
/// (rows with a null, or after a null boundary, are left to the general comparison: -1).
template <class T>
std::vector<std::int64_t> numeric_ranges(const Column& c, const std::vector<T>& v, const Column& bc,
                                         const std::vector<T>& b, bool ascending) {
  std::size_t nb = 0;
  while (nb < bc.size() && !missing(bc, nb)) ++nb;
  std::vector<std::int64_t> out(v.size(), -1);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (missing(c, i)) continue;
    const auto end = b.begin() + static_cast<std::ptrdiff_t>(nb);
    const auto at = ascending ? std::upper_bound(b.begin(), end, v[i])
                              : std::upper_bound(b.begin(), end, v[i], std::greater<T>());
    out[i] = at - b.begin();
  }
  return out;
}

std::vector<std::int64_t> fast_ranges(const std::vector<const Column*>& rows, const std::vector<const Column*>& bs,
                                      const SortPlan& p, std::size_t n) {
  if (rows.size() != 1) return std::vector<std::int64_t>(n, -1);
  const Column& c = *rows[0];
  const bool asc = p.ascending[0] != 0;
  if (c.dtype == DType::int64 || c.dtype == DType::datetime || c.dtype == DType::timedelta) return numeric_ranges(c, c.i64, *bs[0], bs[0]->i64, asc);
  if (c.dtype == DType::float64) return numeric_ranges(c, c.f64, *bs[0], bs[0]->f64, asc);
  return std::vector<std::int64_t>(n, -1);
}

}  // namespace

Table tag_ranges(const Table& t, const Table& bounds, const SortPlan& p) {
  const auto rows = key_columns(t, p.columns);
  const auto bs = key_columns(bounds, p.columns);
  std::vector<std::int64_t> range = fast_ranges(rows, bs, p, t.num_rows());
  for (std::size_t i = 0; i < range.size(); ++i) {
    if (range[i] >= 0) continue;
    // The number of boundaries at or before row i (boundaries are sorted).
    std::size_t lo = 0, hi = bounds.num_rows();
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (compare_rows(bs, mid, rows, i, p.ascending) <= 0) lo = mid + 1;
      else hi = mid;
    }
    range[i] = static_cast<std::int64_t>(lo);
  }
  Table out = t;
  out.add_column(range_column, Column::from_int64(std::move(range)));
  return out;
}

std::vector<Table> RangeSplit::operator()(const Table& t, std::size_t n_out) const {
  // The destinations and row lists (~8 B a row), besides the pieces the transfer charged.
  MemoryCharge charge = charge_working_memory(8 * std::uint64_t{t.num_rows()});
  const Column& r = t.column(range_column);
  std::vector<std::uint32_t> dest(r.i64.begin(), r.i64.end());
  for (auto& d : dest) d = std::min<std::uint32_t>(d, static_cast<std::uint32_t>(n_out - 1));
  return split_by(t, dest, n_out, range_column);
}

Table SortedConcat::operator()(std::vector<Table>&& pieces) const {
  if (piecewise_sortable(pieces, plan)) return sort_pieces(pieces, plan);  // no concatenation
  Table all = Table::concat(pieces);
  pieces.clear();
  // The sort's keys, row order and radix buffers (~24 B a row) on top of the output, which the
  // unpack task charged: counted before they are allocated (storage/working_memory.hpp).
  MemoryCharge charge = charge_working_memory(24 * std::uint64_t{all.num_rows()});
  return all.take(sort_order(all, plan));
}

}  // namespace tessera::dataframe::detail
