// Stable LSD radix sort of (key, row) by 16-bit digits.
#include "collections/dataframe/radix_sort.hpp"

#include <array>
#include <bit>

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

}  // namespace tessera::dataframe::detail
