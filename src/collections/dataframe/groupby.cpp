// groupby().agg() by tree reduction: each partition's groups as key rows plus one accumulator
// per (group, value column); combine tasks merge them in partition order; the final task
// sorts the groups by key and builds the requested columns. value_counts() is a groupby size.
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/groupby_state.hpp"
#include "collections/dataframe/tree.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace tessera::dataframe {
namespace detail {

void push_value(Column& out, const Column& c, std::size_t row) {
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: out.push_int(c.i64[row]); break;
    case DType::float64: out.push_float(c.f64[row]); break;
    case DType::boolean: out.push_bool(c.b8[row] != 0); break;
    case DType::string: out.push_str(c.str(row)); break;
    case DType::category: out.append(c.slice(row, row + 1)); break;  // the union of the categories
  }
}

namespace {

void encode_key(const std::vector<const Column*>& cols, std::size_t row, std::string& buf) {
  buf.clear();
  for (const Column* c : cols) {
    switch (c->dtype) {
      case DType::int64:
      case DType::datetime:
      case DType::timedelta: buf.append(reinterpret_cast<const char*>(&c->i64[row]), 8); break;
      case DType::float64: {
        double v = c->f64[row] == 0 ? 0.0 : c->f64[row];
        buf.append(reinterpret_cast<const char*>(&v), 8);
        break;
      }
      case DType::boolean: buf.push_back(static_cast<char>(c->b8[row])); break;
      case DType::string:
      case DType::category: {
        const auto s = c->text(row);
        const auto n = static_cast<std::uint32_t>(s.size());
        buf.append(reinterpret_cast<const char*>(&n), 4);
        buf.append(s);
        break;
      }
    }
  }
}


bool present(const Column& c, std::size_t i) {
  return !c.is_null(i) && !(c.dtype == DType::float64 && std::isnan(c.f64[i]));
}

void add_value(Acc& a, const Column& c, std::size_t i) {
  if (!present(c, i)) return;
  if (is_text(c.dtype)) {  // count only (check_fn refuses the rest)
    ++a.count;
    return;
  }
  const double x = c.as_double(i);
  ++a.count;
  a.fsum += x;
  const double delta = x - a.mean;
  a.mean += delta / static_cast<double>(a.count);
  a.m2 += delta * (x - a.mean);
  a.fmin = std::min(a.fmin, x);
  a.fmax = std::max(a.fmax, x);
  if (a.count == 1) a.ffirst = x;
  a.flast = x;
  if (c.dtype != DType::float64) {
    const std::int64_t v = c.dtype == DType::boolean ? c.b8[i] : c.i64[i];
    a.isum += v;
    a.imin = std::min(a.imin, v);
    a.imax = std::max(a.imax, v);
    if (a.count == 1) a.ifirst = v;
    a.ilast = v;
  }
}

void merge_acc(Acc& a, const Acc& b) {
  if (b.count == 0) return;
  if (a.count == 0) {
    a = b;
    return;
  }
  const double na = static_cast<double>(a.count), nb = static_cast<double>(b.count);
  const double n = na + nb;
  const double delta = b.mean - a.mean;
  a.mean += delta * nb / n;
  a.m2 += b.m2 + delta * delta * na * nb / n;
  a.count += b.count;
  a.fsum += b.fsum;
  a.isum += b.isum;
  a.fmin = std::min(a.fmin, b.fmin);
  a.fmax = std::max(a.fmax, b.fmax);
  a.imin = std::min(a.imin, b.imin);
  a.imax = std::max(a.imax, b.imax);
  a.flast = b.flast;
  a.ilast = b.ilast;
}

/// Adds groups to a state being built: map from encoded key to group number.
struct Builder {
  std::vector<Column> key_cols;
  std::vector<std::string> key_names;
  std::vector<std::int64_t> sizes;
  std::vector<Acc> accs;
  std::size_t nvals = 0;
  std::unordered_map<std::string, std::uint32_t> ids;
  std::string buf;

  std::uint32_t group(const std::vector<const Column*>& keys, std::size_t row) {
    encode_key(keys, row, buf);
    auto it = ids.find(buf);
    if (it != ids.end()) return it->second;
    const auto g = static_cast<std::uint32_t>(sizes.size());
    ids.emplace(buf, g);
    for (std::size_t k = 0; k < keys.size(); ++k) push_value(key_cols[k], *keys[k], row);
    sizes.push_back(0);
    accs.resize(accs.size() + nvals);
    return g;
  }

  GroupState finish() {
    GroupState s;
    s.keys.set_index({}, {});
    for (std::size_t k = 0; k < key_cols.size(); ++k) s.keys.add_column(key_names[k], std::move(key_cols[k]));
    s.sizes = std::move(sizes);
    s.accs = std::move(accs);
    return s;
  }
};

Builder builder_for(const std::vector<std::string>& names, const std::vector<const Column*>& keys, std::size_t nvals) {
  Builder b;
  b.key_names = names;
  for (const Column* c : keys) b.key_cols.emplace_back(c->dtype);
  b.nvals = nvals;
  return b;
}

/// One key column: a hash map on the key itself (string views into the partition, int64).
template <class K, class KeyOf>
GroupState group_single(const GroupPlan& plan, const Column& key, const std::vector<const Column*>& vals,
                        KeyOf key_of) {
  std::unordered_map<K, std::uint32_t> ids;
  ids.reserve(256);
  Column keys_out(key.dtype);
  std::vector<std::int64_t> sizes;
  std::vector<Acc> accs;
  const std::size_t nv = vals.size();
  const std::size_t n = key.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!present(key, i)) continue;
    auto [it, fresh] = ids.try_emplace(key_of(i), static_cast<std::uint32_t>(sizes.size()));
    if (fresh) {
      push_value(keys_out, key, i);
      sizes.push_back(0);
      accs.resize(accs.size() + nv);
    }
    const std::size_t g = it->second;
    ++sizes[g];
    Acc* a = accs.data() + g * nv;  // no values (size only): accs is empty
    for (std::size_t v = 0; v < nv; ++v) add_value(a[v], *vals[v], i);
  }
  GroupState s;
  s.keys.add_column(plan.keys[0], std::move(keys_out));
  s.sizes = std::move(sizes);
  s.accs = std::move(accs);
  return s;
}

}  // namespace

Field key_field(Field f) {
  if (f.dtype == DType::category) f.dtype = DType::string;
  return f;
}

GroupState partial_groupby(const Table& t, const GroupPlan& plan) {
  std::vector<const Column*> keys, vals;
  std::vector<Column> decoded;  // category keys as their strings (observed categories only)
  decoded.reserve(plan.keys.size());
  for (const auto& k : plan.keys) {
    keys.push_back(&t.column(k));
    if (keys.back()->dtype != DType::category) continue;
    decoded.push_back(categorical_to_strings(*keys.back()));
    keys.back() = &decoded.back();
  }
  for (const auto& v : plan.values) vals.push_back(&t.column(v));
  if (keys.size() == 1 && keys[0]->dtype == DType::string) {
    const Column& k = *keys[0];
    return group_single<std::string_view>(plan, k, vals, [&](std::size_t i) { return k.str(i); });
  }
  if (keys.size() == 1 && (keys[0]->dtype == DType::int64 || keys[0]->dtype == DType::datetime || keys[0]->dtype == DType::timedelta)) {
    const Column& k = *keys[0];
    return group_single<std::int64_t>(plan, k, vals, [&](std::size_t i) { return k.i64[i]; });
  }
  Builder b = builder_for(plan.keys, keys, vals.size());
  const std::size_t n = t.num_rows();
  for (std::size_t i = 0; i < n; ++i) {
    bool null_key = false;
    for (const Column* k : keys) null_key = null_key || !present(*k, i);
    if (null_key) continue;
    const std::uint32_t g = b.group(keys, i);
    ++b.sizes[g];
    Acc* a = b.accs.data() + static_cast<std::size_t>(g) * vals.size();
    for (std::size_t v = 0; v < vals.size(); ++v) add_value(a[v], *vals[v], i);
  }
  return b.finish();
}

namespace {

}  // namespace

GroupState merge_states(const std::vector<GroupState>& parts, std::size_t nvals) {
  const GroupState& first = parts.at(0);
  std::vector<const Column*> k0;
  for (std::size_t k = 0; k < first.keys.num_columns(); ++k) k0.push_back(&first.keys.column(k));
  Builder b = builder_for(first.keys.column_names(), k0, nvals);
  for (const auto& p : parts) {
    std::vector<const Column*> keys;
    for (std::size_t k = 0; k < p.keys.num_columns(); ++k) keys.push_back(&p.keys.column(k));
    for (std::size_t g = 0; g < p.sizes.size(); ++g) {
      const std::uint32_t to = b.group(keys, g);
      b.sizes[to] += p.sizes[g];
      for (std::size_t v = 0; v < nvals; ++v) merge_acc(b.accs[to * nvals + v], p.accs[g * nvals + v]);
    }
  }
  return b.finish();
}

namespace {

GroupState combine_groupby(const std::vector<GroupState>& parts, const GroupPlan& plan) {
  return merge_states(parts, plan.values.size());
}

int compare_rows(const Table& keys, std::uint32_t a, std::uint32_t b) {
  for (std::size_t k = 0; k < keys.num_columns(); ++k) {
    const Column& c = keys.column(k);
    int r = 0;
    switch (c.dtype) {
      case DType::int64:
      case DType::datetime:
      case DType::timedelta: r = (c.i64[a] > c.i64[b]) - (c.i64[a] < c.i64[b]); break;
      case DType::float64: r = (c.f64[a] > c.f64[b]) - (c.f64[a] < c.f64[b]); break;
      case DType::boolean: r = c.b8[a] - c.b8[b]; break;
      case DType::string:
      case DType::category: r = c.text(a).compare(c.text(b)); break;
    }
    if (r != 0) return r;
  }
  return 0;
}

Column output_column(const GroupState& s, const std::vector<std::uint32_t>& order, const GroupOutput& o,
                     DType vt, std::size_t nvals) {
  const std::string& fn = o.fn;
  const bool ints = vt != DType::float64;
  const DType out_t = output_dtype(fn, vt);
  Column c(out_t);
  for (auto g : order) {
    if (fn == "size") {
      c.push_int(s.sizes[g]);
      continue;
    }
    const Acc& a = s.accs[g * nvals + static_cast<std::size_t>(o.value)];
    if (fn == "count") {
      c.push_int(a.count);
      continue;
    }
    if (fn == "sum") {
      if (ints) c.push_int(a.isum);
      else c.push_float(a.fsum);
      continue;
    }
    const bool var_like = fn == "std" || fn == "var";
    if (a.count == 0 || (var_like && a.count < 2)) {
      c.push_null();
      continue;
    }
    if (fn == "mean" || var_like) {
      const double v = fn == "mean" ? a.mean : fn == "var" ? a.m2 / static_cast<double>(a.count - 1)
                                                           : std::sqrt(a.m2 / static_cast<double>(a.count - 1));
      if (out_t == DType::timedelta) c.push_int(static_cast<std::int64_t>(v));  // toward zero, as pandas
      else c.push_float(v);
    } else {
      const std::int64_t iv = fn == "min" ? a.imin : fn == "max" ? a.imax : fn == "first" ? a.ifirst : a.ilast;
      const double fv = fn == "min" ? a.fmin : fn == "max" ? a.fmax : fn == "first" ? a.ffirst : a.flast;
      if (out_t == DType::float64) c.push_float(fv);
      else if (out_t == DType::boolean) c.push_bool(iv != 0);
      else c.push_int(iv);
    }
  }
  return c;
}

}  // namespace

Table final_groupby(const std::vector<GroupState>& parts, const GroupPlan& plan,
                    const std::vector<DType>& value_types) {
  const GroupState s = merge_states(parts, plan.values.size());
  std::vector<std::uint32_t> order(s.sizes.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return compare_rows(s.keys, a, b) < 0; });
  Table out;
  std::vector<Column> index;
  for (std::size_t k = 0; k < s.keys.num_columns(); ++k) index.push_back(s.keys.column(k).take(order));
  out.set_index(plan.keys, std::move(index));
  for (const auto& o : plan.outputs) {
    const DType vt = o.value < 0 ? DType::int64 : value_types[static_cast<std::size_t>(o.value)];
    out.add_column(o.name, output_column(s, order, o, vt, plan.values.size()));
  }
  return out;
}

namespace {

Table sort_counts(const Table& t) {
  const Column& c = t.column("count");
  std::vector<std::uint32_t> order(t.num_rows());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return c.i64[a] > c.i64[b]; });
  return t.take(order);
}

}  // namespace

/// The dtype of `fn` of a value column of dtype `vt` (a timedelta's sum, mean and std are
/// timedeltas, as pandas).
DType output_dtype(const std::string& fn, DType vt) {
  if (fn == "count" || fn == "size") return DType::int64;
  if (vt == DType::timedelta) return DType::timedelta;
  if (fn == "sum") return vt == DType::float64 ? DType::float64 : DType::int64;
  if (fn == "min" || fn == "max" || fn == "first" || fn == "last") return vt;
  return DType::float64;
}

void check_fn(const std::string& fn, const Field& f) {
  static const char* known[] = {"sum", "mean", "count", "size", "min", "max", "std", "var", "first", "last"};
  if (std::find(std::begin(known), std::end(known), fn) == std::end(known)) {
    TESSERA_THROW(TypeError, "groupby agg: unknown function '", fn, "' for column '", f.name,
                  "' (sum, mean, count, size, min, max, std, var, first, last)");
  }
  const bool needs_number = fn != "count" && fn != "size";
  if (needs_number && is_text(f.dtype)) {
    TESSERA_THROW(TypeError, "groupby agg: '", fn, "' of column '", f.name, "' of dtype ", dtype_name(f.dtype),
                  " (string columns support count and size)");
  }
  if ((fn == "sum" || fn == "mean" || fn == "std" || fn == "var") && f.dtype == DType::datetime) {
    TESSERA_THROW(TypeError, "groupby agg: '", fn, "' of column '", f.name, "' of dtype ", dtype_name(f.dtype));
  }
  if (fn == "var" && f.dtype == DType::timedelta) {  // pandas refuses it too
    TESSERA_THROW(TypeError, "groupby agg: 'var' of column '", f.name, "' of dtype ", dtype_name(f.dtype));
  }
}
}  // namespace detail

GroupBy::GroupBy(DataFrame frame, std::vector<std::string> keys, std::vector<std::string> selected,
                 GroupByOptions options)
    : m_frame(std::move(frame)), m_keys(std::move(keys)), m_selected(std::move(selected)), m_options(options) {
  if (m_keys.empty()) TESSERA_THROW(GraphError, "groupby needs at least one key column");
  for (const auto& k : m_keys) (void)m_frame.schema().find(k);
  for (const auto& c : m_selected) (void)m_frame.schema().find(c);
}

GroupBy GroupBy::operator[](std::string_view column) const {
  return GroupBy(m_frame, m_keys, {std::string(column)}, m_options);
}
GroupBy GroupBy::operator[](std::initializer_list<std::string> columns) const {
  return GroupBy(m_frame, m_keys, std::vector<std::string>(columns), m_options);
}

DataFrame GroupBy::agg(const AggSpec& spec) const { return build(spec, true); }

DataFrame GroupBy::one(const std::string& fn) const {
  AggSpec spec;
  const bool numeric_fn = fn != "count";
  if (!m_selected.empty()) {
    for (const auto& c : m_selected) spec.push_back({c, {fn}});
  } else {
    for (const auto& f : m_frame.schema().columns) {
      if (std::find(m_keys.begin(), m_keys.end(), f.name) != m_keys.end()) continue;
      if (numeric_fn && is_text(f.dtype)) continue;  // pandas' numeric_only
      if ((fn == "sum" || fn == "mean" || fn == "std" || fn == "var") && f.dtype == DType::datetime) continue;
      if (fn == "var" && f.dtype == DType::timedelta) continue;
      spec.push_back({f.name, {fn}});
    }
  }
  return build(spec, false);
}

DataFrame GroupBy::size() const {
  AggSpec spec{{"", {"size"}}};
  return build(spec, false);
}

DataFrame GroupBy::build(const AggSpec& spec, bool flat_names) const {
  const Schema& schema = m_frame.schema();
  detail::GroupPlan plan;
  plan.keys = m_keys;
  std::vector<DType> value_types;
  Schema out;
  for (const auto& k : m_keys) out.index.push_back(detail::key_field(schema.columns[schema.find(k)]));
  for (const auto& [col, fns] : spec) {
    std::int32_t v = -1;
    DType vt = DType::int64;
    if (!(col.empty() && fns.size() == 1 && fns[0] == "size")) {
      const Field& f = schema.columns[schema.find(col)];
      if (std::find(m_keys.begin(), m_keys.end(), col) != m_keys.end()) {
        TESSERA_THROW(ColumnError, "groupby agg: column '", col, "' is a group key");
      }
      auto it = std::find(plan.values.begin(), plan.values.end(), col);
      if (it == plan.values.end()) {
        plan.values.push_back(col);
        value_types.push_back(f.dtype);
        it = plan.values.end() - 1;
      }
      v = static_cast<std::int32_t>(it - plan.values.begin());
      vt = f.dtype;
      for (const auto& fn : fns) detail::check_fn(fn, f);
    }
    for (const auto& fn : fns) {
      const std::string name = col.empty() ? "size" : flat_names ? col + "_" + fn : col;
      plan.outputs.push_back({fn == "size" ? -1 : v, fn, name});
      out.columns.push_back({name, detail::output_dtype(fn, vt)});
    }
  }
  auto part = delayed(detail::partial_groupby, {.name = "groupby-partial", .pure = true});
  auto comb = delayed(detail::combine_groupby, {.name = "groupby-combine", .pure = true});
  auto fin = delayed(detail::final_groupby, {.name = "groupby-aggregate", .pure = true});
  std::vector<Delayed<detail::GroupState>> level;
  for (const auto& p : m_frame.partitions()) level.push_back(part(p, plan));
  const bool automatic = m_options.split_out == 0;
  const std::size_t n_out = !automatic ? m_options.split_out : level.size() >= 16 ? level.size() : 1;
  if (n_out > 1) {
    return DataFrame(std::move(out), detail::shuffle_groupby(level, plan, value_types, static_cast<std::uint32_t>(n_out),
                                                             automatic ? m_options.collapse_below : 0));
  }
  level = detail::tree_levels<detail::GroupState>(
      std::move(level), [&](const std::vector<Delayed<detail::GroupState>>& g) { return comb(g, plan); });
  return DataFrame(std::move(out), {fin(level, plan, value_types)});
}

DataFrame Series::value_counts() const {
  const DataFrame f = to_frame();
  const DataFrame sizes = f.groupby(m_name, {.split_out = 1}).size();  // sorted by count below: one partition
  Schema s = sizes.schema();
  s.columns[0].name = "count";
  auto rename = delayed(
      [](const Table& t) {
        Table out;
        out.set_index(t.index_names(), t.index_columns());
        out.add_column("count", t.column("size"));
        return out;
      },
      {.name = "value-counts-rename", .pure = true});
  auto sort = delayed(detail::sort_counts, {.name = "value-counts", .pure = true});
  return DataFrame(std::move(s), {sort(rename(sizes.partitions()[0]))});
}

}  // namespace tessera::dataframe
