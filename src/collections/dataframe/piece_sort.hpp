#pragma once

// Internal: the sorted combine of the range shuffle (sort_values, set_index) for one numeric sort
// column, over the pieces as they came, without concatenating them first: the row order from the
// pieces' keys (bucket_sort: 12 B a row), then the output gathered column by column, each column
// of the pieces released once it is gathered.

#include <tessera/collections/dataframe/table.hpp>

#include "collections/dataframe/sort_key.hpp"

#include <vector>

namespace tessera::dataframe::detail {

/// True when sort_pieces can sort `pieces` by `p`: one int64, datetime, timedelta or float64 sort
/// column, the same columns (names and dtypes) and index levels in every piece, and a row id
/// (piece, row) that fits 32 bits.
bool piecewise_sortable(const std::vector<Table>& pieces, const SortPlan& p);

/// The rows of the pieces one after another, sorted by `p` (stable; nulls and NaN last, in input
/// order), as Table::concat(pieces).take(sort_order(...)) gives them. Empties the pieces' columns
/// as it gathers them. Charges its scratch beyond the pieces and the output, which the caller
/// holds charged (storage/working_memory.hpp). Requires piecewise_sortable(pieces, p).
Table sort_pieces(std::vector<Table>& pieces, const SortPlan& p);

}  // namespace tessera::dataframe::detail
