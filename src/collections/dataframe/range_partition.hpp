#pragma once

// Internal: sample-based range partitioning (sort_values, set_index). Each partition gives a
// sorted sample of its sort keys; the samples give n_out - 1 boundaries; each row is tagged
// with its range (the number of boundaries at or before it, so equal keys share a range) and
// the shuffle sends it there; each output is sorted.

#include <tessera/collections/dataframe/table.hpp>

#include "collections/dataframe/sort_key.hpp"

#include <cstdint>
#include <vector>

namespace tessera::dataframe::detail {

/// The name of the range column tag_ranges adds.
inline constexpr const char* range_column = "__tessera_range";

/// The sort columns at up to 256 rows of t (one per equal stratum, at fixed pseudo-random
/// offsets, each weighing rows / samples), plus the first and last non-null rows in sort order
/// (weighing nothing), and their weights.
Table sample_keys(const Table& t, const SortPlan& p);
/// n_out - 1 boundaries (none without samples) at equal steps of the samples' weight, sorted.
Table range_bounds(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out);
/// set_index's divisions: the non-null sample minimum, the n_out - 1 boundaries from the
/// non-null samples, the maximum (n_out + 1 rows); no rows when every sample is null.
Table range_divisions(const std::vector<Table>& samples, const SortPlan& p, const std::uint32_t& n_out);
/// t with the range column appended (int64, in [0, bounds rows]).
Table tag_ranges(const Table& t, const Table& bounds, const SortPlan& p);

/// Shuffle split by the range column (dropped from the pieces).
struct RangeSplit {
  std::vector<Table> operator()(const Table& t, std::size_t n_out) const;
};
/// Shuffle combine: the pieces one after another, sorted (stable, so ties keep input order).
struct SortedConcat {
  SortPlan plan;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & plan;
  }
  Table operator()(std::vector<Table>&& pieces) const;
};

}  // namespace tessera::dataframe::detail
