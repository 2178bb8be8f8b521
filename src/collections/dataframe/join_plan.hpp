#pragma once

// Internal: what a merge computes per pair of partitions: the key columns of each side, the join
// type and, per output column, where its values come from.

#include <tessera/collections/dataframe/table.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::dataframe::detail {

/// One output column: from the left, from the right, or a key column both sides share (the
/// left value, the right one on rows only the right side has).
struct JoinOutput {
  enum Side : std::uint8_t { left = 0, right = 1, shared_key = 2 };
  std::uint8_t side = left;
  std::string left_column;
  std::string right_column;
  std::string name;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & side & left_column & right_column & name;
  }
};

struct JoinPlan {
  std::vector<std::string> left_keys;
  std::vector<std::string> right_keys;
  std::string how = "inner";
  std::vector<JoinOutput> outputs;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & left_keys & right_keys & how & outputs;
  }
};

/// The hash join of one left and one right table (see merge in dataframe.hpp for the order).
Table join_tables(const Table& left, const Table& right, const JoinPlan& plan);

}  // namespace tessera::dataframe::detail
