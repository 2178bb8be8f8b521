#pragma once

// Internal: a stable LSD radix sort of rows by 64-bit order-preserving keys (one numeric sort
// column), 16 bits per pass, skipping passes where every key has the same digit.

#include <cstdint>
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

}  // namespace tessera::dataframe::detail
