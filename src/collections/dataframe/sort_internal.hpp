#pragma once

// Internal: the pieces of sort.cpp that set_index reuses.

#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/sort_key.hpp"

namespace tessera::dataframe::detail {

/// The plan of sort_values(columns, o). Throws: ColumnError, GraphError.
SortPlan sort_plan(const Schema& s, const std::vector<std::string>& columns, const SortOptions& o);
/// One sample task per partition.
std::vector<Delayed<Table>> sample_tasks(const std::vector<Delayed<Table>>& parts, const SortPlan& p);
/// Range-partitions parts by boundaries known now, sorting each output.
template <class Bounds>
std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>& parts, const Bounds& bounds,
                                       const SortPlan& p);
extern template std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>&, const Table&,
                                                       const SortPlan&);

}  // namespace tessera::dataframe::detail
