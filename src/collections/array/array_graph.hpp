#pragma once

// Private to the Array's graph construction (array*.cpp): the state behind an Array, what a
// chunk task evaluates, chunk-grid arithmetic, and the shared pieces of fusion (elementwise
// expressions over aligned operands) and tree reduction. Not installed.

#include <tessera/collections/array/array.hpp>

#include "collections/array/chunk_grid.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace tessera {

namespace detail {

/// Either a materialized chunk grid (`blocks`) or a pending elementwise expression: `program`
/// over `inputs`, each materialized and chunked like this array (broadcast axes: one chunk).
struct ArrayState {
  Shape shape;
  DType dtype = DType::float64;
  Chunks chunks;
  std::vector<Delayed<NDArray>> blocks;
  bool pending = false;
  ElementwiseProgram program;
  std::vector<Array> inputs;
  mutable std::mutex mutex;                                      // guards `materialized`
  mutable std::optional<std::vector<Delayed<NDArray>>> materialized;
  /// Set on the result of Array::transpose: the (materialized) source and the permutation. The
  /// blocks are still the transpose tasks, but an elementwise consumer whose chunks line up
  /// reads the source blocks directly through EvaluateView::input_axes instead.
  std::shared_ptr<const ArrayState> transpose_of;
  std::vector<int> transpose_axes;
};

/// What one chunk task of a consumer evaluates: its input block itself, or (fused) an
/// elementwise program over the input blocks.
struct BlockExpr {
  bool fused = false;
  ElementwiseProgram program;
  Shape shape;
  /// Per input slot: the axis permutation it is read through (empty: as it is; see
  /// EvaluateView::input_axes). Empty if no input is a transposed view.
  std::vector<std::vector<int>> input_axes;
  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar& fused& program& shape& input_axes;
  }
};


}  // namespace detail

/// Helpers of the Array's graph construction, shared by array*.cpp.
namespace array_graph {

using detail::ArrayState;
using detail::BlockExpr;
using detail::block_offset;
using detail::block_shape;
using detail::unravel;
using Blocks = std::vector<Delayed<NDArray>>;

// ---- chunk-grid helpers ------------------------------------------------------------------------

inline std::vector<std::int64_t> offsets_of(const std::vector<std::int64_t>& c) {
  std::vector<std::int64_t> o(c.size() + 1, 0);
  for (std::size_t i = 0; i < c.size(); ++i) o[i + 1] = o[i] + c[i];
  return o;
}

inline Shape grid_shape(const Chunks& chunks) {
  Shape g;
  for (const auto& c : chunks) g.push_back(static_cast<std::int64_t>(c.size()));
  return g;
}

inline std::int64_t grid_size(const Shape& g) {
  std::int64_t n = 1;
  for (auto e : g) n *= e;
  return n;
}

inline std::int64_t ravel(const Shape& idx, const Shape& g) {
  std::int64_t i = 0;
  for (std::size_t d = 0; d < g.size(); ++d) i = i * g[d] + idx[d];
  return i;
}

inline std::shared_ptr<ArrayState> new_state(Shape shape, DType dtype, Chunks chunks) {
  auto s = std::make_shared<ArrayState>();
  s->shape = std::move(shape);
  s->dtype = dtype;
  s->chunks = std::move(chunks);
  return s;
}

inline std::uint8_t code_of(DType t) { return static_cast<std::uint8_t>(t); }

/// The chunk task body of a block: its input itself, or the fused program over the inputs.
NDArray eval_block(const BlockExpr& e, const std::vector<NDArray>& ins);

/// The task body of a reshaped block (array_restructure.cpp; stack uses it too).
NDArray reshape_block(const NDArray& a, const Shape& shape);

// ---- fusion (array_fusion.cpp) -------------------------------------------------------------------

/// Common refinement of several chunkings of one axis.
std::vector<std::int64_t> refine(const std::vector<std::vector<std::int64_t>>& options);
/// Chunks an operand of `shape` needs to line up with an output of (out_shape, out_chunks).
Chunks target_chunks(const Shape& shape, const Shape& out_shape, const Chunks& out_chunks);
/// `x` as a pending one-program state (a materialized array: a one-input program).
std::shared_ptr<ArrayState> pending_state(const Array& x);
/// `x` rechunked (or, pending, its inputs aligned) to `target`.
Array align(const Array& x, const Chunks& target);
/// Whether `a` and `b` are the same blocks (so a fused program reads them once).
bool same_array(const Array& a, const Array& b);
/// For each block of `a`: the expression to evaluate and its input blocks.
std::vector<std::pair<BlockExpr, Blocks>> block_sources(const Array& a);

/// An operand of an elementwise expression: an array (pending or not) or a scalar.
struct Operand {
  std::optional<Array> array;
  Scalar scalar = 0.0;
};

/// Builds the pending array op(operands...) given a way to combine the operand programs.
template <class Combine>
Array elementwise(const std::vector<Operand>& ops, Combine&& combine) {
  // Output shape and unified chunks.
  Shape out;
  bool first = true;
  for (const auto& o : ops) {
    if (!o.array) continue;
    out = first ? o.array->shape() : broadcast_shapes(out, o.array->shape());
    first = false;
  }
  Chunks chunks(out.size());
  for (std::size_t d = 0; d < out.size(); ++d) {
    std::vector<std::vector<std::int64_t>> options;
    for (const auto& o : ops) {
      if (!o.array) continue;
      const auto& s = o.array->shape();
      const std::size_t off = out.size() - s.size();
      if (d >= off && s[d - off] == out[d]) options.push_back(o.array->chunks()[d - off]);
    }
    chunks[d] = options.empty() ? std::vector<std::int64_t>{out[d]} : refine(options);
  }
  auto st = new_state(out, DType::float64, chunks);
  st->pending = true;
  std::vector<ElementwiseProgram> programs;
  for (const auto& o : ops) {
    if (!o.array) {
      programs.push_back(ElementwiseProgram::scalar(o.scalar));
      continue;
    }
    auto ps = pending_state(align(*o.array, target_chunks(o.array->shape(), out, chunks)));
    std::vector<int> slots;
    for (const auto& in : ps->inputs) {
      int slot = -1;
      for (std::size_t k = 0; k < st->inputs.size(); ++k) {
        if (same_array(st->inputs[k], in)) slot = static_cast<int>(k);
      }
      if (slot < 0) {
        slot = static_cast<int>(st->inputs.size());
        st->inputs.push_back(in);
      }
      slots.push_back(slot);
    }
    programs.push_back(ps->program.remap_inputs(slots));
  }
  st->program = combine(programs);
  st->dtype = st->program.dtype();
  return Array(std::shared_ptr<const ArrayState>(std::move(st)));
}

// ---- tree reduction (array_reduce.cpp) -----------------------------------------------------------

/// Reduces each output block's list of partials with combine tasks of fan-in `k` until at
/// most k are left, then one final task.
template <class P, class CombineFn, class FinalFn>
Blocks tree_reduce(const std::vector<std::vector<Delayed<P>>>& groups, int k, CombineFn&& combine,
                   FinalFn&& final_task) {
  Blocks out;
  for (auto parts : groups) {
    while (static_cast<int>(parts.size()) > k) {
      std::vector<Delayed<P>> next;
      for (std::size_t i = 0; i < parts.size(); i += static_cast<std::size_t>(k)) {
        const std::size_t e = std::min(parts.size(), i + static_cast<std::size_t>(k));
        if (e - i == 1) {
          next.push_back(parts[i]);
        } else {
          next.push_back(combine(std::vector<Delayed<P>>(parts.begin() + static_cast<std::ptrdiff_t>(i),
                                                         parts.begin() + static_cast<std::ptrdiff_t>(e))));
        }
      }
      parts = std::move(next);
    }
    out.push_back(final_task(parts, out.size()));
  }
  return out;
}

/// Reduction layout: which input blocks go to which output block, and the output chunks.
struct ReduceLayout {
  std::vector<int> axes;
  Shape out_shape;
  Chunks out_chunks;
  std::vector<std::vector<std::int64_t>> members;  // input block indices per output block
};

ReduceLayout reduce_layout(const Array& a, std::vector<int> axes, bool keepdims, const char* op,
                           bool skip_empty);
Shape out_block_shape(const ReduceLayout& L, std::size_t j);
/// Throws ShapeError unless k >= 2.
void check_split_every(int k);
Array simple_reduce(const Array& a, ReduceOp op, const std::vector<int>& axes, ReduceOptions o,
                    const char* name);
/// kind 0: mean, 1: var, 2: std.
Array moment_reduce(const Array& a, int kind, const std::vector<int>& axes, double ddof,
                    ReduceOptions o);
Array arg_reduce(const Array& a, std::optional<int> axis, ReduceOptions o, bool is_max);
/// Task bodies of a reduction's combine and aggregate steps (matmul sums its products so).
NDArray combine_reduce(const std::vector<NDArray>& parts, std::uint8_t op);
NDArray final_reduce(const std::vector<NDArray>& parts, std::uint8_t op, const Shape& out,
                     std::uint8_t dtype);

}  // namespace array_graph
}  // namespace tessera
