// Key hashes and key equality of rows (hash joins and hash splits).
#include "collections/dataframe/row_key.hpp"
#include "collections/dataframe/sort_key.hpp"

#include <bit>
#include <cmath>
#include <functional>
#include <string_view>

namespace tessera::dataframe::detail {
namespace {

constexpr std::uint64_t null_hash = 0x6a09e667f3bcc909ull;

std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t cell_hash(const Column& c, std::size_t i) noexcept {
  if (missing(c, i)) return null_hash;
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return static_cast<std::uint64_t>(c.i64[i]);
    case DType::float64: return std::bit_cast<std::uint64_t>(c.f64[i] == 0 ? 0.0 : c.f64[i]);
    case DType::boolean: return c.b8[i];
    case DType::string:
    case DType::category: return std::hash<std::string_view>{}(c.text(i));  // a category as its string
  }
  return 0;
}

}  // namespace

std::vector<const Column*> key_columns(const Table& t, const std::vector<std::string>& names) {
  std::vector<const Column*> out;
  out.reserve(names.size());
  for (const auto& n : names) out.push_back(&t.column(n));
  return out;
}

std::vector<std::uint64_t> row_hashes(const std::vector<const Column*>& cols, std::size_t rows) {
  std::vector<std::uint64_t> h(rows, 0);
  for (const Column* c : cols) {
    for (std::size_t i = 0; i < rows; ++i) h[i] = mix(h[i] ^ cell_hash(*c, i));
  }
  return h;
}

std::uint64_t row_hash(const std::vector<const Column*>& cols, std::size_t i) noexcept {
  std::uint64_t h = 0;
  for (const Column* c : cols) h = mix(h ^ cell_hash(*c, i));
  return h;
}

bool keys_equal(const std::vector<const Column*>& a, std::size_t i, const std::vector<const Column*>& b,
                std::size_t j) noexcept {
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Column& x = *a[k];
    const Column& y = *b[k];
    const bool mx = missing(x, i), my = missing(y, j);
    if (mx || my) {
      if (mx != my) return false;
      continue;
    }
    switch (x.dtype) {
      case DType::int64:
      case DType::datetime:
      case DType::timedelta:
        if (x.i64[i] != y.i64[j]) return false;
        break;
      case DType::float64:
        if (x.f64[i] != y.f64[j]) return false;
        break;
      case DType::boolean:
        if (x.b8[i] != y.b8[j]) return false;
        break;
      case DType::string:
      case DType::category:
        if (x.text(i) != y.text(j)) return false;
        break;
    }
  }
  return true;
}

}  // namespace tessera::dataframe::detail
