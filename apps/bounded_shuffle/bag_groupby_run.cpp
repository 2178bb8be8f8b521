// bag-groupby: tessera::bag's groupby (the shuffle, then a grouping per output partition), the
// issue-14 workload. Record i is (i % K, i) with K = n / group_size keys, so key k's group
// must hold exactly the values k, k + K, ..., k + (m - 1) K (m = group_size): each group is
// checked where it lies (size, keys, sum of values), and the totals (groups, records, the sum
// of mix(value) and of mix(key)) against the formula's, summed on rank 0.
#include "workloads.hpp"

#include <tessera/collections/bag/bag.hpp>
#include <tessera/tessera.hpp>

#include <utility>

namespace bounded {
namespace {

using Record = std::pair<std::uint64_t, std::uint64_t>;
using Records = std::vector<Record>;
using Groups = std::vector<std::pair<std::uint64_t, Records>>;

Records make_keyed(std::uint64_t p, std::uint64_t n, std::uint64_t parts, std::uint64_t keys) {
  const std::uint64_t b = part_begin(p, n, parts), e = part_begin(p + 1, n, parts);
  Records out(e - b);
  for (std::uint64_t i = b; i < e; ++i) out[i - b] = {i % keys, i};
  return out;
}

Tally tally_groups(const Groups& gs, std::uint64_t keys, std::uint64_t m) {
  Tally t;
  // sum over j < m of (k + j K) = m k + K m (m - 1) / 2
  const std::uint64_t offset = keys * (m * (m - 1) / 2);
  for (const auto& [k, members] : gs) {
    ++t.groups;
    t.keysum += mix(k);
    std::uint64_t values = 0;
    bool bad = members.size() != m || k >= keys;
    for (const auto& [key, v] : members) {
      bad |= key != k;
      values += v;
      t.sum += mix(v);
    }
    t.rows += members.size();
    if (bad || values != m * k + offset) ++t.bad;
  }
  return t;
}

}  // namespace

Outcome run_bag_groupby(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s) {
  const std::uint64_t m = plan.group_size, parts = plan.partitions;
  const std::uint64_t keys = plan.data_bytes / sizeof(Record) / m, n = keys * m;
  std::vector<tessera::Delayed<Records>> in;
  for (std::uint64_t p = 0; p < parts; ++p) {
    const auto hint = static_cast<std::int32_t>(p);
    in.push_back(tessera::delayed(&make_keyed, {.name = "make-keyed", .worker_hint = hint})(p, n, parts, keys));
  }
  const auto groups = tessera::bag::from_delayed(in).groupby([](const Record& r) { return r.first; }, {.npartitions = parts}).to_delayed();
  std::vector<tessera::Delayed<Tally>> tallies;
  for (const auto& g : groups) tallies.push_back(tessera::delayed(&tally_groups, {.name = "tally-groups"})(g, keys, m));
  const Tally got = tessera::compute(tessera::delayed(&total, {.name = "total"})(tallies), s);
  Tally want;
  want.rows = n;
  want.groups = keys;
  for (std::uint64_t i = 0; i < n; ++i) want.sum += mix(i);
  for (std::uint64_t k = 0; k < keys; ++k) want.keysum += mix(k);
  Outcome o;
  o.data = std::to_string(n) + " records of 16 B, " + std::to_string(keys) + " keys of " + std::to_string(m) +
           ", in " + std::to_string(parts) + " partitions";
  o.ok = got.rows == n && got.groups == keys && got.bad == 0 && got.sum == want.sum && got.keysum == want.keysum;
  o.checked = verdict(o.ok, "groups " + std::to_string(got.groups) + " (want " + std::to_string(keys) + "), records " +
                                std::to_string(got.rows) + " (want " + std::to_string(n) + "), groups off the formula " +
                                std::to_string(got.bad) + ", checksums " + (got.sum == want.sum ? "agree" : "DIFFER") +
                                " / " + (got.keysum == want.keysum ? "agree" : "DIFFER"));
  return o;
}

}  // namespace bounded
