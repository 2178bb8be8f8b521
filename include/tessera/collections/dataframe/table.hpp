#pragma once

/// @file
/// tessera::dataframe::Table: one in-memory columnar table, the partition of a DataFrame and
/// the result of computing one. Columns are int64, float64, bool, string (UTF-8, offsets +
/// bytes), datetime64[ns] (int64 nanoseconds since 1970-01-01), timedelta64[ns] (int64
/// nanoseconds, pandas' Timedelta) or category (int64 codes into shared string categories,
/// pandas' Categorical of strings); nulls are a validity bitmap
/// per column (pandas' NaN / NaT / None / <NA>). The index is a range (0..n-1, the default) or
/// one or more index columns (a groupby result's keys). Tables print as pandas prints them.
///
/// @code
/// namespace td = tessera::dataframe;
/// td::Table t;
/// t.add_column("x", td::Column::from_int64({1, 2, 3}));
/// auto s = td::Column::from_strings({"a", "b", "c"});
/// s.set_null(1);
/// t.add_column("s", std::move(s));
/// std::cout << t;                       //    x    s
///                                       // 0  1    a
///                                       // 1  2  NaN
///                                       // 2  3    c
/// double x1 = t.at<double>("x", 1);     // 2.0
/// bool missing = t.is_null("s", 1);     // true
/// @endcode
///
/// Tables travel between ranks through tessera::Codec<Table> (column buffers are written with
/// ByteWriter::bulk, so large columns are sent straight from their memory).
/// Thread safety: const members may be called concurrently; a Table is a plain value.

#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::dataframe {

/// An unknown column: the message names the column and lists the columns there are.
class ColumnError : public GraphError {
public:
  using GraphError::GraphError;
};
/// An operation on columns of the wrong dtypes: the message names the columns and dtypes.
class TypeError : public ShapeError {
public:
  using ShapeError::ShapeError;
};
/// A CSV file that cannot be read: the message names file:line and the column.
class ParseError : public Error {
public:
  using Error::Error;
};

/// Column types.
enum class DType : std::uint8_t { int64, float64, boolean, string, datetime, timedelta, category };

/// The dtype as pandas names it: "int64", "float64", "bool", "object", "datetime64[ns]",
/// "timedelta64[ns]", "category".
const char* dtype_name(DType t) noexcept;
/// True for int64, float64, bool, datetime and timedelta (the dtypes with min/max).
bool is_numeric(DType t) noexcept;
/// True for string and category (the dtypes whose values are text).
inline bool is_text(DType t) noexcept { return t == DType::string || t == DType::category; }

/// The categories of categorical columns: distinct strings in ascending byte order (so the
/// order of codes is the order of the strings, as pandas' categories inferred from strings
/// are sorted; they are unordered categoricals). Immutable once built and shared (through
/// std::shared_ptr<const Categories>) by every column, copy and slice that uses them.
struct Categories {
  std::vector<std::string> values;
  /// The code of `s` (its position), or -1 when `s` is not a category.
  [[nodiscard]] std::int64_t code(std::string_view s) const noexcept;
};

/// One column: the raw storage is public (kernels and the CSV parser fill it directly).
/// Invariants: int64/datetime/timedelta use `i64`, float64 `f64`, bool `b8` (0 or 1), string `offsets`
/// (size()+1 entries, offsets[0] == 0) and `chars`; `valid` is empty (no nulls) or holds
/// up to ceil(size/64) words, bit i of word i/64 set when row i is valid (rows past the
/// words, appended without a null since, are valid). A null row's slot holds 0, NaN or "".
/// category: `i64` holds the codes (int64, the existing storage; one code a row, 0 <=
/// code < categories->values.size() for every valid row) and `categories` the shared
/// dictionary (never null for a category column; empty for other dtypes). A null row is
/// marked in `valid` only: push_null stores code -1, set_null keeps the slot's code, so read
/// the bitmap, not the code (cat.codes gives -1 for every null row, as pandas). Columns with
/// different categories hold the same values when their strings are equal: append,
/// Table::concat and operator== compare and merge by string (append gives the union of the
/// categories, sorted, and remaps codes, as pandas' union_categoricals(sort_categories=True)).
struct Column {
  DType dtype = DType::float64;
  std::vector<std::int64_t> i64;
  std::vector<double> f64;
  std::vector<std::uint8_t> b8;
  std::vector<std::int64_t> offsets{0};
  std::string chars;
  std::vector<std::uint64_t> valid;
  std::shared_ptr<const Categories> categories;

  Column() = default;
  /// An empty column; a category column gets empty categories.
  explicit Column(DType t);
  static Column from_int64(std::vector<std::int64_t> v);
  static Column from_float64(std::vector<double> v);
  static Column from_bool(const std::vector<bool>& v);
  static Column from_strings(const std::vector<std::string>& v);
  static Column from_datetime(std::vector<std::int64_t> ns);
  static Column from_timedelta(std::vector<std::int64_t> ns);
  /// A category column of the strings `v` (categories: their distinct values, sorted).
  static Column from_categorical(const std::vector<std::string>& v);

  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] bool is_null(std::size_t i) const noexcept {
    return (i >> 6) < valid.size() && ((valid[i >> 6] >> (i & 63)) & 1u) == 0;
  }
  [[nodiscard]] bool has_nulls() const noexcept;
  [[nodiscard]] std::size_t null_count() const noexcept;
  [[nodiscard]] std::string_view str(std::size_t i) const noexcept {
    return {chars.data() + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i])};
  }
  /// Row i's text of a string or category column (a valid row; "" for a null category row).
  [[nodiscard]] std::string_view text(std::size_t i) const noexcept {
    if (dtype != DType::category) return str(i);
    const std::int64_t k = i64[i];
    return k < 0 ? std::string_view{} : std::string_view{categories->values[static_cast<std::size_t>(k)]};
  }
  /// Row i as a double (int64, float64, bool, datetime, timedelta: nanoseconds). Throws: TypeError for strings
  /// and categories.
  [[nodiscard]] double as_double(std::size_t i) const;

  void reserve(std::size_t n);
  void push_int(std::int64_t v) { i64.push_back(v); }
  void push_float(double v) { f64.push_back(v); }
  void push_bool(bool v) { b8.push_back(v ? 1 : 0); }
  void push_str(std::string_view s) {
    chars.append(s);
    offsets.push_back(static_cast<std::int64_t>(chars.size()));
  }
  /// Appends a null row (a placeholder value and a cleared validity bit).
  void push_null();
  /// Marks an existing row null (its slot keeps its value).
  void set_null(std::size_t i);

  /// The rows `rows`, in that order.
  [[nodiscard]] Column take(std::span<const std::uint32_t> rows) const;
  /// Rows [begin, end).
  [[nodiscard]] Column slice(std::size_t begin, std::size_t end) const;
  /// Appends the rows of `other` (same dtype; categories: the union, codes remapped).
  /// Throws: TypeError on another dtype.
  void append(const Column& other);
  /// Bytes held (a category column counts its codes, not the shared categories).
  [[nodiscard]] std::size_t nbytes() const noexcept;
  /// Equal dtype, size, nulls and values (NaN equals NaN).
  friend bool operator==(const Column& a, const Column& b);
};

/// A columnar table with a range index or index columns; see the file comment.
class Table {
public:
  Table() = default;

  [[nodiscard]] std::size_t num_rows() const noexcept;
  [[nodiscard]] std::size_t num_columns() const noexcept { return m_cols.size(); }
  [[nodiscard]] const std::vector<std::string>& column_names() const noexcept { return m_names; }
  [[nodiscard]] bool has_column(std::string_view name) const noexcept;
  /// Position of a column. Throws: ColumnError naming it and listing the columns.
  [[nodiscard]] std::size_t column_index(std::string_view name) const;
  [[nodiscard]] const Column& column(std::string_view name) const;
  [[nodiscard]] const Column& column(std::size_t i) const { return m_cols.at(i); }
  [[nodiscard]] Column& column(std::size_t i) { return m_cols.at(i); }
  /// Adds a column, or replaces the one of that name. Throws: ShapeError if its length differs
  /// from the table's (a table without columns takes any length).
  void add_column(std::string name, Column c);

  /// True for the default 0..n-1 index.
  [[nodiscard]] bool has_range_index() const noexcept { return m_index.empty(); }
  [[nodiscard]] const std::vector<std::string>& index_names() const noexcept { return m_index_names; }
  [[nodiscard]] const std::vector<Column>& index_columns() const noexcept { return m_index; }
  /// Sets index columns (empty: the range index). Throws: ShapeError on a length mismatch.
  void set_index(std::vector<std::string> names, std::vector<Column> cols);

  /// Value at (column, row). T: std::int64_t, double, bool, std::string, std::string_view.
  /// Throws: ColumnError (unknown column), TypeError (T does not fit the dtype), ShapeError
  /// (row out of range). A null row gives 0 / NaN / "" / false: ask is_null().
  template <class T>
  [[nodiscard]] T at(std::string_view column, std::size_t row) const;
  /// Index label of a row (level `level` of index columns; the row number for a range index).
  template <class T>
  [[nodiscard]] T index_at(std::size_t row, std::size_t level = 0) const;
  /// True when (column, row) is null. Throws: ColumnError, ShapeError.
  [[nodiscard]] bool is_null(std::string_view column, std::size_t row) const;

  /// The rows `rows` (index columns too).
  [[nodiscard]] Table take(std::span<const std::uint32_t> rows) const;
  /// Rows [begin, end) (clamped).
  [[nodiscard]] Table slice(std::size_t begin, std::size_t end) const;
  /// Rows of the tables one after another; they must have equal columns (names and dtypes).
  /// Throws: TypeError naming the first column that differs.
  static Table concat(std::span<const Table> parts);
  [[nodiscard]] std::size_t nbytes() const noexcept;
  friend bool operator==(const Table& a, const Table& b);

private:
  std::vector<std::string> m_names;
  std::vector<Column> m_cols;
  std::vector<std::string> m_index_names;
  std::vector<Column> m_index;
  std::size_t m_rows = 0;
};

/// Prints as pandas prints a DataFrame (right-aligned columns, NaN / NaT for nulls, floats to
/// six significant digits with a common number of decimals, more than 60 rows as the first
/// and last five with "..." and a "[rows x columns]" footer).
std::ostream& operator<<(std::ostream& os, const Table& t);

/// Nanoseconds since the epoch from a civil date and time (proleptic Gregorian, UTC).
std::int64_t datetime_ns(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                         int second = 0, std::int64_t nanos = 0) noexcept;
/// "1990-01-31" (date_only) or "1990-01-31 12:30:00[.nnnnnnnnn]".
std::string format_datetime(std::int64_t ns, bool date_only);
/// Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.fraction]]" (or 'T' for the space).
/// Returns false if `s` is not such a date.
bool parse_datetime(std::string_view s, std::int64_t& ns) noexcept;

/// A duration as pandas prints it: "1 days 02:03:04", "-1 days +23:59:59",
/// "0 days 00:00:00.500000" (microseconds when there is a fraction, nanoseconds when they are
/// not zero). `long_form` false prints a whole number of days as "2 days" (pandas does so when
/// every value of the column is whole days); true always prints the time ("2 days 00:00:00").
std::string format_timedelta(std::int64_t ns, bool long_form);
/// Parses pandas' printed forms: "[-]D day[s][ +|-]HH:MM:SS[.fraction]", "[-]HH:MM:SS[.fraction]",
/// "[-]D days", and a number with a unit ("1.5s", "90min", "2h", "3d", "250ms", "10us", "7ns";
/// leading/trailing ASCII spaces allowed). Returns false for anything else or on overflow.
bool parse_timedelta(std::string_view s, std::int64_t& ns) noexcept;

}  // namespace tessera::dataframe

namespace tessera {
/// Tables as bytes: per column its name, dtype, length, validity and buffers (bulk); a category
/// column carries its categories after its codes (read back as a new shared dictionary).
template <>
struct Codec<dataframe::Column> {
  static void write(ByteWriter& w, const dataframe::Column& c);
  static dataframe::Column read(ByteReader& r);
};
template <>
struct Codec<dataframe::Table> {
  static void write(ByteWriter& w, const dataframe::Table& t);
  static dataframe::Table read(ByteReader& r);
};
}  // namespace tessera
