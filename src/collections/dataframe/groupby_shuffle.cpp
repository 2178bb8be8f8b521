// groupby().agg() through the shuffle (split_out > 1): each partition's partial state is
// range-partitioned by its group keys, as sort_values partitions rows (sampled boundaries), so
// each output holds every group of one key range: it merges its pieces and builds its result,
// sorted, and the outputs follow one another in key order. No task holds all the groups.
#include <tessera/scheduling/shuffle.hpp>

#include "collections/dataframe/groupby_state.hpp"
#include "collections/dataframe/hash_split.hpp"
#include "collections/dataframe/range_partition.hpp"

namespace tessera::dataframe::detail {

/// The boundaries' input from one state: sampled keys, and the bytes the state holds.
struct StateSample {
  Table keys;
  std::uint64_t bytes = 0;
};

}  // namespace tessera::dataframe::detail

namespace tessera {
template <>
struct Codec<dataframe::detail::StateSample> {
  static void write(ByteWriter& w, const dataframe::detail::StateSample& s) {
    Codec<dataframe::Table>::write(w, s.keys);
    Codec<std::uint64_t>::write(w, s.bytes);
  }
  static dataframe::detail::StateSample read(ByteReader& r) {
    dataframe::detail::StateSample s;
    s.keys = Codec<dataframe::Table>::read(r);
    s.bytes = Codec<std::uint64_t>::read(r);
    return s;
  }
};
}  // namespace tessera

namespace tessera::dataframe::detail {
namespace {

SortPlan key_order(const GroupPlan& plan) {
  SortPlan p;
  p.columns = plan.keys;
  p.ascending.assign(plan.keys.size(), 1);
  return p;
}

StateSample sample_state(const GroupState& s, const SortPlan& p) { return {sample_keys(s.keys, p), s.nbytes()}; }

/// n_out - 1 key boundaries, or none (every group to output 0) when all the states together
/// hold fewer than `collapse_below` bytes.
Table state_bounds(const std::vector<StateSample>& samples, const SortPlan& p, const std::uint32_t& n_out,
                   const std::uint64_t& collapse_below) {
  std::uint64_t total = 0;
  std::vector<Table> keys;
  keys.reserve(samples.size());
  for (const auto& s : samples) {
    total += s.bytes;
    keys.push_back(s.keys);
  }
  return range_bounds(keys, p, total < collapse_below ? 1u : n_out);
}

/// The state with each group's range appended to its keys.
GroupState tag_state(const GroupState& s, const Table& bounds, const SortPlan& p) {
  GroupState out;
  out.keys = tag_ranges(s.keys, bounds, p);
  out.sizes = s.sizes;
  out.accs = s.accs;
  return out;
}

/// Shuffle split of a tagged state by its range column (dropped from the pieces).
struct StateRangeSplit {
  std::vector<GroupState> operator()(const GroupState& s, std::size_t n_out) const {
    const Column& range = s.keys.column(range_column);
    const std::size_t groups = s.sizes.size();
    const std::size_t nvals = groups == 0 ? 0 : s.accs.size() / groups;
    std::vector<std::uint32_t> dest(groups);
    for (std::size_t g = 0; g < groups; ++g) {
      dest[g] = static_cast<std::uint32_t>(std::min<std::int64_t>(range.i64[g], static_cast<std::int64_t>(n_out) - 1));
    }
    std::vector<Table> keys = split_by(s.keys, dest, n_out, range_column);
    std::vector<GroupState> out(n_out);
    for (std::size_t j = 0; j < n_out; ++j) out[j].keys = std::move(keys[j]);
    for (std::size_t g = 0; g < groups; ++g) {
      GroupState& o = out[dest[g]];
      o.sizes.push_back(s.sizes[g]);
      o.accs.insert(o.accs.end(), s.accs.begin() + static_cast<std::ptrdiff_t>(g * nvals),
                    s.accs.begin() + static_cast<std::ptrdiff_t>((g + 1) * nvals));
    }
    return out;
  }
};

/// Shuffle combine: the pieces of one key range merged.
struct StateMerge {
  std::uint64_t nvals = 0;
  GroupState operator()(std::vector<GroupState>&& pieces) const { return merge_states(pieces, nvals); }
};

}  // namespace

std::vector<Delayed<Table>> shuffle_groupby(const std::vector<Delayed<GroupState>>& partials, const GroupPlan& plan,
                                            const std::vector<DType>& value_types, std::uint32_t n_out,
                                            std::uint64_t collapse_below) {
  const SortPlan order = key_order(plan);
  auto sample = delayed(sample_state, {.name = "groupby-sample", .pure = true});
  auto bounds = delayed(state_bounds, {.name = "groupby-bounds", .pure = true});
  auto tag = delayed(tag_state, {.name = "groupby-tag", .pure = true});
  auto fin = delayed(final_groupby, {.name = "groupby-aggregate", .pure = true});
  std::vector<Delayed<StateSample>> samples;
  samples.reserve(partials.size());
  for (const auto& p : partials) samples.push_back(sample(p, order));
  const Delayed<Table> b = bounds(samples, order, n_out, collapse_below);
  std::vector<Delayed<GroupState>> tagged;
  tagged.reserve(partials.size());
  for (const auto& p : partials) tagged.push_back(tag(p, b, order));
  auto merged = shuffle(tagged, n_out, StateRangeSplit{}, StateMerge{plan.values.size()}, {.name = "groupby"});
  std::vector<Delayed<Table>> out;
  out.reserve(n_out);
  for (const auto& m : merged) out.push_back(fin(std::vector<Delayed<GroupState>>{m}, plan, value_types));
  return out;
}

}  // namespace tessera::dataframe::detail
