#pragma once

/// @file
/// tessera::Array: Dask Array in C++. A lazy, chunked N-d array with a runtime dtype, holding a
/// grid of `Delayed<NDArray>` chunk tasks (C order over the block grid). Nothing runs until
/// compute() or persist().
///
/// @code
/// namespace ta = tessera::array;
/// auto x = ta::random::normal(42, 0.0, 0.1, {1000, 1000}, {250, 250});   // 16 chunk tasks
/// auto y = (x + 1.0) * 2.0 - tessera::sqrt(tessera::abs(x));             // still 16: fused
/// auto m = y.mean();                                                      // 0-d Array
/// double v = tessera::compute(m).at<double>();
/// auto col = tessera::compute(y.sum({0}), tessera::SyncScheduler{});      // (1000,)
/// @endcode
///
/// Chunks. `Chunks` lists, per axis, the extent of each chunk along that axis (Dask's
/// `chunks`): {{3, 3, 1}, {4}} is a 7x4 array in three row blocks. `regular_chunks(shape,
/// {3, 4})` builds it from a chunk shape (a chunk size <= 0 means the whole axis).
///
/// Fusion. Elementwise operations (arithmetic, comparisons, math functions, where, clip,
/// astype) do not create tasks: the result is a *pending* array, an ElementwiseProgram over
/// materialized input arrays. Composing pending arrays composes their programs, so a chain of
/// elementwise operations becomes ONE task per output chunk when something consumes it
/// (reductions evaluate the program inside their per-chunk partial task; other consumers
/// materialize it first). Inputs with different chunkings are rechunked to the common
/// refinement of their chunk boundaries, as dask's unify_chunks. A reduction evaluates a big
/// fused chunk in windows of rows (about 1 MiB each) and reduces each window, so the fused
/// expression is never held as a whole chunk.
///
/// Reductions are tree reductions: one partial task per chunk, then combine tasks of at most
/// `split_every` (default 4, as `dask.config` "split_every") inputs until at most
/// `split_every` partials are left per output chunk, and one aggregate task per output chunk
/// that combines and finalizes them. So 4 chunks reduce as 4 partials -> 1 aggregate, and N
/// chunks in depth ceil(log_4 N). mean/var/std are count-weighted (Chan et al.'s combine).
///
/// Errors in shapes, dtypes, axes and chunks are thrown when the expression is BUILT, as
/// tessera::ShapeError (or its subclass DTypeError) naming the shapes involved.
///
/// Thread safety: Array is an immutable value type (a shared handle); const members may be
/// called concurrently.
/// Collective: with the MPI scheduler, build and compute arrays on rank 0 only (the driver).

#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/collections/array/kernels/reductions.hpp>
#include <tessera/collections/array/kernels/structure.hpp>
#include <tessera/collections/array/ndarray.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/compute.hpp>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tessera {

/// Per-axis chunk extents (Dask's `chunks`): chunks[axis] lists the extent of every chunk along
/// that axis; the sum along an axis is the axis' extent.
using Chunks = std::vector<std::vector<std::int64_t>>;

/// Chunks of `shape` cut into blocks of `chunk_shape` (the last block along an axis may be
/// smaller; a chunk extent <= 0 takes the whole axis; an extent-0 axis has one empty chunk).
/// Throws: ShapeError if chunk_shape has another length than shape.
Chunks regular_chunks(const Shape& shape, const Shape& chunk_shape);
/// Checks that `chunks` describes `shape` (same rank, non-negative extents summing to the axis
/// extent, at least one chunk per axis). Throws: ShapeError naming shape and chunks.
void validate_chunks(const Chunks& chunks, const Shape& shape, const char* where);
/// Writes chunks as Dask prints them: "((3, 3, 1), (4,))".
std::string to_string(const Chunks& chunks);

/// Default number of inputs per combine task of tree reductions (Dask's default).
inline constexpr int default_split_every = 4;

/// Options of the reductions.
struct ReduceOptions {
  bool keepdims = false;
  int split_every = default_split_every;  ///< fan-in of each combine task (>= 2)
};

class Array;

namespace detail {
struct ArrayState;
struct ArrayAccess;
}  // namespace detail

/// A lazy chunked N-d array; see the file comment.
class Array {
public:
  /// A 0-d float64 zero in one chunk (a literal task).
  Array();

  /// An array made of existing chunk tasks: `blocks` in C order over the block grid given by
  /// `chunks` (each block of the extents chunks prescribe and of `dtype`; not checked until
  /// computed). Throws: ShapeError if chunks do not describe shape or the block count differs.
  Array(Shape shape, DType dtype, Chunks chunks, std::vector<Delayed<NDArray>> blocks);

  // ---- queries ------------------------------------------------------------------------------
  [[nodiscard]] const Shape& shape() const noexcept;
  [[nodiscard]] DType dtype() const noexcept;
  [[nodiscard]] const Chunks& chunks() const noexcept;
  [[nodiscard]] int ndim() const noexcept { return static_cast<int>(shape().size()); }
  [[nodiscard]] std::int64_t size() const;
  /// Blocks along each axis (the block grid's shape).
  [[nodiscard]] Shape numblocks() const;
  /// Total number of blocks.
  [[nodiscard]] std::int64_t nblocks() const;
  /// True if the array is a not yet materialized elementwise expression (see file comment).
  [[nodiscard]] bool is_pending() const noexcept;
  /// The chunk tasks in C order over the block grid (materializes a pending expression: one
  /// fused task per chunk). Equal calls give equal task keys.
  [[nodiscard]] std::vector<Delayed<NDArray>> blocks() const;
  /// "Array<float64, shape=(7, 4), chunks=((3, 3, 1), (4,))>" (plus " pending" if fused).
  [[nodiscard]] std::string describe() const;

  // ---- elementwise (lazy, fused) ------------------------------------------------------------
  /// This array cast to `dtype` (fused; no task if dtype is already the dtype).
  [[nodiscard]] Array astype(DType dtype) const;
  /// -x. Throws: DTypeError for bool.
  Array operator-() const;

  // ---- reductions ---------------------------------------------------------------------------
  /// Reductions over `axes` (empty = all; negative count from the end), NumPy semantics and
  /// result dtypes (see kernels/reductions.hpp). Throws: ShapeError for bad or repeated axes,
  /// for min/max/argmin/argmax of an empty set.
  [[nodiscard]] Array sum(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  [[nodiscard]] Array prod(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  [[nodiscard]] Array min(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  [[nodiscard]] Array max(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  [[nodiscard]] Array any(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  [[nodiscard]] Array all(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  /// Number of non-zero elements (int64).
  [[nodiscard]] Array count_nonzero(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  /// Number of elements reduced into each result element (int64; no task reads the data).
  [[nodiscard]] Array count(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  /// float64 mean, count-weighted over unequal chunks (NaN for an empty set).
  [[nodiscard]] Array mean(const std::vector<int>& axes = {}, ReduceOptions o = {}) const;
  /// float64 variance m2 / (n - ddof) through MomentState partials.
  [[nodiscard]] Array var(const std::vector<int>& axes = {}, double ddof = 0.0,
                          ReduceOptions o = {}) const;
  /// float64 standard deviation sqrt(var).
  [[nodiscard]] Array std(const std::vector<int>& axes = {}, double ddof = 0.0,
                          ReduceOptions o = {}) const;
  /// int64 index of the first minimum: of the flattened array (axis nullopt, a 0-d result) or
  /// along `axis`. NaN wins as in NumPy. Throws: ShapeError for an empty array or a bad axis.
  [[nodiscard]] Array argmin(std::optional<int> axis = std::nullopt, ReduceOptions o = {}) const;
  [[nodiscard]] Array argmax(std::optional<int> axis = std::nullopt, ReduceOptions o = {}) const;

  // ---- structure ----------------------------------------------------------------------------
  /// Permuted axes (empty reverses them); one transpose task per chunk. An elementwise
  /// expression over the result whose chunks line up with it (x + x.T on a square chunk grid,
  /// x.T * y with y chunked like x.T) does not use those tasks: its chunk (i, j) reads the source
  /// chunk (j, i) directly, transposed tile by tile inside the fused task.
  /// Throws: ShapeError if axes is not a permutation.
  [[nodiscard]] Array transpose(const std::vector<int>& axes = {}) const;
  /// Transposed (reversed axes).
  [[nodiscard]] Array T() const { return transpose(); }
  /// Same elements in C order with another shape (one -1 extent is inferred). Works chunk by
  /// chunk: axes merged or split must be whole chunks except the outermost of each group,
  /// whose chunks must fall on whole rows of the new grouping (trailing axes of a group are
  /// rechunked to one chunk first). Throws: ShapeError naming both shapes and the chunks.
  [[nodiscard]] Array reshape(const Shape& shape) const;
  /// Basic slicing with steps and negative indices, a[s0, s1, ...]; missing trailing slices
  /// take the whole axis. One task per non-empty output chunk (a view-free copy).
  /// Throws: ShapeError for more slices than axes or a zero step.
  [[nodiscard]] Array slice(const std::vector<Slice>& slices) const;
  /// slice().
  Array operator()(const std::vector<Slice>& slices) const { return slice(slices); }
  /// The same array with other chunks (each new chunk assembled from the old ones overlapping
  /// it; unchanged chunks are reused as they are). Throws: ShapeError for bad chunks.
  [[nodiscard]] Array rechunk(const Chunks& chunks) const;
  /// rechunk(regular_chunks(shape(), chunk_shape)).
  [[nodiscard]] Array rechunk(const Shape& chunk_shape) const;

  // ---- internals shared with free functions ---------------------------------------------------
  /// Pending form of this array (a program over materialized inputs); used by the elementwise
  /// operators. Not for users.
  [[nodiscard]] const std::shared_ptr<const detail::ArrayState>& state() const noexcept {
    return m_state;
  }
  explicit Array(std::shared_ptr<const detail::ArrayState> state) : m_state(std::move(state)) {}

private:
  std::shared_ptr<const detail::ArrayState> m_state;
};

// ---- elementwise functions (lazy, fused, NumPy broadcasting and promotion) -------------------------
/// op(a). Throws: DTypeError as kernels' result_dtype.
Array apply(UnaryOp op, const Array& a);
/// op(a, b) with broadcasting. Throws: ShapeError naming both shapes; DTypeError.
Array apply(BinaryOp op, const Array& a, const Array& b);
/// op(a, s) with a weakly typed scalar.
Array apply(BinaryOp op, const Array& a, Scalar s);
/// op(s, a) with a weakly typed scalar.
Array apply(BinaryOp op, Scalar s, const Array& a);
/// NumPy where(cond, a, b) with broadcasting of all three.
Array where(const Array& cond, const Array& a, const Array& b);
/// where with scalar branches.
Array where(const Array& cond, Scalar a, Scalar b);
/// NumPy clip(a, lo, hi) with scalar bounds.
Array clip(const Array& a, Scalar lo, Scalar hi);
/// a cast to dtype.
Array astype(const Array& a, DType dtype);

#define TESSERA_ARRAY_BINARY_OPERATOR(sym, op)                                                  \
  inline Array operator sym(const Array& a, const Array& b) { return apply(BinaryOp::op, a, b); } \
  inline Array operator sym(const Array& a, Scalar b) { return apply(BinaryOp::op, a, b); }       \
  inline Array operator sym(Scalar a, const Array& b) { return apply(BinaryOp::op, a, b); }
TESSERA_ARRAY_BINARY_OPERATOR(+, add)
TESSERA_ARRAY_BINARY_OPERATOR(-, sub)
TESSERA_ARRAY_BINARY_OPERATOR(*, mul)
TESSERA_ARRAY_BINARY_OPERATOR(/, div)
TESSERA_ARRAY_BINARY_OPERATOR(%, mod)
TESSERA_ARRAY_BINARY_OPERATOR(==, equal)
TESSERA_ARRAY_BINARY_OPERATOR(!=, not_equal)
TESSERA_ARRAY_BINARY_OPERATOR(<, less)
TESSERA_ARRAY_BINARY_OPERATOR(<=, less_equal)
TESSERA_ARRAY_BINARY_OPERATOR(>, greater)
TESSERA_ARRAY_BINARY_OPERATOR(>=, greater_equal)
TESSERA_ARRAY_BINARY_OPERATOR(&&, logical_and)
TESSERA_ARRAY_BINARY_OPERATOR(||, logical_or)
#undef TESSERA_ARRAY_BINARY_OPERATOR

#define TESSERA_ARRAY_BINARY_FUNCTION(name, op)                                                 \
  inline Array name(const Array& a, const Array& b) { return apply(BinaryOp::op, a, b); }       \
  inline Array name(const Array& a, Scalar b) { return apply(BinaryOp::op, a, b); }             \
  inline Array name(Scalar a, const Array& b) { return apply(BinaryOp::op, a, b); }
TESSERA_ARRAY_BINARY_FUNCTION(floordiv, floordiv)  // NumPy's //
TESSERA_ARRAY_BINARY_FUNCTION(pow, pow)            // NumPy's **
TESSERA_ARRAY_BINARY_FUNCTION(minimum, minimum)
TESSERA_ARRAY_BINARY_FUNCTION(maximum, maximum)
#undef TESSERA_ARRAY_BINARY_FUNCTION

inline Array operator!(const Array& a) { return apply(UnaryOp::logical_not, a); }
inline Array abs(const Array& a) { return apply(UnaryOp::abs, a); }
inline Array sqrt(const Array& a) { return apply(UnaryOp::sqrt, a); }
inline Array exp(const Array& a) { return apply(UnaryOp::exp, a); }
inline Array log(const Array& a) { return apply(UnaryOp::log, a); }
inline Array sin(const Array& a) { return apply(UnaryOp::sin, a); }
inline Array cos(const Array& a) { return apply(UnaryOp::cos, a); }
inline Array tanh(const Array& a) { return apply(UnaryOp::tanh, a); }
inline Array floor(const Array& a) { return apply(UnaryOp::floor, a); }
inline Array ceil(const Array& a) { return apply(UnaryOp::ceil, a); }
inline Array isnan(const Array& a) { return apply(UnaryOp::isnan, a); }

// ---- structure on several arrays -------------------------------------------------------------------
/// Joins arrays along an existing axis (dtypes promoted; chunks of the other axes unified).
/// Throws: ShapeError naming the first mismatching shape, or for an empty list or a bad axis.
Array concatenate(const std::vector<Array>& arrays, int axis = 0);
/// Joins equal-shaped arrays along a new axis (one chunk of extent 1 per array on it).
/// Throws: ShapeError if shapes differ.
Array stack(const std::vector<Array>& arrays, int axis = 0);
/// Matrix product of 2-d arrays: one product task per (i, j, k) block triple, then a sum tree of
/// fan-in split_every per output block. b's row chunks are rechunked to a's column chunks.
/// Throws: ShapeError "matmul: mismatch in core dimension ..." or for non-2-d operands.
Array matmul(const Array& a, const Array& b, int split_every = default_split_every);
/// matmul for 2-d arrays.
inline Array dot(const Array& a, const Array& b) { return matmul(a, b); }
/// np.tensordot for 2-d operands with one or two contracted axes (axes pairs), built from
/// transpose, matmul and (for two axes) an elementwise product and a sum.
/// Throws: ShapeError for other ranks or mismatching extents.
Array tensordot(const Array& a, const Array& b, const std::vector<int>& a_axes,
                const std::vector<int>& b_axes);
/// np.tensordot(a, b, axes=n) for 2-d operands (n = 1 or 2).
Array tensordot(const Array& a, const Array& b, int n = 2);

/// Options of map_blocks and blockwise.
struct BlockwiseOptions {
  std::string name = "map-blocks";   ///< task name prefix
  std::optional<DType> dtype = std::nullopt;    ///< result dtype (default: the first input's)
  std::optional<Chunks> chunks = std::nullopt;  ///< result chunks (default: the inputs' unified chunks)
};

namespace detail {
/// The inputs of blockwise aligned to common chunks (same shapes required).
/// Throws: ShapeError if shapes differ or the list is empty.
std::vector<Array> unify_for_blockwise(const std::vector<Array>& arrays, const char* where);
/// Result shape for chunks.
Shape shape_of_chunks(const Chunks& chunks);
}  // namespace detail

/// Applies `f(const NDArray&) -> NDArray` to every chunk (one task per chunk). The function
/// must return the chunk shape given by options.chunks (default: the input's chunks) and the
/// given dtype. For MPI, `f` must be serializable (see tessera::delayed).
template <class F>
Array map_blocks(F&& f, const Array& a, BlockwiseOptions options = {}) {
  auto fn = delayed(std::forward<F>(f), {.name = options.name, .pure = true});
  std::vector<Delayed<NDArray>> out;
  for (const auto& b : a.blocks()) out.push_back(fn(b));
  Chunks chunks = options.chunks.value_or(a.chunks());
  return Array(detail::shape_of_chunks(chunks), options.dtype.value_or(a.dtype()), chunks,
               std::move(out));
}

/// Applies `f(const std::vector<NDArray>&) -> NDArray` to the corresponding chunks of several
/// equal-shaped arrays (rechunked to common chunks first).
/// Throws: ShapeError if shapes differ.
template <class F>
Array blockwise(F&& f, const std::vector<Array>& arrays, BlockwiseOptions options = {}) {
  if (options.name == "map-blocks") options.name = "blockwise";
  auto aligned = detail::unify_for_blockwise(arrays, "blockwise");
  std::vector<std::vector<Delayed<NDArray>>> in;
  for (const auto& a : aligned) in.push_back(a.blocks());
  auto fn = delayed(std::forward<F>(f), {.name = options.name, .pure = true});
  std::vector<Delayed<NDArray>> out;
  for (std::size_t i = 0; i < in[0].size(); ++i) {
    std::vector<Delayed<NDArray>> args;
    for (const auto& v : in) args.push_back(v[i]);
    out.push_back(fn(args));
  }
  Chunks chunks = options.chunks.value_or(aligned[0].chunks());
  return Array(detail::shape_of_chunks(chunks), options.dtype.value_or(aligned[0].dtype()), chunks,
               std::move(out));
}

// ---- compute / persist -------------------------------------------------------------------------------
namespace detail {
NDArray compute_array(Scheduler& s, const Array& a);
Array persist_array(Scheduler& s, const Array& a);
/// The NDArray of `a` from its computed chunks (in blocks() order).
NDArray assemble_array(const Array& a, std::span<const Value> chunks);
template <class A>
concept ArrayArg = std::same_as<std::remove_cvref_t<A>, Array>;
}  // namespace detail

/// Runs the chunk tasks on the default scheduler, or on `scheduler` (an object or a shared_ptr)
/// if given, and assembles the chunks (copy_into on the calling process; a single chunk is
/// returned as it is).
/// Blocks: yes. Collective: with the MPI scheduler, rank 0 only. Throws: TaskError.
template <detail::ArrayArg A>
NDArray compute(A&& a) {
  return detail::compute_array(*default_scheduler(), a);
}
template <detail::ArrayArg A, class S>
  requires detail::is_scheduler_arg<std::decay_t<S>>::value
NDArray compute(A&& a, S&& scheduler) {
  return detail::compute_array(detail::as_scheduler(scheduler), a);
}
/// Computes the chunks and keeps them (in this process, or on the workers under MPI); returns an
/// Array over the persisted chunks (same keys). An optional scheduler may follow.
/// Blocks: yes. Collective: with the MPI scheduler, rank 0 only. Throws: TaskError.
template <detail::ArrayArg A>
Array persist(A&& a) {
  return detail::persist_array(*default_scheduler(), a);
}
template <detail::ArrayArg A, class S>
  requires detail::is_scheduler_arg<std::decay_t<S>>::value
Array persist(A&& a, S&& scheduler) {
  return detail::persist_array(detail::as_scheduler(scheduler), a);
}

/// compute()/persist() of several arguments (`tessera::compute(x.mean(), x.std(), d)`) see an
/// Array as its chunk tasks: everything runs as one graph and shared chunks are computed once.
template <>
struct Collection<Array> {
  using result_type = NDArray;
  static void roots(const Array& a, std::vector<detail::NodePtr>& out) {
    for (const auto& b : a.blocks()) Collection<Delayed<NDArray>>::roots(b, out);
  }
  static NDArray finalize(const Array& a, std::span<const Value> chunks) {
    return detail::assemble_array(a, chunks);
  }
  static Array rebuild(const Array& a, std::span<const detail::NodePtr> nodes) {
    std::vector<Delayed<NDArray>> blocks;
    blocks.reserve(nodes.size());
    for (const auto& n : nodes) blocks.emplace_back(n);
    return Array(a.shape(), a.dtype(), a.chunks(), std::move(blocks));
  }
};

// ---- factories -----------------------------------------------------------------------------------------
namespace array {

/// Uninitialized (here: zero-filled) array of `shape` cut into `chunks`.
Array empty(const Shape& shape, const Chunks& chunks, DType dtype = DType::float64);
/// Zeros / ones / `value` in every element; one task per distinct chunk shape (equal chunks
/// share a key and are computed once).
Array zeros(const Shape& shape, const Chunks& chunks, DType dtype = DType::float64);
Array ones(const Shape& shape, const Chunks& chunks, DType dtype = DType::float64);
Array full(const Shape& shape, double value, const Chunks& chunks, DType dtype = DType::float64);
/// The same with a regular chunk shape.
Array zeros(const Shape& shape, const Shape& chunk_shape, DType dtype = DType::float64);
Array ones(const Shape& shape, const Shape& chunk_shape, DType dtype = DType::float64);
Array full(const Shape& shape, double value, const Shape& chunk_shape, DType dtype = DType::float64);
/// NumPy arange(start, stop, step) in chunks of `chunk` elements (each chunk computed by its
/// task from its global indices). Throws: ShapeError if step is 0.
Array arange(double start, double stop, double step, std::int64_t chunk,
             DType dtype = DType::float64);
/// NumPy linspace(start, stop, num, endpoint) in chunks of `chunk` elements.
Array linspace(double start, double stop, std::int64_t num, std::int64_t chunk,
               bool endpoint = true);
/// `a` split into chunk literals (each chunk a copy held by a literal task).
Array from_ndarray(const NDArray& a, const Chunks& chunks);
Array from_ndarray(const NDArray& a, const Shape& chunk_shape);
/// from_ndarray(NDArray::from_vector(values, shape), chunk_shape).
template <class T>
Array from_vector(const std::vector<T>& values, const Shape& shape, const Shape& chunk_shape) {
  return from_ndarray(NDArray::from_vector<T>(values, shape), chunk_shape);
}

namespace random {
/// Uniform float64 in [low, high), element g a pure function of (seed, g): the same values
/// whatever the chunks, scheduler, threads or ranks. One generator task per chunk.
Array uniform(std::uint64_t seed, const Shape& shape, const Chunks& chunks, double low = 0.0,
              double high = 1.0);
Array uniform(std::uint64_t seed, const Shape& shape, const Shape& chunk_shape, double low = 0.0,
              double high = 1.0);
/// Normal float64 (mean, stddev), chunk-independent as uniform.
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape, const Chunks& chunks);
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape,
             const Shape& chunk_shape);
/// int64 in [low, high). Throws: ShapeError if high <= low.
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape,
               const Chunks& chunks);
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape,
               const Shape& chunk_shape);
}  // namespace random

}  // namespace array
}  // namespace tessera
