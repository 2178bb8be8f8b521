#pragma once

// Internal: rows of key columns as bytes, for hash joins and hash splits. Equal keys give equal
// bytes across tables of the same key dtypes; a null (or NaN) key is its own value, so null keys
// match each other as pandas' merge matches NaN with NaN; -0.0 is 0.0.

#include <tessera/collections/dataframe/table.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace tessera::dataframe::detail {

inline void append_key(const Column& c, std::size_t row, std::string& buf) {
  if (c.is_null(row) || (c.dtype == DType::float64 && std::isnan(c.f64[row]))) {
    buf.push_back('\0');
    return;
  }
  buf.push_back('\1');
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime: buf.append(reinterpret_cast<const char*>(&c.i64[row]), 8); break;
    case DType::float64: {
      const double v = c.f64[row] == 0 ? 0.0 : c.f64[row];
      buf.append(reinterpret_cast<const char*>(&v), 8);
      break;
    }
    case DType::boolean: buf.push_back(static_cast<char>(c.b8[row])); break;
    case DType::string: {
      const auto s = c.str(row);
      const auto n = static_cast<std::uint32_t>(s.size());
      buf.append(reinterpret_cast<const char*>(&n), 4);
      buf.append(s);
      break;
    }
  }
}

/// The key of `row` over `cols` into `buf` (cleared first).
inline void row_key(const std::vector<const Column*>& cols, std::size_t row, std::string& buf) {
  buf.clear();
  for (const Column* c : cols) append_key(*c, row, buf);
}

/// The columns `names` of `t`. Throws: ColumnError naming a missing one.
inline std::vector<const Column*> key_columns(const Table& t, const std::vector<std::string>& names) {
  std::vector<const Column*> out;
  out.reserve(names.size());
  for (const auto& n : names) out.push_back(&t.column(n));
  return out;
}

}  // namespace tessera::dataframe::detail
