// Stable LSD radix sort of (key, row) by 16-bit digits; the buckets of the bucket sort.
#include "collections/dataframe/radix_sort.hpp"

#include <array>
#include <bit>
#include <utility>

namespace tessera::dataframe::detail {

std::uint64_t ordered_key(double v) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(v == 0 ? 0.0 : v);
  return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

void radix_sort(std::vector<std::uint64_t>& keys, std::vector<std::uint32_t>& rows) {
  const std::size_t n = keys.size();
  std::vector<std::uint64_t> k2(n);
  std::vector<std::uint32_t> r2(n);
  std::vector<std::size_t> count(1 << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (const auto k : keys) ++count[(k >> shift) & 0xffff];
    if (n == 0 || count[(keys[0] >> shift) & 0xffff] == n) continue;  // one digit: nothing moves
    std::size_t sum = 0;
    for (auto& c : count) {
      const std::size_t here = c;
      c = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = count[(keys[i] >> shift) & 0xffff]++;
      k2[at] = keys[i];
      r2[at] = rows[i];
    }
    keys.swap(k2);
    rows.swap(r2);
  }
}

namespace {

/// Stable insertion sort of a small bucket by key.
void insertion_sort(std::span<std::uint64_t> keys, std::span<std::uint32_t> rows) {
  for (std::size_t i = 1; i < keys.size(); ++i) {
    const std::uint64_t k = keys[i];
    const std::uint32_t r = rows[i];
    std::size_t j = i;
    for (; j > 0 && keys[j - 1] > k; --j) {
      keys[j] = keys[j - 1];
      rows[j] = rows[j - 1];
    }
    keys[j] = k;
    rows[j] = r;
  }
}

/// Stable LSD radix sort of one bucket on the bits below `shift`, 8 bits per pass (skipping
/// passes where every key has the same digit), through scratch of at least the bucket's size.
void radix_bucket(std::span<std::uint64_t> keys, std::span<std::uint32_t> rows, unsigned shift,
                  std::span<std::uint64_t> k2, std::span<std::uint32_t> r2) {
  const std::size_t n = keys.size();
  std::uint64_t* from_k = keys.data();
  std::uint32_t* from_r = rows.data();
  std::uint64_t* to_k = k2.data();
  std::uint32_t* to_r = r2.data();
  std::array<std::size_t, 256> count{};
  for (unsigned s = 0; s < shift; s += 8) {
    count.fill(0);
    for (std::size_t i = 0; i < n; ++i) ++count[(from_k[i] >> s) & 0xff];
    if (count[(from_k[0] >> s) & 0xff] == n) continue;  // one digit: nothing moves
    std::size_t sum = 0;
    for (auto& c : count) sum += std::exchange(c, sum);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = count[(from_k[i] >> s) & 0xff]++;
      to_k[at] = from_k[i];
      to_r[at] = from_r[i];
    }
    std::swap(from_k, to_k);
    std::swap(from_r, to_r);
  }
  if (from_k != keys.data()) {
    std::copy_n(from_k, n, keys.data());
    std::copy_n(from_r, n, rows.data());
  }
}

}  // namespace

void sort_buckets(std::span<std::uint64_t> keys, std::span<std::uint32_t> rows, const std::vector<std::size_t>& starts,
                  unsigned shift) {
  std::size_t largest = 0;
  for (std::size_t b = 0; b + 1 < starts.size(); ++b) largest = std::max(largest, starts[b + 1] - starts[b]);
  std::vector<std::uint64_t> k2(largest > small_bucket_rows ? largest : 0);
  std::vector<std::uint32_t> r2(k2.size());
  for (std::size_t b = 0; b + 1 < starts.size(); ++b) {
    const std::size_t at = starts[b], len = starts[b + 1] - at;
    if (len < 2) continue;
    auto k = keys.subspan(at, len);
    auto r = rows.subspan(at, len);
    if (len <= small_bucket_rows) insertion_sort(k, r);
    else radix_bucket(k, r, shift, k2, r2);
  }
}

}  // namespace tessera::dataframe::detail
