#pragma once

// Internal: the row order of sort_values and set_index: by the sort columns in turn, each
// ascending or descending, nulls and NaN last in either direction; stable.

#include <tessera/collections/dataframe/table.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::dataframe::detail {

struct SortPlan {
  std::vector<std::string> columns;
  std::vector<std::uint8_t> ascending;  // one per column
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & columns & ascending;
  }
};

/// <0, 0, >0 as row i of a sorts before, with, after row j of b (same dtype), ascending,
/// nulls last.
int compare_cells(const Column& a, std::size_t i, const Column& b, std::size_t j) noexcept;
/// The same over several columns with directions.
int compare_rows(const std::vector<const Column*>& a, std::size_t i, const std::vector<const Column*>& b,
                 std::size_t j, const std::vector<std::uint8_t>& ascending) noexcept;
/// The rows of `t` in sort order (stable).
std::vector<std::uint32_t> sort_order(const Table& t, const SortPlan& p);
/// True when the cell is null or NaN.
inline bool missing(const Column& c, std::size_t i) noexcept {
  return c.is_null(i) || (c.dtype == DType::float64 && std::isnan(c.f64[i]));
}

}  // namespace tessera::dataframe::detail
