// The range shuffle's sorted combine over the pieces: order by bucket sort, gather by column.
#include "collections/dataframe/piece_sort.hpp"
#include "collections/dataframe/radix_sort.hpp"

#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <stdexcept>

namespace tessera::dataframe::detail {
namespace {

bool numeric_key(DType t) noexcept {
  return t == DType::int64 || t == DType::datetime || t == DType::timedelta || t == DType::float64;
}

/// Same columns and dtypes, none categorical (each piece has its own categories: they are
/// united by concatenation, the other path).
bool same_layout(const Table& a, const Table& b) {
  if (a.column_names() != b.column_names() || a.index_columns().size() != b.index_columns().size()) return false;
  for (std::size_t c = 0; c < a.num_columns(); ++c) {
    if (a.column(c).dtype != b.column(c).dtype || a.column(c).dtype == DType::category) return false;
  }
  for (std::size_t c = 0; c < a.index_columns().size(); ++c) {
    const auto t = a.index_columns()[c].dtype;
    if (t != b.index_columns()[c].dtype || t == DType::category) return false;
  }
  return true;
}

/// Bits of a row id that hold the row within its piece (the piece is in the bits above).
unsigned row_bits(const std::vector<Table>& pieces) {
  std::size_t most = 1;
  for (const auto& t : pieces) most = std::max(most, t.num_rows());
  return static_cast<unsigned>(std::bit_width(most - 1));
}

/// The cells `ids` of the piece columns `from` (id: piece << bits | row), in that order.
Column gather(const std::vector<const Column*>& from, std::span<const std::uint32_t> ids, unsigned bits) {
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  const auto at = [&](std::uint32_t id) { return std::pair{from[id >> bits], static_cast<std::size_t>(id & mask)}; };
  Column out(from[0]->dtype);
  const std::size_t n = ids.size();
  switch (out.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta:
      out.i64.resize(n);
      for (std::size_t k = 0; k < n; ++k) out.i64[k] = at(ids[k]).first->i64[at(ids[k]).second];
      break;
    case DType::float64:
      out.f64.resize(n);
      for (std::size_t k = 0; k < n; ++k) out.f64[k] = at(ids[k]).first->f64[at(ids[k]).second];
      break;
    case DType::boolean:
      out.b8.resize(n);
      for (std::size_t k = 0; k < n; ++k) out.b8[k] = at(ids[k]).first->b8[at(ids[k]).second];
      break;
    case DType::string:
      out.offsets.reserve(n + 1);
      for (const auto id : ids) out.push_str(at(id).first->str(at(id).second));
      break;
    case DType::category:  // piecewise_sortable refuses them (same_layout)
      throw std::logic_error("sort_pieces: a categorical column takes the concatenating path");
  }
  if (std::any_of(from.begin(), from.end(), [](const Column* c) { return !c->valid.empty(); })) {
    for (std::size_t k = 0; k < n; ++k) {
      const auto [c, i] = at(ids[k]);
      if (c->is_null(i)) out.set_null(k);
    }
  }
  return out;
}

/// Calls f(key, id) for the pieces' rows whose sort cell is not missing, in input order.
template <class T, class F>
void each_key(const std::vector<const Column*>& keys, unsigned bits, bool ascending, const F& f) {
  for (std::size_t p = 0; p < keys.size(); ++p) {
    const Column& c = *keys[p];
    const auto& v = [&]() -> const std::vector<T>& {
      if constexpr (std::is_same_v<T, double>) return c.f64;
      else return c.i64;
    }();
    const auto base = static_cast<std::uint32_t>(p << bits);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (missing(c, i)) continue;
      const std::uint64_t k = ordered_key(v[i]);
      f(ascending ? k : ~k, base | static_cast<std::uint32_t>(i));
    }
  }
}

/// The row ids in sort order: the non-missing rows by key, then the missing ones.
template <class T>
std::vector<std::uint32_t> piece_order(const std::vector<const Column*>& keys, unsigned bits, bool ascending,
                                       MemoryCharge& charge) {
  std::vector<std::uint32_t> ids, nulls;
  {
    std::vector<std::uint64_t> sorted_keys;
    const auto each = [&](const auto& f) { each_key<T>(keys, bits, ascending, f); };
    std::size_t n = 0;
    for (std::size_t p = 0; p < keys.size(); ++p) {
      for (std::size_t i = 0; i < keys[p]->size(); ++i) {
        if (missing(*keys[p], i)) nulls.push_back(static_cast<std::uint32_t>(p << bits | i));
        else ++n;
      }
    }
    bucket_sort(n, each, [&](std::uint64_t bytes) { charge.add(bytes); }, sorted_keys, ids);
  }
  ids.insert(ids.end(), nulls.begin(), nulls.end());
  return ids;
}

}  // namespace

bool piecewise_sortable(const std::vector<Table>& pieces, const SortPlan& p) {
  if (pieces.empty() || p.columns.size() != 1 || !pieces[0].has_column(p.columns[0])) return false;
  if (!numeric_key(pieces[0].column(p.columns[0]).dtype)) return false;
  for (const auto& t : pieces) {
    if (!same_layout(pieces[0], t)) return false;
  }
  return std::bit_width(pieces.size() - 1) + row_bits(pieces) <= 32;
}

Table sort_pieces(std::vector<Table>& pieces, const SortPlan& p) {
  std::uint64_t n = 0, bytes = 0;
  for (const auto& t : pieces) {
    n += t.num_rows();
    bytes += t.nbytes();
  }
  // Beyond the pieces and the output (charged by the caller): 8 B keys and 4 B ids a row while
  // sorting, when the output is not yet allocated; the 4 B ids while the output replaces the
  // pieces column by column (pieces left + output so far stay within pieces + output).
  MemoryCharge charge = charge_working_memory(std::max(4 * n, 12 * n > bytes ? 12 * n - bytes : 0));
  const unsigned bits = row_bits(pieces);
  const std::size_t key = pieces[0].column_index(p.columns[0]);
  std::vector<const Column*> from;
  for (const auto& t : pieces) from.push_back(&t.column(key));
  const bool asc = p.ascending[0] != 0;
  const std::vector<std::uint32_t> ids = from[0]->dtype == DType::float64 ? piece_order<double>(from, bits, asc, charge)
                                                                          : piece_order<std::int64_t>(from, bits, asc, charge);
  Table out;
  for (std::size_t c = 0; c < pieces[0].num_columns(); ++c) {
    for (std::size_t t = 0; t < pieces.size(); ++t) from[t] = &pieces[t].column(c);
    Column col = gather(from, ids, bits);
    for (auto& t : pieces) t.column(c) = Column{};
    out.add_column(pieces[0].column_names()[c], std::move(col));
  }
  std::vector<Column> index;
  for (std::size_t c = 0; c < pieces[0].index_columns().size(); ++c) {
    for (std::size_t t = 0; t < pieces.size(); ++t) from[t] = &pieces[t].index_columns()[c];
    index.push_back(gather(from, ids, bits));
  }
  if (!index.empty()) out.set_index(pieces[0].index_names(), std::move(index));
  return out;
}

}  // namespace tessera::dataframe::detail
