#pragma once

// Internal: the shuffle split of a Table by hash of key columns: equal keys (nulls included)
// go to the same output, rows keep their order within a piece.

#include <tessera/collections/dataframe/table.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tessera::dataframe::detail {

struct HashSplit {
  std::vector<std::string> keys;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & keys;
  }
  std::vector<Table> operator()(const Table& t, std::size_t n_out) const;
};

/// Pieces of a shuffle, one after another.
struct ConcatTables {
  Table operator()(std::vector<Table>&& pieces) const;
};

/// Rows of `t` split by `dest[row]` (< n_out) into n_out tables, rows in order, without the
/// column named `skip`.
std::vector<Table> split_by(const Table& t, const std::vector<std::uint32_t>& dest, std::size_t n_out,
                            std::string_view skip = {});

}  // namespace tessera::dataframe::detail
