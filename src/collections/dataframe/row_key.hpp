#pragma once

// Internal: rows of key columns as hashes and equality, for hash joins and hash splits. Equal
// keys hash equally across tables of the same key dtypes, on every rank of one executable; a
// null (or NaN) key is its own value, so null keys match each other as pandas' merge matches
// NaN with NaN; -0.0 is 0.0.

#include <tessera/collections/dataframe/table.hpp>

#include <string>
#include <vector>

namespace tessera::dataframe::detail {

/// The columns `names` of `t`. Throws: ColumnError naming a missing one.
std::vector<const Column*> key_columns(const Table& t, const std::vector<std::string>& names);
/// A 64-bit hash of every row's key over `cols`.
std::vector<std::uint64_t> row_hashes(const std::vector<const Column*>& cols, std::size_t rows);
/// Row i's hash over `cols`: row_hashes(cols, rows)[i], without the vector.
std::uint64_t row_hash(const std::vector<const Column*>& cols, std::size_t i) noexcept;
/// True when row i of a and row j of b hold the same key (nulls equal nulls).
bool keys_equal(const std::vector<const Column*>& a, std::size_t i, const std::vector<const Column*>& b,
                std::size_t j) noexcept;

}  // namespace tessera::dataframe::detail
