#pragma once

// Internal: the partial state of groupby().agg() (groups as key rows, row counts and one
// accumulator per (group, value column)), what to compute from it, and the steps both the
// tree reduction (groupby.cpp) and the range shuffle (groupby_shuffle.cpp) are built from.

#include <tessera/collections/dataframe/schema.hpp>
#include <tessera/collections/dataframe/table.hpp>
#include <tessera/graph/delayed.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tessera::dataframe::detail {

/// A group key's field in the result: a category key gives its strings (object), as
/// partial_groupby groups a category key by string.
Field key_field(Field f);

/// Running statistics of one value column in one group (nulls skipped).
struct Acc {
  std::int64_t count = 0;
  double fsum = 0;
  std::int64_t isum = 0;
  double mean = 0;
  double m2 = 0;
  double fmin = std::numeric_limits<double>::infinity();
  double fmax = -std::numeric_limits<double>::infinity();
  double ffirst = 0, flast = 0;
  std::int64_t imin = std::numeric_limits<std::int64_t>::max();
  std::int64_t imax = std::numeric_limits<std::int64_t>::min();
  std::int64_t ifirst = 0, ilast = 0;
};

/// The groups a set of partitions has: key rows, row counts and accumulators (ngroups x nvals).
struct GroupState {
  Table keys;
  std::vector<std::int64_t> sizes;
  std::vector<Acc> accs;
  [[nodiscard]] std::size_t nbytes() const noexcept {
    return keys.nbytes() + sizes.capacity() * sizeof(std::int64_t) + accs.capacity() * sizeof(Acc);
  }
};

/// What to compute: key columns, value columns, and the outputs (value column or -1 for size).
struct GroupOutput {
  std::int32_t value = -1;
  std::string fn;
  std::string name;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & value & fn & name;
  }
};
struct GroupPlan {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<GroupOutput> outputs;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & keys & values & outputs;
  }
};

}  // namespace tessera::dataframe::detail

namespace tessera {
template <>
struct Codec<dataframe::detail::GroupState> {
  static void write(ByteWriter& w, const dataframe::detail::GroupState& s) {
    Codec<dataframe::Table>::write(w, s.keys);
    Codec<std::vector<std::int64_t>>::write(w, s.sizes);
    Codec<std::vector<dataframe::detail::Acc>>::write(w, s.accs);
  }
  static dataframe::detail::GroupState read(ByteReader& r) {
    dataframe::detail::GroupState s;
    s.keys = Codec<dataframe::Table>::read(r);
    s.sizes = Codec<std::vector<std::int64_t>>::read(r);
    s.accs = Codec<std::vector<dataframe::detail::Acc>>::read(r);
    return s;
  }
};
}  // namespace tessera

namespace tessera::dataframe::detail {

/// The groups of one partition (rows with a null or NaN key dropped, as pandas).
GroupState partial_groupby(const Table& t, const GroupPlan& plan);
/// The groups of several states merged (first-seen order; accumulators combined).
GroupState merge_states(const std::vector<GroupState>& parts, std::size_t nvals);
/// The result table of merged states: index = the keys, sorted ascending; the plan's outputs.
Table final_groupby(const std::vector<GroupState>& parts, const GroupPlan& plan,
                    const std::vector<DType>& value_types);

/// Appends row `row` of `c` (not null) to `out`, a column of c's dtype.
void push_value(Column& out, const Column& c, std::size_t row);
/// The dtype of function `fn`'s output column for a value column of dtype `vt`.
DType output_dtype(const std::string& fn, DType vt);
/// Throws: TypeError for an unknown function or one that column `f`'s dtype lacks (naming both).
void check_fn(const std::string& fn, const Field& f);

/// groupby_shuffle.cpp: the outputs of the partial states range-shuffled by key into n_out
/// partitions (into the first alone while all states hold under `collapse_below` bytes).
std::vector<Delayed<Table>> shuffle_groupby(const std::vector<Delayed<GroupState>>& partials, const GroupPlan& plan,
                                            const std::vector<DType>& value_types, std::uint32_t n_out,
                                            std::uint64_t collapse_below);

}  // namespace tessera::dataframe::detail
