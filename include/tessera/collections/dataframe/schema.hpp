#pragma once

/// @file
/// The schema of a DataFrame: its columns' names and dtypes, and its index (a range index, or
/// named index columns), known when the expression is built.
///
/// @code
/// td::Schema s{{{"x", td::DType::int64}, {"s", td::DType::string}}, {}};
/// std::size_t at = s.find("s");          // 1; s.find("y") throws ColumnError listing x, s
/// td::Table empty = td::empty_table(s);  // 0 rows, columns x and s
/// @endcode
///
/// Thread safety: a plain value.

#include <tessera/collections/dataframe/table.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tessera::dataframe {

/// A column's name and dtype.
struct Field {
  std::string name;
  DType dtype = DType::float64;
  friend bool operator==(const Field&, const Field&) = default;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & name & dtype;
  }
};

/// Columns and index of a DataFrame (index empty: the range index).
struct Schema {
  std::vector<Field> columns;
  std::vector<Field> index;
  friend bool operator==(const Schema&, const Schema&) = default;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & columns & index;
  }
  /// Position of a column. Throws: ColumnError naming it and listing the columns.
  [[nodiscard]] std::size_t find(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const noexcept;
  [[nodiscard]] DType dtype(std::string_view name) const { return columns[find(name)].dtype; }
  [[nodiscard]] std::vector<std::string> column_names() const;
};

/// A Table of `s` with no rows.
Table empty_table(const Schema& s);
/// The schema a Table has.
Schema schema_of(const Table& t);

}  // namespace tessera::dataframe
