// Column and Table: storage, gathering, concatenation, value access.
#include <tessera/collections/dataframe/table.hpp>

#include "collections/dataframe/categorical.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <sstream>

namespace tessera::dataframe {

const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::int64: return "int64";
    case DType::float64: return "float64";
    case DType::boolean: return "bool";
    case DType::string: return "object";
    case DType::datetime: return "datetime64[ns]";
    case DType::timedelta: return "timedelta64[ns]";
    case DType::category: return "category";
  }
  return "?";
}

bool is_numeric(DType t) noexcept { return !is_text(t); }

// ---- Column ---------------------------------------------------------------------------------

Column::Column(DType t) : dtype(t) {
  if (t == DType::category) categories = no_categories();
}

Column Column::from_categorical(const std::vector<std::string>& v) {
  return to_categorical(from_strings(v));
}

Column Column::from_int64(std::vector<std::int64_t> v) {
  Column c(DType::int64);
  c.i64 = std::move(v);
  return c;
}
Column Column::from_float64(std::vector<double> v) {
  Column c(DType::float64);
  c.f64 = std::move(v);
  return c;
}
Column Column::from_bool(const std::vector<bool>& v) {
  Column c(DType::boolean);
  for (bool b : v) c.push_bool(b);
  return c;
}
Column Column::from_strings(const std::vector<std::string>& v) {
  Column c(DType::string);
  for (const auto& s : v) c.push_str(s);
  return c;
}
Column Column::from_datetime(std::vector<std::int64_t> ns) {
  Column c(DType::datetime);
  c.i64 = std::move(ns);
  return c;
}
Column Column::from_timedelta(std::vector<std::int64_t> ns) {
  Column c(DType::timedelta);
  c.i64 = std::move(ns);
  return c;
}

std::size_t Column::size() const noexcept {
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta:
    case DType::category: return i64.size();
    case DType::float64: return f64.size();
    case DType::boolean: return b8.size();
    case DType::string: return offsets.size() - 1;
  }
  return 0;
}

bool Column::has_nulls() const noexcept { return null_count() > 0; }

std::size_t Column::null_count() const noexcept {
  // Rows past the validity words (appended without a null since) are valid.
  const std::size_t n = size();
  std::size_t nulls = 0;
  for (std::size_t w = 0; w < valid.size() && w * 64 < n; ++w) {
    std::uint64_t word = ~valid[w];
    const std::size_t bits = std::min<std::size_t>(64, n - w * 64);
    if (bits < 64) word &= (std::uint64_t{1} << bits) - 1;
    nulls += static_cast<std::size_t>(std::popcount(word));
  }
  return nulls;
}

double Column::as_double(std::size_t i) const {
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return static_cast<double>(i64[i]);
    case DType::float64: return f64[i];
    case DType::boolean: return b8[i];
    case DType::string:
    case DType::category: break;
  }
  TESSERA_THROW(TypeError, "a ", dtype_name(dtype), " column has no numeric value");
}

void Column::reserve(std::size_t n) {
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta:
    case DType::category: i64.reserve(n); break;
    case DType::float64: f64.reserve(n); break;
    case DType::boolean: b8.reserve(n); break;
    case DType::string: offsets.reserve(n + 1); break;
  }
}

void Column::set_null(std::size_t i) {
  const std::size_t words = (size() + 63) / 64;
  if (valid.size() < words) valid.resize(words, ~std::uint64_t{0});
  valid[i >> 6] &= ~(std::uint64_t{1} << (i & 63));
}

void Column::push_null() {
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: i64.push_back(0); break;
    case DType::category: i64.push_back(-1); break;
    case DType::float64: f64.push_back(std::nan("")); break;
    case DType::boolean: b8.push_back(0); break;
    case DType::string: push_str({}); break;
  }
  set_null(size() - 1);
}

namespace {
template <class V>
V gather(const V& src, std::span<const std::uint32_t> rows) {
  V out;
  out.resize(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) out[k] = src[rows[k]];
  return out;
}
void keep_valid_bit(Column& out, std::size_t k, bool ok) {
  if (!ok) out.set_null(k);
}
}  // namespace

Column Column::take(std::span<const std::uint32_t> rows) const {
  Column out(dtype);
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: out.i64 = gather(i64, rows); break;
    case DType::category:
      out.i64 = gather(i64, rows);
      out.categories = categories;
      break;
    case DType::float64: out.f64 = gather(f64, rows); break;
    case DType::boolean: out.b8 = gather(b8, rows); break;
    case DType::string:
      out.offsets.reserve(rows.size() + 1);
      for (auto r : rows) out.push_str(str(r));
      break;
  }
  if (!valid.empty()) {
    for (std::size_t k = 0; k < rows.size(); ++k) keep_valid_bit(out, k, !is_null(rows[k]));
  }
  return out;
}

Column Column::slice(std::size_t begin, std::size_t end) const {
  end = std::min(end, size());
  begin = std::min(begin, end);
  std::vector<std::uint32_t> rows(end - begin);
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<std::uint32_t>(begin + k);
  return take(rows);
}

void Column::append(const Column& o) {
  if (o.dtype != dtype) {
    TESSERA_THROW(TypeError, "cannot append a ", dtype_name(o.dtype), " column to a ",
                  dtype_name(dtype), " column");
  }
  const std::size_t n0 = size();
  switch (dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: i64.insert(i64.end(), o.i64.begin(), o.i64.end()); break;
    case DType::category: append_codes(*this, o); break;
    case DType::float64: f64.insert(f64.end(), o.f64.begin(), o.f64.end()); break;
    case DType::boolean: b8.insert(b8.end(), o.b8.begin(), o.b8.end()); break;
    case DType::string: {
      const std::int64_t base = static_cast<std::int64_t>(chars.size());
      chars.append(o.chars);
      for (std::size_t k = 1; k < o.offsets.size(); ++k) offsets.push_back(base + o.offsets[k]);
      break;
    }
  }
  if (valid.empty() && o.valid.empty()) return;
  const std::size_t n = size();
  if (valid.empty()) valid.assign((n0 + 63) / 64, ~std::uint64_t{0});
  valid.resize((n + 63) / 64, ~std::uint64_t{0});
  // Bits of rows n0.. start valid: set the ones the tail word carried over from padding.
  for (std::size_t k = n0; k < n && (k & 63) != 0; ++k) valid[k >> 6] |= std::uint64_t{1} << (k & 63);
  for (std::size_t k = 0; k < o.size(); ++k) {
    if (o.is_null(k)) set_null(n0 + k);
  }
}

std::size_t Column::nbytes() const noexcept {
  return i64.capacity() * 8 + f64.capacity() * 8 + b8.capacity() + offsets.capacity() * 8 +
         chars.capacity() + valid.capacity() * 8;
}

bool operator==(const Column& a, const Column& b) {
  if (a.dtype != b.dtype || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a.is_null(i) != b.is_null(i)) return false;
    if (a.is_null(i)) continue;
    switch (a.dtype) {
      case DType::int64:
      case DType::datetime:
      case DType::timedelta:
        if (a.i64[i] != b.i64[i]) return false;
        break;
      case DType::float64:
        if (!(a.f64[i] == b.f64[i] || (std::isnan(a.f64[i]) && std::isnan(b.f64[i])))) return false;
        break;
      case DType::boolean:
        if (a.b8[i] != b.b8[i]) return false;
        break;
      case DType::string:
      case DType::category:
        if (a.text(i) != b.text(i)) return false;
        break;
    }
  }
  return true;
}

// ---- Table ----------------------------------------------------------------------------------

std::size_t Table::num_rows() const noexcept { return m_rows; }

bool Table::has_column(std::string_view name) const noexcept {
  return std::find(m_names.begin(), m_names.end(), name) != m_names.end();
}

namespace {
std::string list_names(const std::vector<std::string>& names) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < names.size(); ++i) os << (i ? ", " : "") << "'" << names[i] << "'";
  os << "]";
  return os.str();
}
}  // namespace

std::size_t Table::column_index(std::string_view name) const {
  auto it = std::find(m_names.begin(), m_names.end(), name);
  if (it == m_names.end()) {
    TESSERA_THROW(ColumnError, "no column '", name, "'; the columns are ", list_names(m_names));
  }
  return static_cast<std::size_t>(it - m_names.begin());
}

const Column& Table::column(std::string_view name) const { return m_cols[column_index(name)]; }

void Table::add_column(std::string name, Column c) {
  const bool empty_table = m_cols.empty() && m_index.empty();
  if (!empty_table && c.size() != m_rows) {
    TESSERA_THROW(ShapeError, "column '", name, "' has ", c.size(), " rows, the table ", m_rows);
  }
  m_rows = c.size();
  auto it = std::find(m_names.begin(), m_names.end(), name);
  if (it != m_names.end()) {
    m_cols[static_cast<std::size_t>(it - m_names.begin())] = std::move(c);
  } else {
    m_names.push_back(std::move(name));
    m_cols.push_back(std::move(c));
  }
}

void Table::set_index(std::vector<std::string> names, std::vector<Column> cols) {
  if (names.size() != cols.size()) TESSERA_THROW(ShapeError, "set_index: names and columns differ in count");
  for (const auto& c : cols) {
    if (!(m_cols.empty() && m_index.empty()) && c.size() != m_rows) {
      TESSERA_THROW(ShapeError, "index of ", c.size(), " rows for a table of ", m_rows);
    }
    m_rows = c.size();
  }
  m_index_names = std::move(names);
  m_index = std::move(cols);
}

namespace {
void check_row(std::size_t row, std::size_t n) {
  if (row >= n) TESSERA_THROW(ShapeError, "row ", row, " is out of range for a table of ", n, " rows");
}

template <class T>
T value_of(const Column& c, std::size_t row, std::string_view what) {
  if constexpr (std::is_same_v<T, double>) {
    if (is_text(c.dtype)) {
      TESSERA_THROW(TypeError, what, " is ", dtype_name(c.dtype), ", not numeric (asked for double)");
    }
    return c.as_double(row);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    if (c.dtype == DType::int64 || c.dtype == DType::datetime || c.dtype == DType::timedelta) return c.i64[row];
    if (c.dtype == DType::boolean) return c.b8[row];
    TESSERA_THROW(TypeError, what, " is ", dtype_name(c.dtype), ", not int64");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (c.dtype == DType::boolean) return c.b8[row] != 0;
    TESSERA_THROW(TypeError, what, " is ", dtype_name(c.dtype), ", not bool");
  } else {
    if (is_text(c.dtype)) return T(c.text(row));
    if (c.dtype == DType::datetime) {
      if constexpr (std::is_same_v<T, std::string>) return format_datetime(c.i64[row], false);
    }
    if (c.dtype == DType::timedelta) {
      if constexpr (std::is_same_v<T, std::string>) return format_timedelta(c.i64[row], true);
    }
    TESSERA_THROW(TypeError, what, " is ", dtype_name(c.dtype), ", not a string");
  }
}
}  // namespace

template <class T>
T Table::at(std::string_view column_name, std::size_t row) const {
  const Column& c = column(column_name);
  check_row(row, m_rows);
  return value_of<T>(c, row, "column '" + std::string(column_name) + "'");
}

template <class T>
T Table::index_at(std::size_t row, std::size_t level) const {
  check_row(row, m_rows);
  if (m_index.empty()) {
    if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
      return static_cast<T>(row);
    } else {
      TESSERA_THROW(TypeError, "the index is a range index (int64)");
    }
  } else {
    if (level >= m_index.size()) {
      TESSERA_THROW(ShapeError, "index level ", level, " of an index of ", m_index.size(), " levels");
    }
    return value_of<T>(m_index[level], row, "index level '" + m_index_names[level] + "'");
  }
}

#define TESSERA_TABLE_AT(T)                                                \
  template T Table::at<T>(std::string_view, std::size_t) const;            \
  template T Table::index_at<T>(std::size_t, std::size_t) const;
TESSERA_TABLE_AT(std::int64_t)
TESSERA_TABLE_AT(double)
TESSERA_TABLE_AT(bool)
TESSERA_TABLE_AT(std::string)
TESSERA_TABLE_AT(std::string_view)
#undef TESSERA_TABLE_AT

bool Table::is_null(std::string_view column_name, std::size_t row) const {
  const Column& c = column(column_name);
  check_row(row, m_rows);
  return c.is_null(row);
}

Table Table::take(std::span<const std::uint32_t> rows) const {
  Table out;
  out.m_names = m_names;
  out.m_index_names = m_index_names;
  for (const auto& c : m_cols) out.m_cols.push_back(c.take(rows));
  for (const auto& c : m_index) out.m_index.push_back(c.take(rows));
  out.m_rows = rows.size();
  return out;
}

Table Table::slice(std::size_t begin, std::size_t end) const {
  end = std::min(end, m_rows);
  begin = std::min(begin, end);
  std::vector<std::uint32_t> rows(end - begin);
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<std::uint32_t>(begin + k);
  return take(rows);
}

Table Table::concat(std::span<const Table> parts) {
  if (parts.empty()) return Table{};
  Table out = parts[0];
  for (std::size_t p = 1; p < parts.size(); ++p) {
    const Table& t = parts[p];
    if (t.m_names != out.m_names || t.m_index.size() != out.m_index.size()) {
      TESSERA_THROW(TypeError, "concat: partition ", p, " has columns ", list_names(t.m_names),
                    ", partition 0 ", list_names(out.m_names));
    }
    for (std::size_t c = 0; c < t.m_cols.size(); ++c) {
      if (t.m_cols[c].dtype != out.m_cols[c].dtype) {
        TESSERA_THROW(TypeError, "concat: column '", t.m_names[c], "' is ", dtype_name(t.m_cols[c].dtype),
                      " in partition ", p, " but ", dtype_name(out.m_cols[c].dtype), " in partition 0");
      }
      out.m_cols[c].append(t.m_cols[c]);
    }
    for (std::size_t c = 0; c < t.m_index.size(); ++c) out.m_index[c].append(t.m_index[c]);
    out.m_rows += t.m_rows;
  }
  return out;
}

std::size_t Table::nbytes() const noexcept {
  std::size_t n = 0;
  for (const auto& c : m_cols) n += c.nbytes();
  for (const auto& c : m_index) n += c.nbytes();
  return n;
}

bool operator==(const Table& a, const Table& b) {
  return a.m_rows == b.m_rows && a.m_names == b.m_names && a.m_cols == b.m_cols &&
         a.m_index_names == b.m_index_names && a.m_index == b.m_index;
}

}  // namespace tessera::dataframe

// ---- Codec ----------------------------------------------------------------------------------

namespace tessera {
using dataframe::Column;
using dataframe::DType;
using dataframe::Table;

namespace {
template <class T>
void write_vec(ByteWriter& w, const std::vector<T>& v) {
  w.pod<std::uint64_t>(v.size());
  w.bulk(v.data(), v.size() * sizeof(T));
}
template <class T>
std::vector<T> read_vec(ByteReader& r) {
  const auto n = r.pod<std::uint64_t>();
  if (n > r.remaining() / sizeof(T)) {
    TESSERA_THROW(SerializationError, "serialized column claims ", n, " values but ", r.remaining(),
                  " bytes remain");
  }
  std::vector<T> v(n);
  r.read(v.data(), n * sizeof(T));
  return v;
}
}  // namespace

void Codec<Column>::write(ByteWriter& w, const Column& c) {
  w.pod<std::uint8_t>(static_cast<std::uint8_t>(c.dtype));
  write_vec(w, c.valid);
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: write_vec(w, c.i64); break;
    case DType::category:
      write_vec(w, c.i64);
      Codec<std::vector<std::string>>::write(w, c.categories->values);
      break;
    case DType::float64: write_vec(w, c.f64); break;
    case DType::boolean: write_vec(w, c.b8); break;
    case DType::string:
      write_vec(w, c.offsets);
      Codec<std::string>::write(w, c.chars);
      break;
  }
}

Column Codec<Column>::read(ByteReader& r) {
  const auto t = r.pod<std::uint8_t>();
  if (t > static_cast<std::uint8_t>(DType::category)) {
    TESSERA_THROW(SerializationError, "serialized column has an unknown dtype code ", int(t));
  }
  Column c(static_cast<DType>(t));
  c.valid = read_vec<std::uint64_t>(r);
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: c.i64 = read_vec<std::int64_t>(r); break;
    case DType::category:
      c.i64 = read_vec<std::int64_t>(r);
      c.categories = dataframe::detail::read_categories(c, Codec<std::vector<std::string>>::read(r));
      break;
    case DType::float64: c.f64 = read_vec<double>(r); break;
    case DType::boolean: c.b8 = read_vec<std::uint8_t>(r); break;
    case DType::string:
      c.offsets = read_vec<std::int64_t>(r);
      c.chars = Codec<std::string>::read(r);
      if (c.offsets.empty()) TESSERA_THROW(SerializationError, "serialized string column lacks offsets");
      break;
  }
  return c;
}

void Codec<Table>::write(ByteWriter& w, const Table& t) {
  w.pod<std::uint64_t>(t.num_rows());
  Codec<std::vector<std::string>>::write(w, t.column_names());
  for (std::size_t i = 0; i < t.num_columns(); ++i) Codec<Column>::write(w, t.column(i));
  Codec<std::vector<std::string>>::write(w, t.index_names());
  for (const auto& c : t.index_columns()) Codec<Column>::write(w, c);
}

Table Codec<Table>::read(ByteReader& r) {
  const auto rows = r.pod<std::uint64_t>();
  Table t;
  const auto names = Codec<std::vector<std::string>>::read(r);
  for (const auto& n : names) t.add_column(n, Codec<Column>::read(r));
  auto inames = Codec<std::vector<std::string>>::read(r);
  std::vector<Column> icols;
  for (std::size_t k = 0; k < inames.size(); ++k) icols.push_back(Codec<Column>::read(r));
  const bool any = !names.empty() || !icols.empty();
  t.set_index(std::move(inames), std::move(icols));
  if (any && t.num_rows() != rows) {
    TESSERA_THROW(SerializationError, "serialized table claims ", rows, " rows, its columns ", t.num_rows());
  }
  return t;
}

}  // namespace tessera
