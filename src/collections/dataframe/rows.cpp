// Row-set operations of DataFrame and Series: dropna, drop_duplicates (through the shuffle),
// nlargest/nsmallest (per-partition top n, then a combine), repartition, concat, from_delayed,
// Series.dropna/unique/nunique.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/scheduling/shuffle.hpp>

#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/row_key.hpp"
#include "collections/dataframe/sort_key.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace tessera::dataframe {
namespace detail {
namespace {

std::vector<std::string> all_columns_if_empty(const Schema& s, const std::vector<std::string>& subset) {
  if (subset.empty()) return s.column_names();
  for (const auto& c : subset) (void)s.find(c);
  return subset;
}

Table dropna_part(const Table& t, const std::vector<std::string>& subset) {
  const auto cols = key_columns(t, subset);
  std::vector<std::uint32_t> rows;
  rows.reserve(t.num_rows());
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    bool any_missing = false;
    for (const Column* c : cols) any_missing = any_missing || missing(*c, i);
    if (!any_missing) rows.push_back(static_cast<std::uint32_t>(i));
  }
  return rows.size() == t.num_rows() ? t : t.take(rows);
}

/// The first row of every distinct key over `subset`, in row order (nulls equal nulls).
Table dedup_part(const Table& t, const std::vector<std::string>& subset) {
  const auto cols = key_columns(t, subset);
  const auto hashes = row_hashes(cols, t.num_rows());
  std::unordered_multimap<std::uint64_t, std::uint32_t> seen;
  seen.reserve(t.num_rows());
  std::vector<std::uint32_t> rows;
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    bool dup = false;
    for (auto [it, end] = seen.equal_range(hashes[i]); it != end && !dup; ++it) {
      dup = keys_equal(cols, i, cols, it->second);
    }
    if (dup) continue;
    seen.emplace(hashes[i], static_cast<std::uint32_t>(i));
    rows.push_back(static_cast<std::uint32_t>(i));
  }
  return rows.size() == t.num_rows() ? t : t.take(rows);
}

/// The n rows with the largest (ascending = 0) or smallest values of `column` among `parts`
/// (in frame order: ties keep it), nulls and NaN never chosen.
Table top_rows(const std::vector<Table>& parts, const std::string& column, const std::int64_t& n,
               const std::uint8_t& ascending) {
  const Table all = parts.size() == 1 ? parts[0] : Table::concat(parts);
  const SortPlan plan{{column}, {ascending}};
  std::vector<std::uint32_t> order = sort_order(all, plan);
  const Column& c = all.column(column);
  std::vector<std::uint32_t> keep;
  for (auto r : order) {
    if (static_cast<std::int64_t>(keep.size()) >= n) break;
    if (!missing(c, r)) keep.push_back(r);
  }
  return all.take(keep);
}

Table concat_parts(const std::vector<Table>& parts) { return Table::concat(parts); }

/// Rows [begin, end) of a partition of `rows` rows cut into `pieces` equal ranges: piece k.
Table row_range(const Table& t, const std::uint32_t& k, const std::uint32_t& pieces) {
  const std::size_t n = t.num_rows();
  return t.slice(n * k / pieces, n * (k + 1) / pieces);
}

Table checked_part(const Table& t, const Schema& meta, const std::uint32_t& index) {
  const Schema got = schema_of(t);
  if (got.columns != meta.columns) {
    std::string want, have;
    for (const auto& f : meta.columns) want += (want.empty() ? "" : ", ") + f.name + ":" + dtype_name(f.dtype);
    for (const auto& f : got.columns) have += (have.empty() ? "" : ", ") + f.name + ":" + dtype_name(f.dtype);
    TESSERA_THROW(TypeError, "from_delayed: partition ", index, " has columns [", have, "], the meta [", want, "]");
  }
  return t;
}

/// The index of a groupby result as the column `name`, without an index.
Table index_as_column(const Table& t, const std::string& name) {
  Table out;
  out.add_column(name, t.index_columns().at(0));
  return out;
}

}  // namespace
}  // namespace detail

DataFrame DataFrame::dropna(const std::vector<std::string>& subset) const {
  const auto cols = detail::all_columns_if_empty(m_schema, subset);
  auto fn = delayed(detail::dropna_part, {.name = "dropna", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(m_parts.size());
  for (const auto& p : m_parts) out.push_back(fn(p, cols));
  return keeping_order(DataFrame(m_schema, std::move(out)));
}

DataFrame DataFrame::drop_duplicates(const std::vector<std::string>& subset) const {
  const auto cols = detail::all_columns_if_empty(m_schema, subset);
  auto fn = delayed(detail::dedup_part, {.name = "drop-duplicates", .pure = true});
  if (m_parts.size() == 1) return keeping_order(DataFrame(m_schema, {fn(m_parts[0], cols)}));
  auto shuffled = shuffle(m_parts, m_parts.size(), detail::HashSplit{cols}, detail::ConcatTables{},
                          {.name = "drop-duplicates"});
  std::vector<Delayed<Table>> out;
  out.reserve(shuffled.size());
  for (const auto& p : shuffled) out.push_back(fn(p, cols));
  return DataFrame(m_schema, std::move(out));
}

DataFrame DataFrame::top(std::int64_t n, const std::string& column, bool largest) const {
  if (n < 0) TESSERA_THROW(GraphError, largest ? "nlargest" : "nsmallest", ": n is ", n, ", must be >= 0");
  const DType t = m_schema.dtype(column);
  if (is_text(t) || t == DType::boolean) {
    TESSERA_THROW(TypeError, largest ? "nlargest" : "nsmallest", ": column '", column, "' is ", dtype_name(t),
                  " (int64, float64, datetime and timedelta columns have an order of values)");
  }
  const std::uint8_t ascending = largest ? 0 : 1;
  auto part = delayed(detail::top_rows, {.name = largest ? "nlargest-partial" : "nsmallest-partial", .pure = true});
  auto all = delayed(detail::top_rows, {.name = largest ? "nlargest" : "nsmallest", .pure = true});
  std::vector<Delayed<Table>> partial;
  partial.reserve(m_parts.size());
  for (const auto& p : m_parts) partial.push_back(part(std::vector<Delayed<Table>>{p}, column, n, ascending));
  return DataFrame(m_schema, {all(partial, column, n, ascending)});
}

DataFrame DataFrame::nlargest(std::int64_t n, const std::string& column) const { return top(n, column, true); }
DataFrame DataFrame::nsmallest(std::int64_t n, const std::string& column) const { return top(n, column, false); }

DataFrame DataFrame::repartition(std::size_t npartitions) const {
  if (npartitions == 0) TESSERA_THROW(GraphError, "repartition: npartitions must be >= 1");
  const std::size_t n = m_parts.size();
  std::vector<Delayed<Table>> out;
  out.reserve(npartitions);
  if (npartitions <= n) {  // adjacent partitions together: output j holds inputs [n*j/k, n*(j+1)/k)
    auto cat = delayed(detail::concat_parts, {.name = "repartition", .pure = true});
    for (std::size_t j = 0; j < npartitions; ++j) {
      out.push_back(cat(std::vector<Delayed<Table>>(m_parts.begin() + static_cast<std::ptrdiff_t>(n * j / npartitions),
                                                    m_parts.begin() + static_cast<std::ptrdiff_t>(n * (j + 1) / npartitions))));
    }
  } else {  // each input cut into equal row ranges: input i gives k*(i+1)/n - k*i/n outputs
    auto cut = delayed(detail::row_range, {.name = "repartition-split", .pure = true});
    for (std::size_t i = 0; i < n; ++i) {
      const auto pieces = static_cast<std::uint32_t>(npartitions * (i + 1) / n - npartitions * i / n);
      for (std::uint32_t k = 0; k < pieces; ++k) out.push_back(cut(m_parts[i], k, pieces));
    }
  }
  return with_parts(std::move(out));
}

DataFrame concat(const std::vector<DataFrame>& frames) {
  if (frames.empty()) TESSERA_THROW(GraphError, "concat: no DataFrames");
  const Schema& first = frames[0].schema();
  std::vector<Delayed<Table>> parts;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const Schema& s = frames[f].schema();
    if (s.columns.size() != first.columns.size() || s.index != first.index) {
      TESSERA_THROW(TypeError, "concat: DataFrame ", f, " has ", s.columns.size(), " columns and ", s.index.size(),
                    " index columns, DataFrame 0 has ", first.columns.size(), " and ", first.index.size());
    }
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      if (s.columns[c] != first.columns[c]) {
        TESSERA_THROW(TypeError, "concat: column ", c, " of DataFrame ", f, " is '", s.columns[c].name, "' (",
                      dtype_name(s.columns[c].dtype), "), of DataFrame 0 '", first.columns[c].name, "' (",
                      dtype_name(first.columns[c].dtype), ")");
      }
    }
    parts.insert(parts.end(), frames[f].partitions().begin(), frames[f].partitions().end());
  }
  return DataFrame(first, std::move(parts));
}

DataFrame from_delayed(const std::vector<Delayed<Table>>& parts, const Schema& meta) {
  if (parts.empty()) TESSERA_THROW(GraphError, "from_delayed: no partitions");
  auto check = delayed(detail::checked_part, {.name = "from-delayed", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) out.push_back(check(parts[i], meta, static_cast<std::uint32_t>(i)));
  return DataFrame(meta, std::move(out));
}

Series Series::dropna() const { return to_frame().dropna()[m_name]; }

DataFrame Series::unique() const {
  const DataFrame sizes = to_frame().groupby(m_name).size();
  auto fn = delayed(detail::index_as_column, {.name = "unique", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(sizes.npartitions());
  for (const auto& p : sizes.partitions()) out.push_back(fn(p, m_name));
  Schema s;
  s.columns.push_back({m_name, dtype() == DType::category ? DType::string : dtype()});  // groupby's keys
  return DataFrame(std::move(s), std::move(out));
}

Delayed<std::int64_t> Series::nunique() const { return unique().length(); }

}  // namespace tessera::dataframe
