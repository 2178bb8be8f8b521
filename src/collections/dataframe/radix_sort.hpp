#pragma once

// Internal: stable sorts of rows by 64-bit order-preserving keys (one numeric sort column): an
// LSD radix sort, 16 bits per pass, skipping passes where every key has the same digit; and a
// bucket sort that reads its keys where they lie (the pieces of a shuffle) and needs no second
// buffer of the whole input.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace tessera::dataframe::detail {

/// The key of an int64 whose unsigned order is the signed order.
inline std::uint64_t ordered_key(std::int64_t v) noexcept {
  return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
}
/// The key of a non-NaN double whose unsigned order is the numeric order (-0.0 before 0.0 is
/// avoided: -0.0 is mapped as 0.0).
std::uint64_t ordered_key(double v) noexcept;

/// rows sorted by keys[k] (rows[k] is row k's id), stably.
void radix_sort(std::vector<std::uint64_t>& keys, std::vector<std::uint32_t>& rows);

/// Buckets of at most this many rows are insertion-sorted (no scratch).
inline constexpr std::size_t small_bucket_rows = 32;

/// The shift that puts the 16 highest bits in which keys in [lo, hi] differ lowest.
inline unsigned bucket_shift(std::uint64_t lo, std::uint64_t hi) noexcept {
  const auto width = static_cast<unsigned>(std::bit_width(lo ^ hi));
  return width > 16 ? width - 16 : 0;
}
/// Sorts each bucket of (keys, rows) on the key bits below `shift` (the bits at and above it are
/// equal within a bucket), stably; bucket b is [starts[b], starts[b + 1]). Allocates 12 B a row of
/// the largest bucket over small_bucket_rows as scratch.
void sort_buckets(std::span<std::uint64_t> keys, std::span<std::uint32_t> rows, const std::vector<std::size_t>& starts,
                  unsigned shift);

/// Sorts n rows by key, stably, into `keys` and `rows` (resized to n), without a second buffer of
/// the whole input: one pass finds the keys' range, one counts the rows in each of 2^16 buckets of
/// the 16 highest bits that differ, one puts each (key, row) at its bucket's next place, then each
/// bucket is sorted on its lower bits (sort_buckets). each(f) calls f(key, row) for the n rows in
/// input order, the same way on every call. reserve(bytes) is called before the scratch of
/// sort_buckets is allocated (to charge it; not called when there is none).
template <class Each, class Reserve>
void bucket_sort(std::size_t n, const Each& each, const Reserve& reserve, std::vector<std::uint64_t>& keys,
                 std::vector<std::uint32_t>& rows) {
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
  each([&](std::uint64_t k, std::uint32_t) {
    lo = std::min(lo, k);
    hi = std::max(hi, k);
  });
  const unsigned shift = bucket_shift(lo, hi);
  std::vector<std::size_t> starts((std::size_t{1} << 16) + 1, 0);
  each([&](std::uint64_t k, std::uint32_t) { ++starts[((k >> shift) & 0xffff) + 1]; });
  std::size_t largest = 0;
  for (std::size_t b = 1; b < starts.size(); ++b) {
    largest = std::max(largest, starts[b]);
    starts[b] += starts[b - 1];
  }
  keys.resize(n);
  rows.resize(n);
  std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
  each([&](std::uint64_t k, std::uint32_t r) {
    const std::size_t at = next[(k >> shift) & 0xffff]++;
    keys[at] = k;
    rows[at] = r;
  });
  if (shift == 0) return;  // a bucket's keys are equal
  if (largest > small_bucket_rows) reserve(largest * (sizeof(std::uint64_t) + sizeof(std::uint32_t)));
  sort_buckets(keys, rows, starts, shift);
}

}  // namespace tessera::dataframe::detail
