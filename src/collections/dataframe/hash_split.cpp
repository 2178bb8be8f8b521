// Splitting Tables for the shuffle: by a destination per row, and by hash of key columns.
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/row_key.hpp"

#include <tessera/storage/working_memory.hpp>


namespace tessera::dataframe::detail {

std::vector<Table> split_by(const Table& t, const std::vector<std::uint32_t>& dest, std::size_t n_out,
                            std::string_view skip) {
  std::vector<std::size_t> counts(n_out, 0);
  for (const auto d : dest) ++counts[d];
  std::vector<std::vector<std::uint32_t>> rows(n_out);
  for (std::size_t j = 0; j < n_out; ++j) rows[j].reserve(counts[j]);
  for (std::size_t i = 0; i < dest.size(); ++i) rows[dest[i]].push_back(static_cast<std::uint32_t>(i));
  std::vector<Table> out(n_out);
  for (std::size_t j = 0; j < n_out; ++j) {
    std::vector<Column> index;
    for (const auto& c : t.index_columns()) index.push_back(c.take(rows[j]));
    out[j].set_index(t.index_names(), std::move(index));
    for (std::size_t c = 0; c < t.num_columns(); ++c) {
      if (t.column_names()[c] != skip) out[j].add_column(t.column_names()[c], t.column(c).take(rows[j]));
    }
  }
  return out;
}

std::vector<Table> HashSplit::operator()(const Table& t, std::size_t n_out) const {
  // The rows' hashes, destinations and row lists (~16 B a row), besides the pieces the
  // transfer task charged: counted before they are allocated (storage/working_memory.hpp).
  MemoryCharge charge = charge_working_memory(16 * std::uint64_t{t.num_rows()});
  const auto hashes = row_hashes(key_columns(t, keys), t.num_rows());
  std::vector<std::uint32_t> dest(hashes.size());
  // The join's index uses the low bits of the same hash: split on the high ones.
  for (std::size_t i = 0; i < dest.size(); ++i) dest[i] = static_cast<std::uint32_t>((hashes[i] >> 32) % n_out);
  return split_by(t, dest, n_out);
}

Table ConcatTables::operator()(std::vector<Table>&& pieces) const {
  Table out = Table::concat(pieces);
  pieces.clear();
  return out;
}

}  // namespace tessera::dataframe::detail
