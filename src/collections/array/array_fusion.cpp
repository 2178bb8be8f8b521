// Elementwise Array expressions: operands aligned to common chunks and fused into one program per
// output block.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

namespace array_graph {

// ---- alignment (unify chunks) --------------------------------------------------------------------

/// Common refinement of several chunkings of one axis.
std::vector<std::int64_t> refine(const std::vector<std::vector<std::int64_t>>& options) {
  if (options.size() == 1) return options[0];
  std::vector<std::int64_t> bounds;
  for (const auto& c : options) {
    auto o = offsets_of(c);
    bounds.insert(bounds.end(), o.begin(), o.end());
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<std::int64_t> out;
  for (std::size_t i = 1; i < bounds.size(); ++i) out.push_back(bounds[i] - bounds[i - 1]);
  if (out.empty()) out.push_back(0);
  return out;
}

/// Chunks that an operand of `shape` needs to line up with an output of (out_shape, out_chunks)
/// under broadcasting (trailing axes aligned; broadcast axes keep one chunk).
Chunks target_chunks(const Shape& shape, const Shape& out_shape, const Chunks& out_chunks) {
  const std::size_t off = out_shape.size() - shape.size();
  Chunks c(shape.size());
  for (std::size_t j = 0; j < shape.size(); ++j) {
    c[j] = shape[j] == out_shape[j + off] ? out_chunks[j + off] : std::vector<std::int64_t>{shape[j]};
  }
  return c;
}

std::shared_ptr<ArrayState> pending_state(const Array& x) {
  // A materialized array as a one-input program.
  auto s = new_state(x.shape(), x.dtype(), x.chunks());
  s->pending = true;
  if (x.is_pending()) {
    s->program = x.state()->program;
    s->inputs = x.state()->inputs;
  } else {
    s->program = ElementwiseProgram::input(0, x.dtype());
    s->inputs = {x};
  }
  return s;
}

Array align(const Array& x, const Chunks& target) {
  if (x.chunks() == target) return x;
  if (!x.is_pending()) return x.rechunk(target);
  auto s = pending_state(x);
  s->chunks = target;
  for (auto& in : s->inputs) in = align(in, target_chunks(in.shape(), x.shape(), target));
  return Array(std::shared_ptr<const ArrayState>(std::move(s)));
}

bool same_array(const Array& a, const Array& b) {
  if (a.state() == b.state()) return true;
  if (a.is_pending() || b.is_pending() || a.shape() != b.shape() || a.chunks() != b.chunks() ||
      a.dtype() != b.dtype()) {
    return false;
  }
  const auto& x = a.state()->blocks;
  const auto& y = b.state()->blocks;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i].node() != y[i].node() && x[i].key() != y[i].key()) return false;
  }
  return true;
}

/// For each block of `a`: the expression to evaluate and its input blocks.
std::vector<std::pair<BlockExpr, Blocks>> block_sources(const Array& a) {
  std::vector<std::pair<BlockExpr, Blocks>> out;
  const auto& st = *a.state();
  const Shape g = grid_shape(st.chunks);
  const std::int64_t n = grid_size(g);
  out.reserve(static_cast<std::size_t>(n));
  if (!st.pending) {
    for (const auto& b : st.blocks) out.push_back({BlockExpr{}, Blocks{b}});
    return out;
  }
  // An input that is a transposed view (Array::transpose) is read from its source's blocks
  // through the permutation: block iidx of the view is source block sidx, sidx[axes[d]] =
  // iidx[d]. (Inputs were aligned to this array's chunks, so a view that survived alignment has
  // exactly the permuted chunks of its source.)
  std::vector<Blocks> in_blocks;
  std::vector<std::vector<int>> input_axes(st.inputs.size());
  std::vector<Shape> source_grids(st.inputs.size());
  bool any_view = false;
  for (std::size_t k = 0; k < st.inputs.size(); ++k) {
    const auto& view = st.inputs[k].state()->transpose_of;
    if (view) {
      in_blocks.push_back(view->blocks);
      input_axes[k] = st.inputs[k].state()->transpose_axes;
      source_grids[k] = grid_shape(view->chunks);
      any_view = true;
    } else {
      in_blocks.push_back(st.inputs[k].blocks());
    }
  }
  if (!any_view) input_axes.clear();
  for (std::int64_t i = 0; i < n; ++i) {
    const Shape idx = unravel(i, g);
    BlockExpr e{true, st.program, block_shape(st.chunks, idx), input_axes};
    Blocks args;
    for (std::size_t k = 0; k < st.inputs.size(); ++k) {
      const auto& in = st.inputs[k];
      const Shape ig = grid_shape(in.chunks());
      const std::size_t off = g.size() - ig.size();
      Shape iidx(ig.size());
      for (std::size_t j = 0; j < ig.size(); ++j) iidx[j] = ig[j] == 1 ? 0 : idx[j + off];
      if (any_view && !input_axes[k].empty()) {
        Shape sidx(iidx.size());
        for (std::size_t d = 0; d < iidx.size(); ++d) sidx[static_cast<std::size_t>(input_axes[k][d])] = iidx[d];
        args.push_back(in_blocks[k][static_cast<std::size_t>(ravel(sidx, source_grids[k]))]);
      } else {
        args.push_back(in_blocks[k][static_cast<std::size_t>(ravel(iidx, ig))]);
      }
    }
    out.push_back({std::move(e), std::move(args)});
  }
  return out;
}

}  // namespace array_graph

// ---- elementwise free functions ------------------------------------------------------------------------

Array apply(UnaryOp op, const Array& a) {
  return elementwise({Operand{a}}, [op](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::unary(op, p[0]);
  });
}
Array apply(BinaryOp op, const Array& a, const Array& b) {
  return elementwise({Operand{a}, Operand{b}}, [op](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::binary(op, p[0], p[1]);
  });
}
Array apply(BinaryOp op, const Array& a, Scalar s) {
  return elementwise({Operand{a}, Operand{std::nullopt, s}}, [op](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::binary(op, p[0], p[1]);
  });
}
Array apply(BinaryOp op, Scalar s, const Array& a) {
  return elementwise({Operand{std::nullopt, s}, Operand{a}}, [op](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::binary(op, p[0], p[1]);
  });
}
Array where(const Array& cond, const Array& a, const Array& b) {
  return elementwise({Operand{cond}, Operand{a}, Operand{b}}, [](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::where(p[0], p[1], p[2]);
  });
}
Array where(const Array& cond, Scalar a, Scalar b) {
  return elementwise({Operand{cond}, Operand{std::nullopt, a}, Operand{std::nullopt, b}},
                     [](const std::vector<ElementwiseProgram>& p) { return ElementwiseProgram::where(p[0], p[1], p[2]); });
}
Array clip(const Array& a, Scalar lo, Scalar hi) {
  return elementwise({Operand{a}, Operand{std::nullopt, lo}, Operand{std::nullopt, hi}},
                     [](const std::vector<ElementwiseProgram>& p) { return ElementwiseProgram::clip(p[0], p[1], p[2]); });
}
Array astype(const Array& a, DType t) {
  if (a.dtype() == t) return a;
  return elementwise({Operand{a}}, [t](const std::vector<ElementwiseProgram>& p) {
    return ElementwiseProgram::astype(p[0], t);
  });
}

}  // namespace tessera
