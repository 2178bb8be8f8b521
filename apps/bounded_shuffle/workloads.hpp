#pragma once

// The workloads of tessera-bounded-shuffle: each generates its data on the workers (partition
// p by a task, from a formula: nothing of it passes through rank 0), runs one shuffle-based
// operation over it, reduces every output partition to a Tally where it lies, and checks the
// tallies against what the formulas say the result must be.

#include <tessera/scheduling/scheduler.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bounded {

/// The size of a run: the data's bytes (as generated, all inputs together) in `partitions`
/// partitions.
struct Plan {
  std::uint64_t data_bytes = 0;
  std::uint64_t partitions = 1;
  std::uint64_t worker_limit = 0;  ///< the smallest worker's memory limit (bytes; 0: none)
  std::uint64_t group_size = 64;  ///< bag-groupby: records per key
  /// shuffle: partition 0's generator leaves out its first record, so that the checks must
  /// fail (the test that they can).
  bool lose_record = false;
};

/// What a workload checked: "ok" or what differs, and a one-line description of the data.
struct Outcome {
  bool ok = false;
  std::string checked;  // what was verified, with the figures
  std::string data;     // "268435456 records of 16 B in 128 partitions"
};

/// Per output partition, and summed: what the checks need (bitwise: travels as raw bytes).
struct Tally {
  std::uint64_t rows = 0;
  std::uint64_t sum = 0;     ///< sum of a per-row hash (order-independent multiset checksum)
  std::uint64_t groups = 0;  ///< bag-groupby: groups; others: 0
  std::uint64_t keysum = 0;  ///< bag-groupby: sum of mix(key) over groups
  std::uint64_t bad = 0;     ///< rows or groups that break the workload's formula
  std::int64_t lo = 0, hi = 0;  ///< df-sort: first and last key of the partition
};

/// splitmix64's finalizer: the generators' and checksums' hash.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
/// The checksum term of a (key, value) row.
constexpr std::uint64_t row_hash(std::uint64_t key, std::uint64_t value) noexcept {
  return mix(key ^ (value * 0xd6e8feb86659fd93ull));
}
/// First row of partition p of n rows in `parts` partitions.
constexpr std::uint64_t part_begin(std::uint64_t p, std::uint64_t n, std::uint64_t parts) noexcept {
  return n / parts * p + n % parts * p / parts;  // n * p / parts without overflow (p <= parts)
}

/// Every tally, in partition order (one task: a few dozen bytes per partition).
std::vector<Tally> gather_tallies(const std::vector<Tally>& tallies);
/// The tallies summed (lo/hi: of the first and last non-empty partition).
Tally total(const std::vector<Tally>& tallies);

/// tessera::hash_shuffle of 16-byte records (key = mix(i), value = i).
Outcome run_shuffle(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s);
/// bag::groupby of 16-byte records (key = i % K, value = i: every key holds group_size records).
Outcome run_bag_groupby(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s);
/// DataFrame::merge of two (id, int64) tables, 1:1 on id; data_bytes is both inputs together.
Outcome run_df_merge(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s);
/// DataFrame::sort_values of a (k, v) int64 table on k.
Outcome run_df_sort(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s);

/// "ok" or "WRONG", with the figures: expected vs got.
std::string verdict(bool ok, const std::string& what);

}  // namespace bounded
