// shuffle: tessera::hash_shuffle of 16-byte records (8-byte key, 8-byte value), the issue-13
// workload. Record i is (mix(i), i); each output partition is tallied on its owner (row count
// and the sum of row_hash over its rows) and the totals must equal the formula's, summed on
// rank 0 without holding any record: every record arrived exactly once.
#include "workloads.hpp"

#include <tessera/scheduling/shuffle.hpp>
#include <tessera/tessera.hpp>

#include <utility>

namespace bounded {
namespace {

using Record = std::pair<std::uint64_t, std::uint64_t>;
using Records = std::vector<Record>;

Records make_records(std::uint64_t p, std::uint64_t n, std::uint64_t parts, bool lose_first) {
  const std::uint64_t b = part_begin(p, n, parts) + (lose_first ? 1 : 0), e = part_begin(p + 1, n, parts);
  Records out(e - b);
  for (std::uint64_t i = b; i < e; ++i) out[i - b] = {mix(i), i};
  return out;
}

std::uint64_t key_of(const Record& r) { return r.first; }

Tally tally_records(const Records& rs) {
  Tally t;
  t.rows = rs.size();
  for (const auto& [k, v] : rs) t.sum += row_hash(k, v);
  return t;
}

}  // namespace

Outcome run_shuffle(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s) {
  const std::uint64_t n = plan.data_bytes / sizeof(Record), parts = plan.partitions;
  std::vector<tessera::Delayed<Records>> in;
  for (std::uint64_t p = 0; p < parts; ++p) {
    const auto hint = static_cast<std::int32_t>(p);
    in.push_back(tessera::delayed(&make_records, {.name = "make-records", .worker_hint = hint})(p, n, parts, plan.lose_record && p == 0));
  }
  auto out = tessera::hash_shuffle(in, parts, &key_of, {.name = "bounded"});
  std::vector<tessera::Delayed<Tally>> tallies;
  for (std::size_t j = 0; j < out.size(); ++j) {
    const auto hint = static_cast<std::int32_t>(j);  // where unpack j ran: no transfer
    tallies.push_back(tessera::delayed(&tally_records, {.name = "tally", .worker_hint = hint})(out[j]));
  }
  const Tally got = tessera::compute(tessera::delayed(&total, {.name = "total"})(tallies), s);
  Tally want;
  want.rows = n;
  for (std::uint64_t i = 0; i < n; ++i) want.sum += row_hash(mix(i), i);
  Outcome o;
  o.data = std::to_string(n) + " records of 16 B in " + std::to_string(parts) + " partitions";
  o.ok = got.rows == want.rows && got.sum == want.sum;
  o.checked = verdict(o.ok, "records " + std::to_string(got.rows) + " (want " + std::to_string(want.rows) +
                                "), checksum " + std::to_string(got.sum) + " (want " + std::to_string(want.sum) + ")");
  return o;
}

}  // namespace bounded
