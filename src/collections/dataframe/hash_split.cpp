// Splitting Tables for the shuffle: by a destination per row, and by hash of key columns.
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/row_key.hpp"

#include <tessera/scheduling/shuffle.hpp>

namespace tessera::dataframe::detail {

std::vector<Table> split_by(const Table& t, const std::vector<std::uint32_t>& dest, std::size_t n_out) {
  std::vector<std::vector<std::uint32_t>> rows(n_out);
  for (std::size_t i = 0; i < dest.size(); ++i) rows[dest[i]].push_back(static_cast<std::uint32_t>(i));
  std::vector<Table> out;
  out.reserve(n_out);
  for (const auto& r : rows) out.push_back(t.take(r));
  return out;
}

std::vector<Table> HashSplit::operator()(const Table& t, std::size_t n_out) const {
  const auto cols = key_columns(t, keys);
  std::vector<std::uint32_t> dest(t.num_rows());
  std::string buf;
  for (std::size_t i = 0; i < dest.size(); ++i) {
    row_key(cols, i, buf);
    dest[i] = static_cast<std::uint32_t>(shuffle_hash(std::string_view(buf)) % n_out);
  }
  return split_by(t, dest, n_out);
}

Table ConcatTables::operator()(std::vector<Table>&& pieces) const {
  Table out = Table::concat(pieces);
  pieces.clear();
  return out;
}

}  // namespace tessera::dataframe::detail
