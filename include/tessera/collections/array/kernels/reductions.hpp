#pragma once

/// @file
/// Reductions of one NDArray chunk over a set of axes (NumPy semantics), and the partial
/// states the lazy Array layer tree-reduces across chunks: MomentState for mean/var/std
/// (Chan et al.'s stable parallel combine) and ArgResult for argmin/argmax with global indices.

#include <tessera/collections/array/ndarray.hpp>

#include <cstdint>
#include <vector>

namespace tessera {

/// Reduction operations.
enum class ReduceOp : std::uint8_t { sum, prod, min, max, any, all, count_nonzero };

/// Result dtype of `op` on `t`: sum/prod of bool and ints give int64 (tessera has no uint64),
/// of floats keep the float dtype (float32 is accumulated in float64); min/max keep `t`;
/// any/all give bool; count_nonzero gives int64.
DType result_dtype(ReduceOp op, DType t) noexcept;

/// Sorted, de-duplicated, non-negative axes; empty `axes` means all axes.
/// Throws: ShapeError naming `op` and `shape` for an out-of-range or repeated axis.
std::vector<int> normalize_axes(const std::vector<int>& axes, const Shape& shape, const char* op);

/// Shape of a reduction of `shape` over `axes` (already normalized).
Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims);

/// op over `axes` (empty = all; negative allowed), NumPy semantics: float sums are pairwise,
/// min/max propagate NaN, sum of an empty set is 0, prod 1, any false, all true.
/// Throws: ShapeError for bad axes, or for min/max over an empty set with a non-empty result.
NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int>& axes = {},
               bool keepdims = false);

/// Dtype a reduction accumulates in: float64 for sum/prod of float32, else result_dtype.
DType accumulator_dtype(ReduceOp op, DType t) noexcept;
/// reduce() with the result left in accumulator_dtype (not rounded to float32): the partials
/// of a chunked reduction, combined in that dtype and rounded once at the end, so that a
/// float32 sum is the float64 sum rounded once whatever the chunks.
/// Throws: as reduce().
NDArray reduce_to_accumulator(ReduceOp op, const NDArray& a, const std::vector<int>& axes = {},
                              bool keepdims = false);

inline NDArray sum(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::sum, a, axes, keepdims);
}
inline NDArray prod(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::prod, a, axes, keepdims);
}
inline NDArray min(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::min, a, axes, keepdims);
}
inline NDArray max(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::max, a, axes, keepdims);
}
inline NDArray any(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::any, a, axes, keepdims);
}
inline NDArray all(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false) {
  return reduce(ReduceOp::all, a, axes, keepdims);
}
inline NDArray count_nonzero(const NDArray& a, const std::vector<int>& axes = {},
                             bool keepdims = false) {
  return reduce(ReduceOp::count_nonzero, a, axes, keepdims);
}
/// Number of elements reduced into each output element (int64), as the lazy layer needs for
/// means of chunk partials.
NDArray count(const NDArray& a, const std::vector<int>& axes = {}, bool keepdims = false);

/// Per-output-element (count, mean, m2 = sum of squared deviations), all of the reduced shape.
struct MomentState {
  NDArray count;  ///< int64
  NDArray mean;   ///< float64
  NDArray m2;     ///< float64
  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar& count& mean& m2;
  }
};

/// Moments of `chunk` over `axes` (two-pass within the chunk, in float64).
/// Throws: ShapeError for bad axes.
MomentState partial_moments(const NDArray& chunk, const std::vector<int>& axes = {},
                            bool keepdims = false);
/// Chan et al.'s combine of two partial states of the same shape (count 0 is the identity).
/// Throws: ShapeError naming both shapes if they differ.
MomentState combine_moments(const MomentState& a, const MomentState& b);
/// mean (NaN where count is 0).
NDArray finalize_mean(const MomentState& s);
/// m2 / max(count - ddof, 0), as NumPy: inf where no degree of freedom is left (NaN if m2 is 0
/// or NaN, as for an empty set).
NDArray finalize_var(const MomentState& s, double ddof = 0.0);
/// sqrt(finalize_var).
NDArray finalize_std(const MomentState& s, double ddof = 0.0);

/// Best value and its global index per output element.
struct ArgResult {
  NDArray values;   ///< dtype of the input
  NDArray indices;  ///< int64, global
  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar& values& indices;
  }
};

/// argmin/argmax of `chunk` along `axis`, indices offset by `index_offset` (the chunk's start
/// along that axis in the global array). Ties pick the first index; NaN wins (as NumPy).
/// Throws: ShapeError for a bad axis or an empty axis.
ArgResult partial_argmin(const NDArray& chunk, int axis, std::int64_t index_offset = 0);
ArgResult partial_argmax(const NDArray& chunk, int axis, std::int64_t index_offset = 0);
/// argmin/argmax of the flattened global array restricted to `chunk`, which sits at
/// `chunk_offset` in an array of `global_shape`: 0-d values and global flat C-order indices.
/// Throws: ShapeError if the chunk is empty or does not fit in global_shape.
ArgResult partial_argmin_flat(const NDArray& chunk, const Shape& chunk_offset, const Shape& global_shape);
ArgResult partial_argmax_flat(const NDArray& chunk, const Shape& chunk_offset, const Shape& global_shape);
/// Combines two partials of the same shape (smaller global index wins ties).
/// Throws: ShapeError/DTypeError if shapes or dtypes differ.
ArgResult combine_argmin(const ArgResult& a, const ArgResult& b);
ArgResult combine_argmax(const ArgResult& a, const ArgResult& b);

}  // namespace tessera
