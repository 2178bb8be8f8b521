#pragma once

// Shuffle behaviour, written once. Include this file in a test translation unit after defining
// a type list macro TESSERA_TEST_SCHEDULERS and the function templates
//   template <class Tag> std::shared_ptr<tessera::Scheduler> make_test_scheduler();
//   template <class Tag> tessera::detail::ShuffleService::Stats shuffle_test_stats();
// (the second sums the shuffle services of every process that runs tasks). Every case compares
// with what the sync scheduler (the oracle) gives, and checks that every record arrives
// exactly once by a checksum of the (key, value) multiset.
//
// Under TESSERA_MEMORY_LIMIT (at most a few MiB) the spilling case expects pieces to be read
// back from the spill file; without it, it expects none.

#include <tessera/scheduling/shuffle.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace shuffle_suite {

using Record = std::pair<std::uint64_t, std::uint64_t>;  // 16 bytes: key, value
using Records = std::vector<Record>;

inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Partition `part` of `n` records. skew: every other record has key 0 (half the records);
/// empty_every: partitions with part % empty_every == 1 are empty (0: none).
inline Records make_part(std::uint64_t part, std::uint64_t n, bool skew, std::uint64_t empty_every) {
  Records out;
  if (empty_every != 0 && part % empty_every == 1) return out;
  out.reserve(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint64_t r = mix(part * 1000003 + k);
    const std::uint64_t key = (skew && k % 2 == 0) ? 0 : 1 + r % 996;  // 0 only for the skew
    out.emplace_back(key, part << 32 | k);
  }
  return out;
}

/// Order-independent digest of a multiset of records: count, sum and xor of their hashes.
struct Digest {
  std::uint64_t count = 0, sum = 0, xored = 0;
  void add(const Records& rs) {
    for (const auto& [k, v] : rs) {
      const auto h = mix(mix(k) ^ v);
      ++count;
      sum += h;
      xored ^= mix(h);
    }
  }
  friend bool operator==(const Digest&, const Digest&) = default;
};

inline Digest digest(const std::vector<Records>& parts) {
  Digest d;
  for (const auto& p : parts) d.add(p);
  return d;
}

inline std::vector<tessera::Delayed<Records>> inputs(std::uint64_t n_parts, std::uint64_t n, bool skew,
                                                     std::uint64_t empty_every = 0) {
  std::vector<tessera::Delayed<Records>> out;
  for (std::uint64_t p = 0; p < n_parts; ++p) {
    out.push_back(tessera::delayed(&make_part, {.name = "make-part", .pure = true})(p, n, skew, empty_every));
  }
  return out;
}

inline std::vector<Records> expected_inputs(std::uint64_t n_parts, std::uint64_t n, bool skew,
                                            std::uint64_t empty_every = 0) {
  std::vector<Records> out;
  for (std::uint64_t p = 0; p < n_parts; ++p) out.push_back(make_part(p, n, skew, empty_every));
  return out;
}

inline std::uint64_t key_of(const Record& r) { return r.first; }

/// Every output holds only keys that hash to it, and no key is in two outputs.
inline void check_keys_partitioned(const std::vector<Records>& outs) {
  std::set<std::uint64_t> seen;
  for (std::size_t j = 0; j < outs.size(); ++j) {
    std::set<std::uint64_t> here;
    for (const auto& r : outs[j]) {
      REQUIRE(tessera::shuffle_hash(r.first) % outs.size() == j);
      here.insert(r.first);
    }
    for (auto k : here) CHECK(seen.insert(k).second);
  }
}

/// A range split on the key (for the sort case): key k goes to output k * m / 997.
inline std::vector<Records> split_by_range(const Records& part, std::size_t m) {
  std::vector<Records> out(m);
  for (const auto& r : part) out[std::min<std::size_t>(r.first * m / 997, m - 1)].push_back(r);
  return out;
}
inline Records concat_sorted(std::vector<Records>&& pieces) {
  Records all = tessera::Concatenate{}(std::move(pieces));
  std::sort(all.begin(), all.end());
  return all;
}
inline std::vector<Records> split_fails_on_two(const Records& part, std::size_t m) {
  if (!part.empty() && (part.front().second >> 32) == 2) throw std::invalid_argument("no partition two");
  return split_by_range(part, m);
}
inline std::vector<Records> split_too_few(const Records& part, std::size_t m) {
  auto out = split_by_range(part, m);
  out.pop_back();
  return out;
}
inline Records combine_fails_on_many(std::vector<Records>&& pieces) {
  Records all = tessera::Concatenate{}(std::move(pieces));
  if (all.size() > 100) throw std::length_error("too many records");
  return all;
}

/// A split that fails on its first attempt. Attempts are counted as bytes appended to a file
/// (on MPI a retry may run on another rank); the path travels in the (trivially copyable) object.
struct SplitFailsFirstTime {
  std::array<char, 240> log{};
  SplitFailsFirstTime() = default;  // literal task arguments are default constructible
  explicit SplitFailsFirstTime(const std::string& path) {
    REQUIRE(path.size() < log.size());
    std::copy(path.begin(), path.end(), log.begin());
  }
  std::vector<Records> operator()(const Records& part, std::size_t m) const {
    const int fd = ::open(log.data(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) throw std::runtime_error(std::string("cannot open ") + log.data());
    const auto before = ::lseek(fd, 0, SEEK_END);
    const bool wrote = ::write(fd, "x", 1) == 1;
    ::close(fd);
    if (!wrote) throw std::runtime_error("cannot write the attempt log");
    if (before == 0) throw std::runtime_error("first attempt fails");
    return split_by_range(part, m);
  }
};

/// Counts finished tasks by name while registered (on MPI, rank 0 observes the workers' tasks).
struct CountTasks final : tessera::Observer {
  std::mutex mutex;
  std::map<std::string, int, std::less<>> by_name;
  void on_task_done(const tessera::TaskEvent& e) override {
    std::lock_guard lock(mutex);
    ++by_name[std::string(e.name)];
  }
  int tasks(const std::string& name) {
    std::lock_guard lock(mutex);
    auto it = by_name.find(name);
    return it == by_name.end() ? 0 : it->second;
  }
};

inline int configured_retries() {
  const char* env = std::getenv("TESSERA_TASK_RETRIES");
  return env ? std::atoi(env) : 0;
}

}  // namespace shuffle_suite

TEST_CASE_TEMPLATE("a hash shuffle of skewed keys delivers every record exactly once, M != N", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  tessera::SyncScheduler oracle;
  for (std::size_t m : {std::size_t{5}, std::size_t{1}, std::size_t{13}}) {
    CAPTURE(m);
    auto outs = tessera::hash_shuffle(inputs(8, 2000, true), m, &key_of, {.name = "skewed"});
    REQUIRE(outs.size() == m);
    const auto got = tessera::compute(outs, sched);
    CHECK(digest(got) == digest(expected_inputs(8, 2000, true)));
    check_keys_partitioned(got);
    // Key 0 holds half the records, all in one output.
    std::size_t zeros = 0;
    for (const auto& r : got[tessera::shuffle_hash(std::uint64_t{0}) % m]) zeros += r.first == 0;
    CHECK(zeros == 8 * 1000);
    CHECK(got == tessera::compute(outs, oracle));
  }
}

TEST_CASE_TEMPLATE("a shuffle with empty partitions, and more outputs than records", S, TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  tessera::SyncScheduler oracle;
  // Partitions 1, 4, 7 are empty.
  auto outs = tessera::hash_shuffle(inputs(9, 300, false, 3), 4, &key_of, {.name = "holes"});
  const auto got = tessera::compute(outs, sched);
  CHECK(digest(got) == digest(expected_inputs(9, 300, false, 3)));
  CHECK(digest(got).count == 6 * 300);
  check_keys_partitioned(got);
  CHECK(got == tessera::compute(outs, oracle));

  // Every input empty; and 3 records into 64 outputs (most outputs empty).
  auto none = tessera::hash_shuffle(inputs(4, 0, false), 3, &key_of, {.name = "none"});
  for (const auto& p : tessera::compute(none, sched)) CHECK(p.empty());
  auto sparse = tessera::hash_shuffle(inputs(1, 3, false), 64, &key_of, {.name = "sparse"});
  const auto s = tessera::compute(sparse, sched);
  CHECK(digest(s) == digest(expected_inputs(1, 3, false)));
  check_keys_partitioned(s);

  // No inputs at all: every output is the combine of no pieces.
  auto nothing = tessera::hash_shuffle(std::vector<tessera::Delayed<Records>>{}, 2, &key_of);
  for (const auto& p : tessera::compute(nothing, sched)) CHECK(p.empty());
}

TEST_CASE_TEMPLATE("a range shuffle sorts: the general split and combine", S, TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  auto outs = tessera::shuffle(inputs(6, 500, true), 3, &split_by_range, &concat_sorted, {.name = "sort"});
  const auto got = tessera::compute(outs, sched);
  Records flat;
  for (const auto& p : got) flat.insert(flat.end(), p.begin(), p.end());
  Records want;
  for (const auto& p : expected_inputs(6, 500, true)) want.insert(want.end(), p.begin(), p.end());
  std::sort(want.begin(), want.end());
  CHECK(flat == want);  // ranges in output order, each sorted: the whole is sorted
}

TEST_CASE_TEMPLATE("a shuffle is N transfers, one barrier and M unpacks", S, TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  auto outs = tessera::hash_shuffle(inputs(7, 10, false), 3, &key_of, {.name = "counted"});
  const auto by_name = tessera::TaskGraph::of(outs).count_by_name();
  CHECK(tessera::TaskGraph::of(outs).size() == 7 + 7 + 1 + 3);
  CHECK(by_name.at("counted-transfer") == 7);
  CHECK(by_name.at("counted-barrier") == 1);
  CHECK(by_name.at("counted-unpack") == 3);
  auto counts = std::make_shared<CountTasks>();
  tessera::add_global_observer(counts);
  const auto got = tessera::compute(outs, sched);
  tessera::remove_global_observer(counts);
  CHECK(digest(got) == digest(expected_inputs(7, 10, false)));
  CHECK(counts->tasks("counted-transfer") == 7);
  CHECK(counts->tasks("counted-barrier") == 1);
  CHECK(counts->tasks("counted-unpack") == 3);
}

TEST_CASE_TEMPLATE("a shuffle under a memory limit spills its pieces and reads them back", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  const auto before = shuffle_test_stats<S>();
  // 8 partitions of 1 MiB (65536 records of 16 bytes) into 4 outputs.
  auto outs = tessera::hash_shuffle(inputs(8, 65536, true), 4, &key_of, {.name = "big"});
  const auto got = tessera::compute(outs, sched);
  CHECK(digest(got) == digest(expected_inputs(8, 65536, true)));
  const auto after = shuffle_test_stats<S>();
  CHECK(after.pieces_put - before.pieces_put >= 8 * 4);
  CHECK(after.pieces_collected - before.pieces_collected == 8 * 4);
  CHECK(after.pieces_held == before.pieces_held);  // every piece was dropped once read
  if (std::getenv("TESSERA_MEMORY_LIMIT") != nullptr) {
    CHECK(after.pieces_read_back - before.pieces_read_back > 0);
  } else {
    CHECK(after.pieces_read_back == before.pieces_read_back);
  }
}

TEST_CASE_TEMPLATE("a failing split or combine names the shuffle and partition, and drops the pieces", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  const auto before = shuffle_test_stats<S>();
  auto bad_split = tessera::shuffle(inputs(4, 400, false), 3, &split_fails_on_two, &concat_sorted,
                                    {.name = "bad-split"});
  try {
    (void)tessera::compute(bad_split, sched);
    FAIL("a failing split did not fail the run");
  } catch (const tessera::TaskError& e) {
    const std::string what = e.what();
    CHECK(what.find("shuffle 'bad-split' #") != std::string::npos);
    CHECK(what.find("split of input partition 2 of 4 failed on rank ") != std::string::npos);
    CHECK(what.find("no partition two") != std::string::npos);
  }
  auto bad_combine = tessera::shuffle(inputs(4, 400, false), 3, &split_by_range, &combine_fails_on_many,
                                      {.name = "bad-combine"});
  try {
    (void)tessera::compute(bad_combine, sched);
    FAIL("a failing combine did not fail the run");
  } catch (const tessera::TaskError& e) {
    const std::string what = e.what();
    CHECK(what.find("shuffle 'bad-combine' #") != std::string::npos);
    CHECK(what.find("combine of output partition ") != std::string::npos);
    CHECK(what.find("too many records") != std::string::npos);
  }
  auto too_few = tessera::shuffle(inputs(2, 10, false), 3, &split_too_few, &concat_sorted, {.name = "too-few"});
  try {
    (void)tessera::compute(too_few, sched);
    FAIL("a split returning 2 pieces for 3 outputs did not fail the run");
  } catch (const tessera::TaskError& e) {
    CHECK(std::string(e.what()).find("returned 2 pieces for 3 outputs") != std::string::npos);
  }
  CHECK(shuffle_test_stats<S>().pieces_held == before.pieces_held);
}

TEST_CASE_TEMPLATE("the pieces of outputs that were not computed are dropped at the end of the run", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  const auto before = shuffle_test_stats<S>();
  auto outs = tessera::hash_shuffle(inputs(5, 100, false), 4, &key_of, {.name = "culled"});
  const auto first = tessera::compute(outs[0], sched);
  const auto mid = shuffle_test_stats<S>();
  CHECK(mid.pieces_put - before.pieces_put == 5 * 4);
  CHECK(mid.pieces_held == before.pieces_held);
  // Computed again, all at once, the outputs are the same (the transfers run again).
  const auto all = tessera::compute(outs, sched);
  CHECK(all[0] == first);
  CHECK(digest(all) == digest(expected_inputs(5, 100, false)));
}

TEST_CASE_TEMPLATE("retries: a transfer that failed once runs again and its records arrive once", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  const auto log = std::filesystem::temp_directory_path() /
                   ("tessera-shuffle-retry-" + std::to_string(::getpid()));
  std::filesystem::remove(log);
  // One input: its transfer fails on its first attempt.
  auto outs = tessera::shuffle(inputs(1, 300, true), 3, SplitFailsFirstTime(log.string()), &concat_sorted,
                               {.name = "retried"});
  if (configured_retries() > 0) {
    const auto got = tessera::compute(outs, sched);
    CHECK(digest(got) == digest(expected_inputs(1, 300, true)));
    CHECK(std::filesystem::file_size(log) == 2);
  } else {
    CHECK_THROWS_AS((void)tessera::compute(outs, sched), tessera::TaskError);
    CHECK(std::filesystem::file_size(log) == 1);
  }
  std::filesystem::remove(log);
}

TEST_CASE_TEMPLATE("the run summary reports each rank's shuffle traffic", S, TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  auto summary = std::make_shared<tessera::RunSummary>();
  tessera::add_global_observer(summary);
  const auto before = shuffle_test_stats<S>();
  auto outs = tessera::hash_shuffle(inputs(4, 5000, false), 3, &key_of, {.name = "observed"});
  const auto got = tessera::compute(outs, sched);
  tessera::remove_global_observer(summary);
  const auto after = shuffle_test_stats<S>();
  CHECK(digest(got) == digest(expected_inputs(4, 5000, false)));
  std::uint64_t stored = 0, sent = 0, received = 0, read_back = 0;
  for (const auto& rank : summary->report().ranks) {
    stored += rank.shuffle.bytes_stored;
    sent += rank.shuffle.bytes_sent;
    received += rank.shuffle.bytes_received;
    read_back += rank.shuffle.bytes_read_back;
  }
  CHECK(stored == after.bytes_put - before.bytes_put);
  CHECK(stored >= 4 * 5000 * sizeof(Record));
  CHECK(sent == after.bytes_sent - before.bytes_sent);
  CHECK(received == sent);
  CHECK(read_back == after.bytes_read_back - before.bytes_read_back);
  CHECK(summary->text().find("shuffle: rank") != std::string::npos);
}

TEST_CASE_TEMPLATE("retries: a failed combine is reported with its own error, also when retried", S,
                   TESSERA_TEST_SCHEDULERS) {
  using namespace shuffle_suite;
  auto sched = make_test_scheduler<S>();
  const auto before = shuffle_test_stats<S>();
  auto outs = tessera::shuffle(inputs(3, 400, false), 2, &split_by_range, &combine_fails_on_many,
                               {.name = "combine-retried"});
  try {
    (void)tessera::compute(outs, sched);
    FAIL("a failing combine did not fail the run");
  } catch (const tessera::TaskError& e) {
    const std::string what = e.what();
    CHECK(what.find("shuffle 'combine-retried' #") != std::string::npos);
    CHECK(what.find("too many records") != std::string::npos);
    if (configured_retries() > 0) CHECK(what.find("an earlier attempt consumed its pieces") != std::string::npos);
  }
  CHECK(shuffle_test_stats<S>().pieces_held == before.pieces_held);
}
