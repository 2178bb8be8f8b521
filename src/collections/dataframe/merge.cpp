// DataFrame::merge: the output schema and the graph. Both sides are hash-shuffled on their key
// columns into the same number of partitions and joined partition by partition; a side of one
// partition is broadcast instead (joined with every partition of the other side, which is not
// shuffled) when the join type allows it.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/scheduling/shuffle.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/join_plan.hpp"

#include <algorithm>

namespace tessera::dataframe {
namespace {

using detail::JoinOutput;
using detail::JoinPlan;

const Field& key_field(const Schema& s, const std::string& name, const char* which) {
  if (!s.contains(name)) {
    std::string cols;
    for (const auto& f : s.columns) cols += (cols.empty() ? "'" : ", '") + f.name + "'";
    TESSERA_THROW(ColumnError, "merge: ", which, " key column '", name, "' is not a column of the ", which,
                  " DataFrame; its columns are [", cols, "]");
  }
  return s.columns[s.find(name)];
}

void choose_keys(const Schema& l, const Schema& r, const MergeOptions& o, JoinPlan& p) {
  if (!o.on.empty() && (!o.left_on.empty() || !o.right_on.empty())) {
    TESSERA_THROW(GraphError, "merge: give either 'on' or 'left_on' and 'right_on', not both");
  }
  p.left_keys = o.on.empty() ? o.left_on : o.on;
  p.right_keys = o.on.empty() ? o.right_on : o.on;
  if (p.left_keys.empty() && p.right_keys.empty()) {  // pandas: the columns both sides have
    for (const auto& f : l.columns) {
      if (r.contains(f.name)) p.left_keys.push_back(f.name);
    }
    p.right_keys = p.left_keys;
    if (p.left_keys.empty()) TESSERA_THROW(GraphError, "merge: no 'on' given and no column common to both sides");
  }
  if (p.left_keys.size() != p.right_keys.size()) {
    TESSERA_THROW(GraphError, "merge: left_on has ", p.left_keys.size(), " columns but right_on has ",
                  p.right_keys.size());
  }
  for (std::size_t k = 0; k < p.left_keys.size(); ++k) {
    const Field& a = key_field(l, p.left_keys[k], "left");
    const Field& b = key_field(r, p.right_keys[k], "right");
    if (a.dtype != b.dtype && !(is_text(a.dtype) && is_text(b.dtype))) {  // category: by string
      TESSERA_THROW(TypeError, "merge: key columns of different dtypes: left '", a.name, "' is ",
                    dtype_name(a.dtype), ", right '", b.name, "' is ", dtype_name(b.dtype));
    }
  }
}

/// The key position of `name` among keys whose other side has the same name, or -1.
std::ptrdiff_t shared_position(const JoinPlan& p, const std::string& name, bool left) {
  const auto& mine = left ? p.left_keys : p.right_keys;
  for (std::size_t k = 0; k < mine.size(); ++k) {
    if (mine[k] == name && p.left_keys[k] == p.right_keys[k]) return static_cast<std::ptrdiff_t>(k);
  }
  return -1;
}

/// pandas' columns: the left ones, then the right ones less the keys both sides name alike;
/// other names both sides have get the suffixes.
Schema plan_outputs(const Schema& l, const Schema& r, const MergeOptions& o, JoinPlan& p) {
  Schema out;
  for (const auto& f : l.columns) {
    JoinOutput j{JoinOutput::left, f.name, {}, f.name};
    if (shared_position(p, f.name, true) >= 0) {
      j.side = JoinOutput::shared_key;
      j.right_column = f.name;
    } else if (r.contains(f.name)) {
      j.name = f.name + o.suffixes.first;
    }
    p.outputs.push_back(j);
    out.columns.push_back({j.name, f.dtype});
  }
  for (const auto& f : r.columns) {
    if (shared_position(p, f.name, false) >= 0) continue;
    JoinOutput j{JoinOutput::right, {}, f.name, l.contains(f.name) ? f.name + o.suffixes.second : f.name};
    p.outputs.push_back(j);
    out.columns.push_back({j.name, f.dtype});
  }
  for (const auto& f : out.columns) {
    if (std::count_if(out.columns.begin(), out.columns.end(), [&](const Field& g) { return g.name == f.name; }) > 1) {
      TESSERA_THROW(ColumnError, "merge: the suffixes give two columns named '", f.name, "'");
    }
  }
  return out;
}

std::vector<Delayed<Table>> broadcast(const std::vector<Delayed<Table>>& parts, const Delayed<Table>& one,
                                      const JoinPlan& p, bool one_is_right) {
  auto join = delayed(detail::join_tables, {.name = "merge-broadcast", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(parts.size());
  for (const auto& x : parts) out.push_back(one_is_right ? join(x, one, p) : join(one, x, p));
  return out;
}

std::vector<Delayed<Table>> shuffled(const DataFrame& l, const DataFrame& r, const JoinPlan& p,
                                     std::size_t npartitions) {
  const std::size_t n = npartitions ? npartitions : std::max(l.npartitions(), r.npartitions());
  auto ls = shuffle(l.partitions(), n, detail::HashSplit{p.left_keys}, detail::ConcatTables{},
                    {.name = "merge-left"});
  auto rs = shuffle(r.partitions(), n, detail::HashSplit{p.right_keys}, detail::ConcatTables{},
                    {.name = "merge-right"});
  auto join = delayed(detail::join_tables, {.name = "merge-join", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(n);
  for (std::size_t j = 0; j < n; ++j) out.push_back(join(ls[j], rs[j], p));
  return out;
}

/// `d` with its category key columns as strings (a merge compares keys by string, as pandas
/// does when the sides' categories differ; the keys come out as object columns).
DataFrame decoded_keys(const DataFrame& d, const std::vector<std::string>& keys) {
  Schema s = d.schema();
  bool any = false;
  for (const auto& k : keys) {
    Field& f = s.columns[s.find(k)];
    any = any || f.dtype == DType::category;
    if (f.dtype == DType::category) f.dtype = DType::string;
  }
  if (!any) return d;
  auto decode = delayed(detail::decode_categoricals, {.name = "merge-decode-keys", .pure = true});
  std::vector<Delayed<Table>> parts;
  parts.reserve(d.npartitions());
  for (const auto& p : d.partitions()) parts.push_back(decode(p, keys));
  return DataFrame(std::move(s), std::move(parts));
}

/// The merge of `l` and `r` (no category keys).
DataFrame merge_frames(const DataFrame& l, const DataFrame& right, const MergeOptions& options) {
  const std::string& how = options.how;
  JoinPlan plan;
  plan.how = how;
  choose_keys(l.schema(), right.schema(), options, plan);
  Schema out = plan_outputs(l.schema(), right.schema(), options, plan);
  // A broadcast side must not contribute unmatched rows once per partition of the other side.
  if (right.npartitions() == 1 && (how == "inner" || how == "left")) {
    return DataFrame(std::move(out), broadcast(l.partitions(), right.partitions()[0], plan, true));
  }
  if (l.npartitions() == 1 && (how == "inner" || how == "right")) {
    return DataFrame(std::move(out), broadcast(right.partitions(), l.partitions()[0], plan, false));
  }
  return DataFrame(std::move(out), shuffled(l, right, plan, options.npartitions));
}

}  // namespace

DataFrame DataFrame::merge(const DataFrame& right, const MergeOptions& options) const {
  const std::string& how = options.how;
  if (how != "inner" && how != "left" && how != "right" && how != "outer") {
    TESSERA_THROW(GraphError, "merge: how='", how, "'; expected 'inner', 'left', 'right' or 'outer'");
  }
  if (npartitions() == 0 || right.npartitions() == 0) TESSERA_THROW(GraphError, "merge: a side has no partitions");
  JoinPlan keys;
  choose_keys(m_schema, right.schema(), options, keys);
  return merge_frames(decoded_keys(*this, keys.left_keys), decoded_keys(right, keys.right_keys), options);
}

}  // namespace tessera::dataframe
