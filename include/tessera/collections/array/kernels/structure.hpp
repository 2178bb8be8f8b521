#pragma once

/// @file
/// Structural kernels on one NDArray chunk: transpose (cache-blocked), basic slicing with steps,
/// concatenate/stack, matmul/tensordot through OpenBLAS, and copy_into, which assembles chunks
/// into a bigger array for compute().

#include <tessera/collections/array/ndarray.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tessera {

/// Permutes axes (empty `axes` reverses them, as np.transpose). Returns a C-contiguous copy.
/// Throws: ShapeError if `axes` is not a permutation of 0..ndim-1 (negative allowed).
NDArray transpose(const NDArray& a, const std::vector<int>& axes = {});

/// a + b.T for 2-d a of shape (n, m) and b of shape (m, n) in one cache-tiled pass (no
/// transposed temporary), with NumPy's add semantics: dtypes promoted, integers wrap, bool is or.
/// Throws: ShapeError if an operand is not 2-d or b's shape is not a's reversed.
NDArray add_transposed(const NDArray& a, const NDArray& b);

/// Python slice start:stop:step of one axis; unset bounds mean "from the end in the step's
/// direction" exactly as Python.
struct Slice {
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> stop;
  std::int64_t step = 1;
};

/// Resolves `s` on an axis of `extent`: (first index, count, step), as PySlice_AdjustIndices.
/// Throws: ShapeError if step is 0.
struct SliceRange {
  std::int64_t start = 0;
  std::int64_t count = 0;
  std::int64_t step = 1;
};
SliceRange resolve(const Slice& s, std::int64_t extent);

/// a[s0, s1, ...] as a copy; missing trailing slices take the whole axis.
/// Throws: ShapeError for more slices than axes or a zero step.
NDArray slice(const NDArray& a, const std::vector<Slice>& slices);

/// Joins arrays along an existing `axis` (dtypes promoted as NumPy).
/// Throws: ShapeError naming the first mismatching shape, or for an empty list.
NDArray concatenate(std::span<const NDArray> arrays, int axis = 0);
/// Joins arrays along a new `axis`. Throws: ShapeError if shapes differ.
NDArray stack(std::span<const NDArray> arrays, int axis = 0);

/// NumPy matmul for 1-d and 2-d operands (float32 -> sgemm, float64 -> dgemm through
/// OpenBLAS; integer and bool operands use an exact loop).
/// Throws: ShapeError "matmul: mismatch in core dimension ... (n,k) @ (k2,m)".
NDArray matmul(const NDArray& a, const NDArray& b);
/// np.tensordot(a, b, axes=n): sums over the last n axes of a and the first n of b.
NDArray tensordot(const NDArray& a, const NDArray& b, int n = 2);
/// np.tensordot(a, b, axes=(a_axes, b_axes)).
/// Throws: ShapeError if the summed extents differ.
NDArray tensordot(const NDArray& a, const NDArray& b, const std::vector<int>& a_axes,
                  const std::vector<int>& b_axes);

/// Copies `src` into the block of `dst` starting at `dst_offsets` (converting dtype).
/// Throws: ShapeError if the block does not fit; Error if dst's buffer is shared.
void copy_into(NDArray& dst, const std::vector<std::int64_t>& dst_offsets, const NDArray& src);

}  // namespace tessera
