// The category dtype: categories built from strings, decoding, the union of categories when
// columns with different ones are appended (codes remapped), cat.codes and fillna.
#include "collections/dataframe/categorical.hpp"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace tessera::dataframe {

std::int64_t Categories::code(std::string_view s) const noexcept {
  const auto it = std::lower_bound(values.begin(), values.end(), s);
  return it != values.end() && *it == s ? static_cast<std::int64_t>(it - values.begin()) : -1;
}

std::shared_ptr<const Categories> no_categories() {
  static const auto empty = std::make_shared<const Categories>();
  return empty;
}

namespace {

std::vector<std::string> sorted_union(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

/// code in `from` -> code in `to` (to holds every string of from).
std::vector<std::int64_t> code_map(const Categories& from, const Categories& to) {
  std::vector<std::int64_t> map(from.values.size());
  for (std::size_t k = 0; k < map.size(); ++k) map[k] = to.code(from.values[k]);
  return map;
}

void remap(std::vector<std::int64_t>& codes, std::size_t begin, const std::vector<std::int64_t>& map) {
  for (std::size_t i = begin; i < codes.size(); ++i) {
    const std::int64_t k = codes[i];
    codes[i] = k >= 0 && static_cast<std::size_t>(k) < map.size() ? map[static_cast<std::size_t>(k)] : -1;
  }
}

}  // namespace

Column to_categorical(const Column& s) {
  if (s.dtype != DType::string) {
    TESSERA_THROW(TypeError, "a category column is built from strings, not ", dtype_name(s.dtype));
  }
  const std::size_t n = s.size();
  std::unordered_map<std::string_view, std::int64_t> first;  // value -> provisional code
  std::vector<std::string_view> seen;
  Column out(DType::category);
  out.i64.resize(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (s.is_null(i)) continue;
    auto [it, fresh] = first.try_emplace(s.str(i), static_cast<std::int64_t>(seen.size()));
    if (fresh) seen.push_back(s.str(i));
    out.i64[i] = it->second;
  }
  std::vector<std::uint32_t> order(seen.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<std::uint32_t>(k);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return seen[a] < seen[b]; });
  auto cats = std::make_shared<Categories>();
  std::vector<std::int64_t> map(seen.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    cats->values.emplace_back(seen[order[k]]);
    map[order[k]] = static_cast<std::int64_t>(k);
  }
  remap(out.i64, 0, map);
  out.categories = std::move(cats);
  out.valid = s.valid;
  return out;
}

Column categorical_to_strings(const Column& c) {
  Column out(DType::string);
  out.reserve(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.is_null(i)) out.push_null();
    else out.push_str(c.text(i));
  }
  return out;
}

Column categorical_codes(const Column& c) {
  Column out(DType::int64);
  out.i64 = c.i64;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.is_null(i)) out.i64[i] = -1;
  }
  return out;
}

void append_codes(Column& a, const Column& b) {
  const std::size_t n0 = a.i64.size();
  a.i64.insert(a.i64.end(), b.i64.begin(), b.i64.end());
  if (a.categories == b.categories || a.categories->values == b.categories->values) return;
  if (a.categories->values.empty()) {  // a has only nulls so far
    a.categories = b.categories;
    return;
  }
  auto merged = std::make_shared<Categories>();
  merged->values = sorted_union(a.categories->values, b.categories->values);
  const auto map_a = code_map(*a.categories, *merged);
  const auto map_b = code_map(*b.categories, *merged);
  std::vector<std::int64_t> tail(a.i64.begin() + static_cast<std::ptrdiff_t>(n0), a.i64.end());
  a.i64.resize(n0);
  remap(a.i64, 0, map_a);
  remap(tail, 0, map_b);
  a.i64.insert(a.i64.end(), tail.begin(), tail.end());
  a.categories = std::move(merged);
}

Column fill_categorical(const Column& a, std::string_view value) {
  Column out = a;
  if (a.categories->code(value) < 0) {
    auto merged = std::make_shared<Categories>();
    merged->values = sorted_union(a.categories->values, {std::string(value)});
    remap(out.i64, 0, code_map(*a.categories, *merged));
    out.categories = std::move(merged);
  }
  const std::int64_t k = out.categories->code(value);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (a.is_null(i)) out.i64[i] = k;
  }
  out.valid.clear();
  return out;
}

namespace detail {

std::shared_ptr<const Categories> read_categories(const Column& c, std::vector<std::string> values) {
  if (std::adjacent_find(values.begin(), values.end(), std::greater_equal<>()) != values.end()) {
    TESSERA_THROW(SerializationError, "serialized category column: categories are not sorted and distinct");
  }
  const auto n = static_cast<std::int64_t>(values.size());
  for (std::size_t i = 0; i < c.i64.size(); ++i) {
    if (!c.is_null(i) && (c.i64[i] < 0 || c.i64[i] >= n)) {
      TESSERA_THROW(SerializationError, "serialized category column: row ", i, " has code ", c.i64[i], " of ", n,
                    " categories");
    }
  }
  auto cats = std::make_shared<Categories>();
  cats->values = std::move(values);
  return cats;
}

Table decode_categoricals(const Table& t, const std::vector<std::string>& columns) {
  Table out = t;
  for (const auto& name : columns) {
    const Column& c = t.column(name);
    if (c.dtype == DType::category) out.add_column(name, categorical_to_strings(c));
  }
  return out;
}

}  // namespace detail
}  // namespace tessera::dataframe
