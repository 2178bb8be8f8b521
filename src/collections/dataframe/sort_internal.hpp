#pragma once

// Internal: the pieces of sort.cpp that set_index reuses.

#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/sort_key.hpp"

namespace tessera::dataframe::detail {

/// The plan of sort_values(columns, o). Throws: ColumnError, GraphError.
SortPlan sort_plan(const Schema& s, const std::vector<std::string>& columns, const SortOptions& o);
/// One sample task per partition.
std::vector<Delayed<Table>> sample_tasks(const std::vector<Delayed<Table>>& parts, const SortPlan& p);
/// Range-partitions parts into n_out outputs by n_out - 1 (or fewer) boundaries known now,
/// sorting each output.
template <class Bounds>
std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>& parts, const Bounds& bounds,
                                       const SortPlan& p, std::size_t n_out);
extern template std::vector<Delayed<Table>> range_sort(const std::vector<Delayed<Table>>&, const Table&,
                                                       const SortPlan&, std::size_t);

}  // namespace tessera::dataframe::detail
