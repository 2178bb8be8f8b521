#pragma once

// Private helpers shared by the array kernels: value casts with NumPy-like (defined) behaviour,
// dtype dispatch over pairs, shape utilities.

#include <tessera/collections/array/ndarray.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace tessera::detail {

/// Converts like NumPy on x86: bool is != 0; NaN or out-of-range float -> int gives the int
/// type's minimum (uint8: via int64, wrapping); ints narrow by wrapping.
template <class To, class From>
inline To cast_value(From v) noexcept {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (std::is_same_v<To, std::uint8_t>) {
      return static_cast<std::uint8_t>(static_cast<std::uint64_t>(cast_value<std::int64_t>(v)));
    } else {
      constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
      constexpr double hi = -lo;  // 2^(bits-1)
      const double d = static_cast<double>(v);
      return (d >= lo && d < hi) ? static_cast<To>(d) : std::numeric_limits<To>::min();
    }
  } else {
    return static_cast<To>(v);
  }
}

/// Converts `n` elements from `src` (dtype `from`) to `dst` (dtype `to`).
void convert(const void* src, DType from, void* dst, DType to, std::int64_t n);

/// Shape of dimension i counted from the end (1 when the shape is shorter).
inline std::int64_t dim_from_end(const Shape& s, std::size_t i) {
  return i < s.size() ? s[s.size() - 1 - i] : 1;
}

/// Normalizes an axis (negative counts from the end). Throws ShapeError naming op and shape.
int normalize_axis(int axis, int ndim, const char* op, const Shape& shape);

/// B[i*ldb + j] = A[j*lda + i] for i < ni, j < nj (B = A^T of a strided A) for items of `item`
/// bytes (1, 4 or 8): the cache-tiled transpose kernel (AVX2 register micro-tiles where the CPU
/// has them). Defined in structure.cpp.
void transpose_tile(const void* a, std::int64_t lda, void* b, std::int64_t ldb, std::int64_t ni,
                    std::int64_t nj, std::size_t item);

}  // namespace tessera::detail
