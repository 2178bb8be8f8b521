// Sample-based range partitioning: samples, boundaries, range tags, the split and the sorted
// combine of the shuffle behind sort_values and set_index.
#include "collections/dataframe/range_partition.hpp"
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/row_key.hpp"

#include <algorithm>

namespace tessera::dataframe::detail {
namespace {

constexpr std::size_t samples_per_partition = 64;

Table key_table(const Table& t, const SortPlan& p) {
  Table out;
  for (const auto& c : p.columns) out.add_column(c, t.column(c));
  return out;
}

/// Rows of `sorted` at `n` evenly spaced ranks of [0, rows), first and last included.
std::vector<std::uint32_t> spaced(std::size_t rows, std::size_t n) {
  std::vector<std::uint32_t> at;
  if (rows == 0 || n == 0) return at;
  if (n == 1) return {0};
  for (std::size_t k = 0; k < n; ++k) at.push_back(static_cast<std::uint32_t>(k * (rows - 1) / (n - 1)));
  return at;
}

/// The samples, sorted, without rows whose first sort column is null when `non_null`.
Table sorted_samples(const std::vector<Table>& samples, const SortPlan& p, bool non_null) {
  Table all = Table::concat(samples);
  std::vector<std::uint32_t> order = sort_order(all, p);
  if (non_null && !p.columns.empty()) {
    const Column& c = all.column(p.columns[0]);
    std::erase_if(order, [&](std::uint32_t r) { return missing(c, r); });
  }
  return all.take(order);
}

/// n_out - 1 boundary ranks of m sorted samples.
std::vector<std::uint32_t> bound_ranks(std::size_t m, std::uint32_t n_out) {
  std::vector<std::uint32_t> at;
  if (m == 0) return at;
  for (std::uint32_t j = 1; j < n_out; ++j) at.push_back(static_cast<std::uint32_t>(j * m / n_out));
  return at;
}

}  // namespace

Table sample_keys(const Table& t, const SortPlan& p) {
  const Table keys = key_table(t, p);
  const auto order = sort_order(keys, p);
  const auto at = spaced(order.size(), std::min(order.size(), samples_per_partition));
  std::vector<std::uint32_t> rows;
  rows.reserve(at.size());
  for (auto a : at) rows.push_back(order[a]);
  return keys.take(rows);
}

Table range_bounds(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out) {
  const Table s = sorted_samples(samples, p, false);
  return s.take(bound_ranks(s.num_rows(), n_out));
}

Table range_divisions(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out) {
  const Table s = sorted_samples(samples, p, true);
  if (s.num_rows() == 0) return s;
  std::vector<std::uint32_t> rows{0};
  for (auto r : bound_ranks(s.num_rows(), n_out)) rows.push_back(r);
  rows.push_back(static_cast<std::uint32_t>(s.num_rows() - 1));
  return s.take(rows);
}

Table tag_ranges(const Table& t, const Table& bounds, const SortPlan& p) {
  const auto rows = key_columns(t, p.columns);
  const auto bs = key_columns(bounds, p.columns);
  std::vector<std::int64_t> range(t.num_rows());
  for (std::size_t i = 0; i < range.size(); ++i) {
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
  const Column& r = t.column(range_column);
  std::vector<std::uint32_t> dest(r.i64.begin(), r.i64.end());
  for (auto& d : dest) d = std::min<std::uint32_t>(d, static_cast<std::uint32_t>(n_out - 1));
  return split_by(t, dest, n_out, range_column);
}

Table SortedConcat::operator()(std::vector<Table>&& pieces) const {
  Table all = Table::concat(pieces);
  pieces.clear();
  return all.take(sort_order(all, plan));
}

}  // namespace tessera::dataframe::detail
