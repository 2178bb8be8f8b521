// DataFrame::set_index (a sorted index with divisions computed now) and loc on it (only the
// partitions whose divisions overlap the bounds).
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/range_partition.hpp"
#include "collections/dataframe/sort_internal.hpp"

namespace tessera::dataframe {
namespace detail {
namespace {

Table move_to_index(const Table& t, const std::string& column) {
  Table out;
  out.set_index({column}, {t.column(column)});
  for (std::size_t c = 0; c < t.num_columns(); ++c) {
    if (t.column_names()[c] != column) out.add_column(t.column_names()[c], t.column(c));
  }
  return out;
}

/// The rows of t whose (first) index value lies in [lo, hi].
Table index_between(const Table& t, const Column& lo, const Column& hi) {
  const Column& idx = t.index_columns().at(0);
  std::vector<std::uint32_t> rows;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (missing(idx, i)) continue;
    if (compare_cells(lo, 0, idx, i) <= 0 && compare_cells(idx, i, hi, 0) <= 0) rows.push_back(static_cast<std::uint32_t>(i));
  }
  return t.take(rows);
}

/// A bound as a one-row column of the index dtype. Throws: TypeError.
Column bound_column(const Scalar& s, const Field& index, const char* which) {
  const ExprNode& n = s.node;
  const DType t = index.dtype;
  std::int64_t ns = 0;
  if (n.op == Op::lit_str && t == DType::datetime && parse_datetime(n.text, ns)) return Column::from_datetime({ns});
  if (n.op == Op::lit_str && t == DType::timedelta && parse_timedelta(n.text, ns)) return Column::from_timedelta({ns});
  if (n.op == Op::lit_int && n.dtype == DType::timedelta && t == DType::timedelta) return Column::from_timedelta({n.i});
  if (n.op == Op::lit_str && t == DType::string) return Column::from_strings({n.text});
  if (n.op == Op::lit_int && t == DType::int64) return Column::from_int64({n.i});
  if (n.op == Op::lit_int && t == DType::float64) return Column::from_float64({static_cast<double>(n.i)});
  if (n.op == Op::lit_float && t == DType::float64) return Column::from_float64({n.f});
  if (n.op == Op::lit_bool && t == DType::boolean) return Column::from_bool({n.i != 0});
  const std::string shown = n.op == Op::lit_str ? "'" + n.text + "'"
                            : n.op == Op::lit_float ? std::to_string(n.f) : std::to_string(n.i);
  TESSERA_THROW(TypeError, "loc: the ", which, " bound ", shown, " (", dtype_name(n.dtype),
                ") does not fit the index '", index.name, "' of dtype ", dtype_name(t));
}

}  // namespace
}  // namespace detail

DataFrame DataFrame::set_index(const std::string& column, const SetIndexOptions& options) const {
  const detail::SortPlan p = detail::sort_plan(m_schema, {column}, {});
  const auto n = static_cast<std::uint32_t>(m_parts.size());
  auto divs = delayed(detail::range_divisions, {.name = "set-index-divisions", .pure = true});
  const Delayed<Table> d = divs(detail::sample_tasks(m_parts, p), p, n);
  const Table divisions = options.scheduler ? tessera::compute(d, options.scheduler) : tessera::compute(d);
  const Table bounds = divisions.num_rows() == 0 ? divisions : divisions.slice(1, divisions.num_rows() - 1);
  auto to_index = delayed(detail::move_to_index, {.name = "set-index", .pure = true});
  std::vector<Delayed<Table>> out;
  for (const auto& x : detail::range_sort(m_parts, bounds, p, m_parts.size())) out.push_back(to_index(x, column));
  Schema s;
  for (const auto& f : m_schema.columns) (f.name == column ? s.index : s.columns).push_back(f);
  return DataFrame(std::move(s), std::move(out)).with_order(divisions.num_rows() ? divisions : Table{}, true);
}

DataFrame DataFrame::loc(const Scalar& lo, const Scalar& hi) const {
  if (!known_divisions() || m_schema.index.size() != 1) {
    TESSERA_THROW(GraphError, "loc needs a sorted index with known divisions (set_index)");
  }
  const Field& index = m_schema.index[0];
  const Column lo_c = detail::bound_column(lo, index, "lower");
  const Column hi_c = detail::bound_column(hi, index, "upper");
  const Column& div = m_divisions.column(0);
  auto between = delayed(detail::index_between, {.name = "loc", .pure = true});
  std::vector<Delayed<Table>> out;
  std::size_t first = m_parts.size(), last = 0;
  for (std::size_t j = 0; j < m_parts.size(); ++j) {
    if (detail::compare_cells(div, j, hi_c, 0) > 0 || detail::compare_cells(div, j + 1, lo_c, 0) < 0) continue;
    out.push_back(between(m_parts[j], lo_c, hi_c));
    first = std::min(first, j);
    last = j;
  }
  if (out.empty()) {
    auto empty = delayed(empty_table, {.name = "loc-empty", .pure = true});
    return DataFrame(m_schema, {empty(m_schema)});
  }
  return DataFrame(m_schema, std::move(out)).with_order(m_divisions.slice(first, last + 2), true);
}

}  // namespace tessera::dataframe
