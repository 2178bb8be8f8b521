// DataFrame::join: pandas' join on the index, as merge on the index labels. Each side's index
// becomes a key column, merge joins on it, and the key goes back into the index.
#include <tessera/collections/dataframe/dataframe.hpp>

#include <algorithm>

namespace tessera::dataframe {
namespace detail {
namespace {

const std::string join_key = "__tessera_join_index";

/// The index of `t` as the first column `join_key`, the columns after it; no index.
Table index_to_key(const Table& t) {
  Table out;
  out.add_column(join_key, t.index_columns().at(0));
  for (std::size_t c = 0; c < t.num_columns(); ++c) out.add_column(t.column_names()[c], t.column(c));
  return out;
}

/// The column `join_key` of `t` as its index, named `name`; the other columns as they are.
Table key_to_index(const Table& t, const std::string& name) {
  Table out;
  for (std::size_t c = 0; c < t.num_columns(); ++c) {
    if (t.column_names()[c] != join_key) out.add_column(t.column_names()[c], t.column(c));
  }
  out.set_index({name}, {t.column(join_key)});
  return out;
}

/// `s` with its index as the first column `join_key`. Throws: GraphError without one index.
Schema keyed_schema(const Schema& s, const char* side) {
  if (s.index.size() != 1) {
    TESSERA_THROW(GraphError, "join: the ", side, " frame has ", s.index.size(),
                  " index columns; join matches one index column on each side (set_index first)");
  }
  Schema out;
  out.columns.push_back({join_key, s.index[0].dtype});
  out.columns.insert(out.columns.end(), s.columns.begin(), s.columns.end());
  return out;
}

DataFrame keyed(const DataFrame& df, const char* side) {
  Schema schema = keyed_schema(df.schema(), side);
  auto fn = delayed(&index_to_key, {.name = "join-index-to-key", .pure = true});
  std::vector<Delayed<Table>> parts;
  parts.reserve(df.npartitions());
  for (const auto& p : df.partitions()) parts.push_back(fn(p));
  return DataFrame(std::move(schema), std::move(parts));
}

}  // namespace
}  // namespace detail

DataFrame DataFrame::join(const DataFrame& other, const JoinOptions& options) const {
  const Schema& l = m_schema;
  const Schema& r = other.schema();
  (void)detail::keyed_schema(l, "left");
  (void)detail::keyed_schema(r, "right");
  if (l.index[0].dtype != r.index[0].dtype) {
    TESSERA_THROW(TypeError, "join: the left index '", l.index[0].name, "' is ", dtype_name(l.index[0].dtype),
                  ", the right index '", r.index[0].name, "' is ", dtype_name(r.index[0].dtype));
  }
  if (options.lsuffix.empty() && options.rsuffix.empty()) {
    std::string shared;
    for (const auto& f : l.columns) {
      if (r.contains(f.name)) shared += (shared.empty() ? "'" : ", '") + f.name + "'";
    }
    if (!shared.empty()) {
      TESSERA_THROW(ColumnError, "join: columns overlap but no suffix specified: [", shared,
                    "] (give JoinOptions{.lsuffix, .rsuffix})");
    }
  }
  const DataFrame joined = detail::keyed(*this, "left").merge(
      detail::keyed(other, "right"),
      {.on = {detail::join_key}, .how = options.how, .suffixes = {options.lsuffix, options.rsuffix}});
  Schema out;
  out.index.push_back({l.index[0].name, l.index[0].dtype});
  for (const auto& f : joined.schema().columns) {
    if (f.name != detail::join_key) out.columns.push_back(f);
  }
  auto fn = delayed(&detail::key_to_index, {.name = "join-key-to-index", .pure = true});
  std::vector<Delayed<Table>> parts;
  parts.reserve(joined.npartitions());
  for (const auto& p : joined.partitions()) parts.push_back(fn(p, l.index[0].name));
  return DataFrame(std::move(out), std::move(parts));
}

}  // namespace tessera::dataframe
