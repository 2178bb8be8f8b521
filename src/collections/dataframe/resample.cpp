// DataFrame.resample(rule): each partition's rows are binned (label = origin + k * step) and
// grouped by bin with groupby's accumulators (groupby_state.hpp); a chain of "open bin" tasks
// carries the last bin seen so far to the next partition (as rolling carries its tail), so
// a bin that straddles partitions is merged once; each output task fills in the empty bins of
// the label range it owns.
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/groupby_state.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

namespace tessera::dataframe {
namespace {

using detail::GroupState;

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr std::int64_t ns_per_day = 86'400 * ns_per_s;
constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t highest = std::numeric_limits<std::int64_t>::max();
constexpr const char* bin_key = "__resample_bin";

/// What every resample task needs: the groupby plan over the bin key, the value dtypes, the
/// rule (for messages), the index name, the step, and whether output ranges follow divisions.
struct ResamplePlan {
  detail::GroupPlan group;
  std::vector<std::uint8_t> types;
  std::string rule;
  std::string index;
  std::int64_t step = 0;
  bool by_divisions = false;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & group & types & rule & index & step & by_divisions;
  }
  [[nodiscard]] std::vector<DType> value_types() const {
    std::vector<DType> out;
    for (auto t : types) out.push_back(static_cast<DType>(t));
    return out;
  }
};

std::int64_t parse_rule(const std::string& rule) {
  std::size_t digits = 0;
  while (digits < rule.size() && std::isdigit(static_cast<unsigned char>(rule[digits]))) ++digits;
  const std::string unit = rule.substr(digits);
  static const std::pair<const char*, std::int64_t> units[] = {
      {"s", ns_per_s}, {"S", ns_per_s}, {"min", 60 * ns_per_s}, {"T", 60 * ns_per_s},
      {"h", 3600 * ns_per_s}, {"H", 3600 * ns_per_s}, {"D", ns_per_day}};
  std::int64_t per = 0;
  for (const auto& [name, ns] : units) per = unit == name ? ns : per;
  if (per == 0) {
    TESSERA_THROW(GraphError, "resample: rule '", rule,
                  "' is not <count><unit> with unit s (S), min (T), h (H) or D, e.g. \"15min\"");
  }
  std::int64_t count = digits == 0 ? 1 : 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (count > (highest / per - 9) / 10) TESSERA_THROW(GraphError, "resample: rule '", rule, "' is too long a step");
    count = count * 10 + (rule[i] - '0');
  }
  if (count < 1) TESSERA_THROW(GraphError, "resample: rule '", rule, "': the count must be at least 1");
  return count * per;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

std::int64_t bin_of(std::int64_t t, std::int64_t origin, std::int64_t step) {
  return origin + floor_div(t - origin, step) * step;
}

const std::vector<std::int64_t>& labels(const GroupState& s) { return s.keys.column(0).i64; }

GroupState no_bins() {
  GroupState s;
  s.keys.add_column(bin_key, Column(DType::datetime));
  return s;
}

/// The groups of `s` whose labels lie in [lo, hi].
GroupState select(const GroupState& s, std::int64_t lo, std::int64_t hi, std::size_t nvals) {
  std::vector<std::uint32_t> rows;
  for (std::size_t g = 0; g < s.sizes.size(); ++g) {
    if (labels(s)[g] >= lo && labels(s)[g] <= hi) rows.push_back(static_cast<std::uint32_t>(g));
  }
  GroupState out;
  out.keys = s.keys.take(rows);
  for (auto g : rows) {
    out.sizes.push_back(s.sizes[g]);
    out.accs.insert(out.accs.end(), s.accs.begin() + static_cast<std::ptrdiff_t>(g * nvals),
                    s.accs.begin() + static_cast<std::ptrdiff_t>((g + 1) * nvals));
  }
  return out;
}

/// One partition's rows as partial aggregates per bin. Throws: GraphError when its index is
/// not sorted.
GroupState resample_partial(const Table& part, const std::int64_t& origin, const ResamplePlan& p) {
  const Column& ix = part.index_columns().at(0);
  Column bins(DType::datetime);
  bins.reserve(ix.size());
  std::int64_t prev = lowest;
  for (std::size_t i = 0; i < ix.size(); ++i) {
    if (ix.is_null(i)) {
      bins.push_null();
      continue;
    }
    if (ix.i64[i] < prev) {
      TESSERA_THROW(GraphError, "resample('", p.rule, "'): the index '", p.index, "' is not sorted: ",
                    format_datetime(ix.i64[i], false), " comes after ", format_datetime(prev, false),
                    " in a partition (sort_values or set_index first)");
    }
    prev = ix.i64[i];
    bins.push_int(bin_of(prev, origin, p.step));
  }
  Table t;
  t.add_column(bin_key, std::move(bins));
  for (const auto& v : p.group.values) t.add_column(v, part.column(v));
  return detail::partial_groupby(t, p.group);
}

/// First non-null index value of a partition (none when it has no rows).
std::vector<std::int64_t> first_index(const Table& part) {
  const Column& ix = part.index_columns().at(0);
  for (std::size_t i = 0; i < ix.size(); ++i) {
    if (!ix.is_null(i)) return {ix.i64[i]};
  }
  return {};
}

/// pandas' origin="start_day": midnight of the first index value's day.
std::int64_t start_day(const std::vector<std::vector<std::int64_t>>& firsts) {
  std::int64_t first = highest;
  for (const auto& f : firsts) first = f.empty() ? first : std::min(first, f[0]);
  return first == highest ? 0 : floor_div(first, ns_per_day) * ns_per_day;
}

/// Smallest and largest label of a state (none when it has no bins).
std::vector<std::int64_t> state_bounds(const GroupState& s) {
  if (s.sizes.empty()) return {};
  const auto [lo, hi] = std::minmax_element(labels(s).begin(), labels(s).end());
  return {*lo, *hi};
}
std::vector<std::int64_t> merge_bounds(const std::vector<std::vector<std::int64_t>>& parts) {
  std::int64_t lo = highest, hi = lowest;
  for (const auto& b : parts) {
    if (b.empty()) continue;
    lo = std::min(lo, b[0]);
    hi = std::max(hi, b[1]);
  }
  if (lo > hi) return {};
  return {lo, hi};
}

/// The bins carried into a partition merged with its own. Throws: GraphError when the
/// partition starts in an earlier bin than the one the rows before it ended in.
GroupState merged(const GroupState& before, const GroupState& mine, const ResamplePlan& p) {
  if (!before.sizes.empty() && !mine.sizes.empty()) {
    const std::int64_t first = *std::min_element(labels(mine).begin(), labels(mine).end());
    if (first < labels(before)[0]) {
      TESSERA_THROW(GraphError, "resample('", p.rule, "'): the index '", p.index,
                    "' is not sorted across partitions: a partition starts in the bin ",
                    format_datetime(first, false), " after rows in the bin ", format_datetime(labels(before)[0], false),
                    " (sort_values or set_index first)");
    }
  }
  return detail::merge_states({before, mine}, p.group.values.size());
}

/// The last bin of everything up to and including this partition (still open: the next
/// partition may add to it).
GroupState open_bin(const GroupState& before, const GroupState& mine, const ResamplePlan& p) {
  const GroupState m = merged(before, mine, p);
  const auto b = state_bounds(m);
  return b.empty() ? m : select(m, b[1], b[1], p.group.values.size());
}

void push_cell(Column& out, const Column& c, std::size_t row) {
  if (c.is_null(row)) out.push_null();
  else detail::push_value(out, c, row);
}

/// `got` (some bins, sorted) on every label from..to (step apart): empty bins are 0 for sum,
/// count and size, null otherwise.
Table every_bin(const Table& got, std::int64_t from, std::int64_t to, const ResamplePlan& p) {
  const std::size_t n = from > to ? 0 : static_cast<std::size_t>((to - from) / p.step) + 1;
  std::vector<std::int64_t> at(n, -1);
  const Column& have = got.index_columns().at(0);
  for (std::size_t j = 0; j < got.num_rows(); ++j) at[static_cast<std::size_t>((have.i64[j] - from) / p.step)] =
      static_cast<std::int64_t>(j);
  std::vector<std::int64_t> bin_labels(n);
  for (std::size_t k = 0; k < n; ++k) bin_labels[k] = from + static_cast<std::int64_t>(k) * p.step;
  Table out;
  out.set_index({p.index}, {Column::from_datetime(std::move(bin_labels))});
  for (std::size_t c = 0; c < got.num_columns(); ++c) {
    const Column& src = got.column(c);
    const std::string& fn = p.group.outputs[c].fn;
    const bool zero = fn == "sum" || fn == "count" || fn == "size";
    Column col(src.dtype);
    col.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      if (at[k] >= 0) push_cell(col, src, static_cast<std::size_t>(at[k]));
      else if (!zero) col.push_null();
      else if (src.dtype == DType::float64) col.push_float(0.0);
      else col.push_int(0);
    }
    out.add_column(got.column_names()[c], std::move(col));
  }
  return out;
}

/// The bins one output partition owns: [lo, hi) by divisions, else from the bin carried in to
/// the bin left open (to the end for the last partition); clipped to the data's first and last
/// bins.
Table resample_out(const GroupState& before, const GroupState& mine, const GroupState& after,
                   const std::vector<std::int64_t>& bounds, const std::int64_t& lo, const std::int64_t& hi,
                   const bool& last, const ResamplePlan& p) {
  const GroupState m = merged(before, mine, p);
  std::int64_t from = lo, to = hi == highest ? highest : hi - 1;
  if (!p.by_divisions) {
    from = before.sizes.empty() ? lowest : labels(before)[0];
    to = last ? highest : after.sizes.empty() ? lowest : labels(after)[0] - 1;
  }
  if (bounds.empty()) {
    from = highest;
    to = lowest;
  } else {
    from = std::max(from, bounds[0]);
    to = std::min(to, bounds[1]);
  }
  const GroupState kept = select(m, from, to, p.group.values.size());
  const Table got = detail::final_groupby({kept}, p.group, p.value_types());
  return every_bin(got, from, to, p);
}

}  // namespace

Resampler::Resampler(DataFrame frame, std::string rule)
    : m_frame(std::move(frame)), m_rule(std::move(rule)), m_step(parse_rule(m_rule)) {
  const auto& index = m_frame.schema().index;
  if (index.size() != 1 || index[0].dtype != DType::datetime) {
    std::string shown = index.empty() ? "a range index" : "";
    for (const auto& f : index) shown += (shown.empty() ? "" : ", ") + ("'" + f.name + "' (" + dtype_name(f.dtype) + ")");
    TESSERA_THROW(TypeError, "resample('", m_rule, "'): needs one datetime64[ns] index, not ", shown,
                  " (set_index on a datetime column first)");
  }
}

DataFrame Resampler::one(const std::string& fn) const {
  AggSpec spec;
  const bool arithmetic = fn == "sum" || fn == "mean" || fn == "std" || fn == "var";
  for (const auto& f : m_frame.schema().columns) {
    if (is_text(f.dtype) && fn != "count") continue;  // numeric_only, as groupby
    if (f.dtype == DType::datetime && arithmetic) continue;
    spec.push_back({f.name, {fn}});
  }
  return build(spec, false);
}

DataFrame Resampler::agg(const AggSpec& spec) const { return build(spec, true); }

DataFrame Resampler::build(const AggSpec& spec, bool flat_names) const {
  const Schema& schema = m_frame.schema();
  ResamplePlan p;
  p.group.keys = {bin_key};
  p.rule = m_rule;
  p.index = schema.index[0].name;
  p.step = m_step;
  p.by_divisions = ns_per_day % m_step == 0 && m_frame.known_divisions();
  Schema out;
  out.index = {schema.index[0]};
  for (const auto& [col, fns] : spec) {
    std::int32_t v = -1;
    DType vt = DType::int64;
    if (!(col.empty() && fns.size() == 1 && fns[0] == "size")) {
      if (col == p.index && !schema.contains(col)) {
        TESSERA_THROW(ColumnError, "resample('", m_rule, "').agg: '", col, "' is the index, not a column");
      }
      const Field& f = schema.columns[schema.find(col)];
      try {
        for (const auto& fn : fns) detail::check_fn(fn, f);
      } catch (const TypeError& e) {
        TESSERA_THROW(TypeError, "resample('", m_rule, "'): ", e.what());
      }
      auto it = std::find(p.group.values.begin(), p.group.values.end(), col);
      if (it == p.group.values.end()) {
        p.group.values.push_back(col);
        p.types.push_back(static_cast<std::uint8_t>(f.dtype));
        it = p.group.values.end() - 1;
      }
      v = static_cast<std::int32_t>(it - p.group.values.begin());
      vt = f.dtype;
    }
    for (const auto& fn : fns) {
      const std::string name = col.empty() ? "size" : flat_names ? col + "_" + fn : col;
      p.group.outputs.push_back({fn == "size" ? -1 : v, fn, name});
      out.columns.push_back({name, detail::output_dtype(fn, vt)});
    }
  }

  const auto& parts = m_frame.partitions();
  auto partial = delayed(resample_partial, {.name = "resample-partial", .pure = true});
  std::vector<Delayed<GroupState>> states;
  if (ns_per_day % m_step == 0) {  // start_day's bins are the epoch's
    for (const auto& part : parts) states.push_back(partial(part, std::int64_t{0}, p));
  } else {
    auto first = delayed(first_index, {.name = "resample-first", .pure = true});
    std::vector<Delayed<std::vector<std::int64_t>>> firsts;
    for (const auto& part : parts) firsts.push_back(first(part));
    const auto origin = delayed(start_day, {.name = "resample-origin", .pure = true})(firsts);
    for (const auto& part : parts) states.push_back(partial(part, origin, p));
  }
  auto bound = delayed(state_bounds, {.name = "resample-bounds", .pure = true});
  std::vector<Delayed<std::vector<std::int64_t>>> each;
  for (const auto& s : states) each.push_back(bound(s));
  const auto bounds = delayed(merge_bounds, {.name = "resample-bounds-all", .pure = true})(each);

  auto open = delayed(open_bin, {.name = "resample-open", .pure = true});
  auto fin = delayed(resample_out, {.name = "resample", .pure = true});
  const std::vector<std::int64_t>* div = p.by_divisions ? &m_frame.divisions().column(0).i64 : nullptr;
  Delayed<GroupState> before = tessera::literal(no_bins(), "resample-none");
  std::vector<Delayed<Table>> outs;
  std::vector<std::int64_t> out_divs;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const Delayed<GroupState> after = last ? states[i] : open(before, states[i], p);
    const std::int64_t lo = div && i > 0 ? bin_of((*div)[i], 0, m_step) : lowest;
    const std::int64_t hi = div && !last ? bin_of((*div)[i + 1], 0, m_step) : highest;
    outs.push_back(fin(before, states[i], after, bounds, lo, hi, last, p));
    before = after;
  }
  Table divisions;
  if (div) {
    for (auto d : *div) out_divs.push_back(bin_of(d, 0, m_step));
    divisions.add_column(p.index, Column::from_datetime(std::move(out_divs)));
  }
  return DataFrame(std::move(out), std::move(outs)).with_order(std::move(divisions), true);
}

Resampler DataFrame::resample(std::string rule) const { return Resampler(*this, std::move(rule)); }

}  // namespace tessera::dataframe
