// Array reductions as graphs: per-block partials (windowed over fused blocks), a tree of combines,
// one aggregate per output block.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

namespace {

/// A part of a fused block that a reduction evaluates at a time: rows [r0, r1) and, for 2-d
/// blocks, columns [c0, c1) (c1 < 0: all).
struct Window {
  std::int64_t r0, r1, c0, c1;
};

/// Blocks up to this many elements are evaluated at once; bigger ones window by window.
constexpr std::int64_t window_threshold = std::int64_t{1} << 17;
/// Elements per window (1 MiB of float64: it stays in L2/L3 for its reduction).
constexpr std::int64_t window_elems = std::int64_t{1} << 17;
/// Widest window of a 2-d block.
constexpr std::int64_t window_cols = 8192;
/// Windows of more rows than this are a multiple of it (the evaluator's tile height).
constexpr std::int64_t window_row_multiple = 64;

/// Windows of a fused block of e.shape so that a reduction never holds the whole evaluated
/// chunk: bands of whole rows (the inputs' rows stream; a transposed operand is read in runs of
/// 64 elements of each source row, see evaluate()); 2-d blocks wider than window_cols in
/// windows of 8 rows. Measured on the 2-core EPYC, 12000^2 float64 in 2000^2 chunks, 2 threads,
/// (x + x.T).sum() counting both reads: 13.6-15.5 GB/s with 64- or 128-row bands, 13.4-14.5
/// with 32, 12.6-13 with 16; windows of 64 x 256-1024 (column splits) 11-12.
/// Empty: evaluate the block at once.
std::vector<Window> windows_of(const BlockExpr& e) {
  std::vector<Window> w;
  if (!e.fused || e.shape.empty()) return w;
  const std::int64_t total = shape_size(e.shape);
  if (total <= window_threshold) return w;
  const std::int64_t R = e.shape[0];
  if (e.shape.size() == 2 && e.shape[1] > window_cols) {
    const std::int64_t C = e.shape[1];
    for (std::int64_t r = 0; r < R; r += 8) {
      for (std::int64_t c = 0; c < C; c += window_cols) w.push_back({r, std::min(R, r + 8), c, std::min(C, c + window_cols)});
    }
    return w;
  }
  const std::int64_t row = total / R;
  std::int64_t rows = std::max<std::int64_t>(1, window_elems / row);
  if (rows > window_row_multiple) rows -= rows % window_row_multiple;
  for (std::int64_t r = 0; r < R; r += rows) w.push_back({r, std::min(R, r + rows), 0, -1});
  return w;
}

/// Reduces a fused block window by window. part(window) reduces one evaluated window over
/// `axes` (keepdims) to an R; when every axis is reduced the parts are folded with
/// combine(acc, part), otherwise they are placed into acc = start() at their offset in the
/// reduced block (place(acc, part, offset)), combined with what an earlier window left there
/// (extract(acc, offset, part)) when a reduced axis is split into several windows.
template <class R, class Part, class Combine, class Start, class Place, class Extract>
R reduce_windows(const BlockExpr& e, const std::vector<NDArray>& ins, const std::vector<int>& axes,
                 const std::vector<Window>& windows, Part&& part, Combine&& combine, Start&& start,
                 Place&& place, Extract&& extract) {
  const std::size_t nd = e.shape.size();
  std::vector<bool> red(nd, axes.empty());
  for (int a : axes) red[static_cast<std::size_t>(a)] = true;
  const bool all = std::all_of(red.begin(), red.end(), [](bool b) { return b; });
  std::optional<R> acc;
  for (const auto& w : windows) {
    R p = part(evaluate(e.program, ins, e.shape, EvaluateView{e.input_axes, w.r0, w.r1, w.c0, w.c1, true}));
    if (all) {
      acc = acc ? combine(std::move(*acc), p) : std::move(p);
      continue;
    }
    if (!acc) acc = start();
    std::vector<std::int64_t> off(nd, 0);
    off[0] = red[0] ? 0 : w.r0;
    bool first = !red[0] || w.r0 == 0;
    if (w.c1 >= 0) {
      off[1] = red[1] ? 0 : w.c0;
      first = first && (!red[1] || w.c0 == 0);
    }
    if (first) {
      place(*acc, p, off);
    } else {
      place(*acc, combine(extract(*acc, off, p), p), off);
    }
  }
  return std::move(*acc);
}

/// The block of `like`'s shape at `off` in `a`.
NDArray window_of(const NDArray& a, const std::vector<std::int64_t>& off, const NDArray& like) {
  std::vector<Slice> sl;
  for (std::size_t d = 0; d < off.size(); ++d) sl.push_back(Slice{off[d], off[d] + like.shape()[d], 1});
  return slice(a, sl);
}

}  // namespace

namespace array_graph {

BinaryOp combine_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::count_nonzero: return BinaryOp::add;
    case ReduceOp::prod: return BinaryOp::mul;
    case ReduceOp::min: return BinaryOp::minimum;
    case ReduceOp::max: return BinaryOp::maximum;
    case ReduceOp::any: return BinaryOp::logical_or;
    case ReduceOp::all: return BinaryOp::logical_and;
  }
  return BinaryOp::add;
}

NDArray fold(const std::vector<NDArray>& parts, std::uint8_t op) {
  NDArray acc = parts.at(0);
  const auto bop = combine_op(static_cast<ReduceOp>(op));
  for (std::size_t i = 1; i < parts.size(); ++i) acc = apply(bop, acc, parts[i]);
  return acc;
}

NDArray partial_reduce(const BlockExpr& e, const std::vector<NDArray>& ins, std::uint8_t op,
                       const std::vector<int>& axes) {
  const auto rop = static_cast<ReduceOp>(op);
  const auto windows = windows_of(e);
  // Partials stay in the accumulator dtype (float64 for a float32 sum) until final_reduce.
  if (windows.empty()) return reduce_to_accumulator(rop, eval_block(e, ins), axes, true);
  const Shape out_shape = reduced_shape(e.shape, axes, true);
  return reduce_windows<NDArray>(
      e, ins, axes, windows, [&](const NDArray& w) { return reduce_to_accumulator(rop, w, axes, true); },
      [&](const NDArray& acc, const NDArray& p) { return apply(combine_op(rop), acc, p); },
      [&] { return NDArray::empty(out_shape, accumulator_dtype(rop, e.program.dtype())); },
      [](NDArray& acc, const NDArray& p, const std::vector<std::int64_t>& off) { copy_into(acc, off, p); },
      window_of);
}
NDArray combine_reduce(const std::vector<NDArray>& parts, std::uint8_t op) { return fold(parts, op); }
NDArray final_reduce(const std::vector<NDArray>& parts, std::uint8_t op, const Shape& out, std::uint8_t dtype) {
  return fold(parts, op).reshape(out).astype(static_cast<DType>(dtype));
}

MomentState partial_moments_block(const BlockExpr& e, const std::vector<NDArray>& ins,
                                  const std::vector<int>& axes, bool mean_only) {
  const auto windows = windows_of(e);
  auto as_f64 = [](const NDArray& x) { return x.dtype() == DType::float64 ? x : x.astype(DType::float64); };
  const Shape out_shape = reduced_shape(e.shape, axes, true);
  auto place = [](NDArray& acc, const NDArray& p, const std::vector<std::int64_t>& off) { copy_into(acc, off, p); };
  if (!mean_only && !windows.empty()) {
    // Chan's combine of the windows' moments.
    return reduce_windows<MomentState>(
        e, ins, axes, windows, [&](const NDArray& w) { return partial_moments(w, axes, true); },
        [](const MomentState& acc, const MomentState& p) { return combine_moments(acc, p); },
        [&] {
          return MomentState{NDArray::empty(out_shape, DType::int64), NDArray::empty(out_shape, DType::float64),
                             NDArray::empty(out_shape, DType::float64)};
        },
        [&](MomentState& acc, const MomentState& p, const std::vector<std::int64_t>& off) {
          place(acc.count, p.count, off);
          place(acc.mean, p.mean, off);
          place(acc.m2, p.m2, off);
        },
        [](const MomentState& acc, const std::vector<std::int64_t>& off, const MomentState& p) {
          return MomentState{window_of(acc.count, off, p.count), window_of(acc.mean, off, p.mean),
                             window_of(acc.m2, off, p.m2)};
        });
  }
  if (!mean_only) return partial_moments(eval_block(e, ins), axes, true);
  // Mean only: one pass (a pairwise sum) instead of the two of partial_moments.
  MomentState s;
  NDArray total;
  if (!windows.empty()) {
    std::int64_t n = 1;
    for (std::size_t d = 0; d < e.shape.size(); ++d) {
      if (axes.empty() || std::find(axes.begin(), axes.end(), static_cast<int>(d)) != axes.end()) n *= e.shape[d];
    }
    s.count = NDArray::full(out_shape, DType::int64, static_cast<double>(n));
    total = reduce_windows<NDArray>(
        e, ins, axes, windows, [&](const NDArray& w) { return tessera::sum(as_f64(w), axes, true); },
        [](const NDArray& acc, const NDArray& p) { return apply(BinaryOp::add, acc, p); },
        [&] { return NDArray::empty(out_shape, DType::float64); }, place, window_of);
  } else {
    NDArray x = eval_block(e, ins);
    s.count = tessera::count(x, axes, true);
    total = tessera::sum(as_f64(x), axes, true);
  }
  NDArray mean = NDArray::empty(total.shape(), DType::float64);
  auto m = mean.mutable_data<double>();
  auto t = total.data<double>();
  auto c = s.count.data<std::int64_t>();
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = c[i] > 0 ? t[i] / static_cast<double>(c[i]) : 0.0;
  s.mean = std::move(mean);
  s.m2 = NDArray::zeros(total.shape(), DType::float64);
  return s;
}
MomentState combine_moments_block(const std::vector<MomentState>& parts) {
  MomentState acc = parts.at(0);
  for (std::size_t i = 1; i < parts.size(); ++i) acc = combine_moments(acc, parts[i]);
  return acc;
}
/// kind 0: mean, 1: var, 2: std.
NDArray final_moments(const std::vector<MomentState>& parts, int kind, double ddof, const Shape& out) {
  const MomentState s = combine_moments_block(parts);
  NDArray r = kind == 0 ? finalize_mean(s) : kind == 1 ? finalize_var(s, ddof) : finalize_std(s, ddof);
  return r.reshape(out);
}

ArgResult partial_arg_flat(const BlockExpr& e, const std::vector<NDArray>& ins, const Shape& offset,
                           const Shape& global, bool is_max) {
  NDArray x = eval_block(e, ins);
  return is_max ? partial_argmax_flat(x, offset, global) : partial_argmin_flat(x, offset, global);
}
ArgResult partial_arg_axis(const BlockExpr& e, const std::vector<NDArray>& ins, int axis,
                           std::int64_t offset, bool is_max) {
  NDArray x = eval_block(e, ins);
  return is_max ? partial_argmax(x, axis, offset) : partial_argmin(x, axis, offset);
}
ArgResult combine_arg(const std::vector<ArgResult>& parts, bool is_max) {
  ArgResult acc = parts.at(0);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    acc = is_max ? combine_argmax(acc, parts[i]) : combine_argmin(acc, parts[i]);
  }
  return acc;
}
NDArray final_arg(const std::vector<ArgResult>& parts, bool is_max, const Shape& out) {
  return combine_arg(parts, is_max).indices.reshape(out);
}


// ---- tree reduction --------------------------------------------------------------------------------

ReduceLayout reduce_layout(const Array& a, std::vector<int> axes, bool keepdims, const char* op,
                           bool skip_empty) {
  ReduceLayout L;
  L.axes = normalize_axes(axes, a.shape(), op);
  std::vector<bool> red(a.shape().size(), false);
  for (int ax : L.axes) red[static_cast<std::size_t>(ax)] = true;
  L.out_shape = reduced_shape(a.shape(), L.axes, keepdims);
  for (std::size_t d = 0; d < a.shape().size(); ++d) {
    if (!red[d]) L.out_chunks.push_back(a.chunks()[d]);
    else if (keepdims) L.out_chunks.push_back({1});
  }
  const Shape g = grid_shape(a.chunks());
  Shape og;  // output grid with reduced axes kept as 1
  for (std::size_t d = 0; d < g.size(); ++d) og.push_back(red[d] ? 1 : g[d]);
  L.members.assign(static_cast<std::size_t>(grid_size(og)), {});
  for (std::int64_t i = 0; i < grid_size(g); ++i) {
    Shape idx = unravel(i, g);
    if (skip_empty) {
      bool empty = false;
      for (std::size_t d = 0; d < g.size(); ++d) {
        if (red[d] && a.chunks()[d][static_cast<std::size_t>(idx[d])] == 0) empty = true;
      }
      if (empty) continue;
    }
    for (std::size_t d = 0; d < g.size(); ++d) {
      if (red[d]) idx[d] = 0;
    }
    L.members[static_cast<std::size_t>(ravel(idx, og))].push_back(i);
  }
  return L;
}

Shape out_block_shape(const ReduceLayout& L, std::size_t j) {
  return block_shape(L.out_chunks, unravel(static_cast<std::int64_t>(j), grid_shape(L.out_chunks)));
}

void check_split_every(int k) {
  if (k < 2) TESSERA_THROW(ShapeError, "reduction: split_every must be >= 2, got ", k);
}

Array simple_reduce(const Array& a, ReduceOp op, const std::vector<int>& axes, ReduceOptions o,
                    const char* name) {
  check_split_every(o.split_every);
  auto L = reduce_layout(a, axes, o.keepdims, name, false);
  if (op == ReduceOp::min || op == ReduceOp::max) {
    for (int ax : L.axes) {
      if (a.shape()[static_cast<std::size_t>(ax)] == 0 && shape_size(L.out_shape) > 0) {
        TESSERA_THROW(ShapeError, name, ": zero-size array ", to_string(a.shape()),
                      " to reduction operation ", name, " which has no identity");
      }
    }
    if (a.size() == 0 && L.axes.size() == a.shape().size() && !a.shape().empty()) {
      TESSERA_THROW(ShapeError, name, ": zero-size array ", to_string(a.shape()),
                    " to reduction operation ", name, " which has no identity");
    }
  }
  const auto sources = block_sources(a);
  const std::string base = name;
  auto partial = delayed(partial_reduce, {.name = base + "-partial", .pure = true});
  auto comb = delayed(combine_reduce, {.name = base + "-combine", .pure = true});
  auto fin = delayed(final_reduce, {.name = base + "-aggregate", .pure = true});
  const auto code = static_cast<std::uint8_t>(op);
  std::vector<Blocks> groups;
  for (const auto& m : L.members) {
    Blocks g;
    for (auto i : m) {
      const auto& s = sources[static_cast<std::size_t>(i)];
      g.push_back(partial(s.first, s.second, code, L.axes));
    }
    groups.push_back(std::move(g));
  }
  auto out = tree_reduce<NDArray>(
      groups, o.split_every, [&](const Blocks& p) { return comb(p, code); },
      [&](const Blocks& p, std::size_t j) {
        return fin(p, code, out_block_shape(L, j), code_of(result_dtype(op, a.dtype())));
      });
  return Array(L.out_shape, result_dtype(op, a.dtype()), L.out_chunks, std::move(out));
}

Array moment_reduce(const Array& a, int kind, const std::vector<int>& axes, double ddof,
                    ReduceOptions o) {
  check_split_every(o.split_every);
  static const char* names[] = {"mean", "var", "std"};
  const std::string base = names[kind];
  auto L = reduce_layout(a, axes, o.keepdims, base.c_str(), false);
  const auto sources = block_sources(a);
  auto partial = delayed(partial_moments_block, {.name = base + "-partial", .pure = true});
  auto comb = delayed(combine_moments_block, {.name = base + "-combine", .pure = true});
  auto fin = delayed(final_moments, {.name = base + "-aggregate", .pure = true});
  std::vector<std::vector<Delayed<MomentState>>> groups;
  for (const auto& m : L.members) {
    std::vector<Delayed<MomentState>> g;
    for (auto i : m) {
      const auto& s = sources[static_cast<std::size_t>(i)];
      g.push_back(partial(s.first, s.second, L.axes, kind == 0));
    }
    groups.push_back(std::move(g));
  }
  auto out = tree_reduce<MomentState>(
      groups, o.split_every, [&](const std::vector<Delayed<MomentState>>& p) { return comb(p); },
      [&](const std::vector<Delayed<MomentState>>& p, std::size_t j) {
        return fin(p, kind, ddof, out_block_shape(L, j));
      });
  return Array(L.out_shape, DType::float64, L.out_chunks, std::move(out));
}

Array arg_reduce(const Array& a, std::optional<int> axis, ReduceOptions o, bool is_max) {
  check_split_every(o.split_every);
  const std::string base = is_max ? "argmax" : "argmin";
  std::vector<int> axes;
  if (axis) axes.push_back(*axis);
  auto L = reduce_layout(a, axes, o.keepdims, base.c_str(), true);
  if (axis && L.axes.size() != 1) {
    TESSERA_THROW(ShapeError, base, ": axis ", *axis, " out of range for shape ", to_string(a.shape()));
  }
  // NumPy raises when the reduced extent is 0 (the whole array for axis None); an empty array
  // with a non-empty reduced axis, argmax of a (0, 4) array along axis 1, is an empty result.
  const bool empty_reduced = axis ? a.shape()[static_cast<std::size_t>(L.axes[0])] == 0 : a.size() == 0;
  if (empty_reduced) {
    TESSERA_THROW(ShapeError, base, ": attempt to get ", base, " of an empty sequence, shape ",
                  to_string(a.shape()));
  }
  if (a.size() == 0) return array::zeros(L.out_shape, L.out_chunks, DType::int64);
  const auto sources = block_sources(a);
  const Shape g = grid_shape(a.chunks());
  auto pflat = delayed(partial_arg_flat, {.name = base + "-partial", .pure = true});
  auto paxis = delayed(partial_arg_axis, {.name = base + "-partial", .pure = true});
  auto comb = delayed(combine_arg, {.name = base + "-combine", .pure = true});
  auto fin = delayed(final_arg, {.name = base + "-aggregate", .pure = true});
  std::vector<std::vector<Delayed<ArgResult>>> groups;
  for (const auto& m : L.members) {
    std::vector<Delayed<ArgResult>> gr;
    for (auto i : m) {
      const auto& s = sources[static_cast<std::size_t>(i)];
      const Shape off = block_offset(a.chunks(), unravel(i, g));
      if (axis) {
        const int ax = L.axes[0];
        gr.push_back(paxis(s.first, s.second, ax, off[static_cast<std::size_t>(ax)], is_max));
      } else {
        gr.push_back(pflat(s.first, s.second, off, a.shape(), is_max));
      }
    }
    groups.push_back(std::move(gr));
  }
  auto out = tree_reduce<ArgResult>(
      groups, o.split_every, [&](const std::vector<Delayed<ArgResult>>& p) { return comb(p, is_max); },
      [&](const std::vector<Delayed<ArgResult>>& p, std::size_t j) {
        return fin(p, is_max, out_block_shape(L, j));
      });
  return Array(L.out_shape, DType::int64, L.out_chunks, std::move(out));
}

}  // namespace array_graph

Array Array::sum(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::sum, axes, o, "sum"); }
Array Array::prod(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::prod, axes, o, "prod"); }
Array Array::min(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::min, axes, o, "min"); }
Array Array::max(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::max, axes, o, "max"); }
Array Array::any(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::any, axes, o, "any"); }
Array Array::all(const std::vector<int>& axes, ReduceOptions o) const { return simple_reduce(*this, ReduceOp::all, axes, o, "all"); }
Array Array::count_nonzero(const std::vector<int>& axes, ReduceOptions o) const {
  return simple_reduce(*this, ReduceOp::count_nonzero, axes, o, "count_nonzero");
}
Array Array::count(const std::vector<int>& axes, ReduceOptions o) const {
  auto L = reduce_layout(*this, axes, o.keepdims, "count", false);
  std::int64_t n = 1;
  for (int ax : L.axes) n *= shape()[static_cast<std::size_t>(ax)];
  return array::full(L.out_shape, static_cast<double>(n), L.out_chunks, DType::int64);
}
Array Array::mean(const std::vector<int>& axes, ReduceOptions o) const { return moment_reduce(*this, 0, axes, 0.0, o); }
Array Array::var(const std::vector<int>& axes, double ddof, ReduceOptions o) const { return moment_reduce(*this, 1, axes, ddof, o); }
Array Array::std(const std::vector<int>& axes, double ddof, ReduceOptions o) const { return moment_reduce(*this, 2, axes, ddof, o); }
Array Array::argmin(std::optional<int> axis, ReduceOptions o) const { return arg_reduce(*this, axis, o, false); }
Array Array::argmax(std::optional<int> axis, ReduceOptions o) const { return arg_reduce(*this, axis, o, true); }

}  // namespace tessera
