// DataFrame::sort_values: the graph of the range-partitioned sort (see range_partition.hpp).
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/scheduling/shuffle.hpp>

#include "collections/dataframe/range_partition.hpp"
#include "collections/dataframe/sort_internal.hpp"

namespace tessera::dataframe {
namespace detail {

SortPlan sort_plan(const Schema& s, const std::vector<std::string>& columns, const SortOptions& o) {
  if (columns.empty()) TESSERA_THROW(GraphError, "sort_values needs at least one column");
  if (!o.ascending_each.empty() && o.ascending_each.size() != columns.size()) {
    TESSERA_THROW(GraphError, "sort_values: ascending_each has ", o.ascending_each.size(), " values for ",
                  columns.size(), " columns");
  }
  SortPlan p;
  for (std::size_t k = 0; k < columns.size(); ++k) {
    (void)s.find(columns[k]);
    p.columns.push_back(columns[k]);
    p.ascending.push_back(o.ascending_each.empty() ? o.ascending : o.ascending_each[k]);
  }
  return p;
}

std::vector<Delayed<Table>> sample_tasks(const std::vector<Delayed<Table>>& parts, const SortPlan& p) {
  auto sample = delayed(sample_keys, {.name = "sort-sample", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(parts.size());
  for (const auto& x : parts) out.push_back(sample(x, p));
  return out;
}

/// Tags every partition with its rows' ranges, shuffles by range, sorts each output.
template <class Bounds>
std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>& parts, const Bounds& bounds,
                                       const SortPlan& p, std::size_t n_out) {
  auto tag = delayed(tag_ranges, {.name = "sort-tag", .pure = true});
  std::vector<Delayed<Table>> tagged;
  tagged.reserve(parts.size());
  for (const auto& x : parts) tagged.push_back(tag(x, bounds, p));
  return shuffle(tagged, n_out, RangeSplit{}, SortedConcat{p}, {.name = "sort"});
}

template std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>&, const Table&, const SortPlan&,
                                                std::size_t);

}  // namespace detail

DataFrame DataFrame::sort_values(const std::string& column, const SortOptions& options) const {
  return sort_values(std::vector<std::string>{column}, options);
}

DataFrame DataFrame::sort_values(const std::vector<std::string>& columns, const SortOptions& options) const {
  const detail::SortPlan p = detail::sort_plan(m_schema, columns, options);
  auto bounds = delayed(detail::range_bounds, {.name = "sort-bounds", .pure = true});
  const auto n = static_cast<std::uint32_t>(options.npartitions != 0 ? options.npartitions : m_parts.size());
  const Delayed<Table> b = bounds(detail::sample_tasks(m_parts, p), p, n);
  return DataFrame(m_schema, detail::range_sort(m_parts, b, p, n)).with_order(Table{}, true);
}

}  // namespace tessera::dataframe
