// The lazy chunked Array: graph construction (chunk grids, fusion, tree reductions, structure).
#include <tessera/collections/array/array.hpp>

#include "collections/array/chunk_grid.hpp"
#include <tessera/collections/array/kernels/random.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <sstream>

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

namespace {

using detail::ArrayState;
using detail::BlockExpr;
using Blocks = std::vector<Delayed<NDArray>>;

// ---- chunk-grid helpers ------------------------------------------------------------------------

std::vector<std::int64_t> offsets_of(const std::vector<std::int64_t>& c) {
  std::vector<std::int64_t> o(c.size() + 1, 0);
  for (std::size_t i = 0; i < c.size(); ++i) o[i + 1] = o[i] + c[i];
  return o;
}

Shape grid_shape(const Chunks& chunks) {
  Shape g;
  for (const auto& c : chunks) g.push_back(static_cast<std::int64_t>(c.size()));
  return g;
}

std::int64_t grid_size(const Shape& g) {
  std::int64_t n = 1;
  for (auto e : g) n *= e;
  return n;
}

/// Multi-index of flat block `i` in a grid.
using detail::block_offset;
using detail::block_shape;
using detail::unravel;

std::int64_t ravel(const Shape& idx, const Shape& g) {
  std::int64_t i = 0;
  for (std::size_t d = 0; d < g.size(); ++d) i = i * g[d] + idx[d];
  return i;
}


std::shared_ptr<ArrayState> new_state(Shape shape, DType dtype, Chunks chunks) {
  auto s = std::make_shared<ArrayState>();
  s->shape = std::move(shape);
  s->dtype = dtype;
  s->chunks = std::move(chunks);
  return s;
}

std::uint8_t code_of(DType t) { return static_cast<std::uint8_t>(t); }

// ---- task bodies (plain functions: serializable as code references under MPI) ------------------

NDArray eval_block(const BlockExpr& e, const std::vector<NDArray>& ins) {
  if (!e.fused) return ins.at(0);
  return evaluate(e.program, ins, e.shape, EvaluateView{e.input_axes});
}

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

NDArray full_block(const Shape& shape, std::uint8_t dtype, double value) {
  return NDArray::full(shape, static_cast<DType>(dtype), value);
}

NDArray arange_block(double start, double step, std::int64_t offset, std::int64_t n,
                     std::uint8_t dtype) {
  NDArray out = NDArray::empty(Shape{n}, DType::float64);
  auto d = out.mutable_data<double>();
  for (std::int64_t i = 0; i < n; ++i) d[static_cast<std::size_t>(i)] = start + static_cast<double>(offset + i) * step;
  return out.astype(static_cast<DType>(dtype));
}

NDArray linspace_block(double start, double step, std::int64_t offset, std::int64_t n,
                       std::int64_t total, double stop, bool endpoint) {
  NDArray out = NDArray::empty(Shape{n}, DType::float64);
  auto d = out.mutable_data<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t g = offset + i;
    d[static_cast<std::size_t>(i)] = (endpoint && total > 1 && g == total - 1) ? stop : start + static_cast<double>(g) * step;
  }
  return out;
}

NDArray uniform_block(std::uint64_t seed, const Shape& global, const Shape& offset,
                      const Shape& shape, double low, double high) {
  return random_uniform(seed, global, offset, shape, low, high);
}
NDArray normal_block(std::uint64_t seed, double mean, double stddev, const Shape& global,
                     const Shape& offset, const Shape& shape) {
  return random_normal(seed, mean, stddev, global, offset, shape);
}
NDArray integers_block(std::uint64_t seed, std::int64_t low, std::int64_t high,
                       const Shape& global, const Shape& offset, const Shape& shape) {
  return random_integers(seed, low, high, global, offset, shape);
}

/// Slices encoded as 5 int64 per axis: has_start, start, has_stop, stop, step (deterministic
/// bytes for task keys, unlike std::optional's padding).
std::vector<Slice> decode_slices(const std::vector<std::int64_t>& enc) {
  std::vector<Slice> out;
  for (std::size_t i = 0; i + 4 < enc.size(); i += 5) {
    Slice s;
    if (enc[i] != 0) s.start = enc[i + 1];
    if (enc[i + 2] != 0) s.stop = enc[i + 3];
    s.step = enc[i + 4];
    out.push_back(s);
  }
  return out;
}
void encode_slice(std::vector<std::int64_t>& enc, const Slice& s) {
  enc.push_back(s.start ? 1 : 0);
  enc.push_back(s.start.value_or(0));
  enc.push_back(s.stop ? 1 : 0);
  enc.push_back(s.stop.value_or(0));
  enc.push_back(s.step);
}

NDArray slice_block(const NDArray& a, const std::vector<std::int64_t>& enc) {
  return slice(a, decode_slices(enc));
}

NDArray transpose_block(const NDArray& a, const std::vector<int>& axes) { return transpose(a, axes); }

NDArray reshape_block(const NDArray& a, const Shape& shape) { return a.reshape(shape); }

/// Assembles one chunk of `out_shape` from pieces of old chunks; `desc` holds, per piece,
/// src_start[nd], extent[nd], dst_start[nd].
NDArray assemble_block(const std::vector<NDArray>& pieces, const std::vector<std::int64_t>& desc,
                       const Shape& out_shape) {
  const std::size_t nd = out_shape.size();
  auto piece_slices = [&](std::size_t p) {
    std::vector<Slice> sl(nd);
    for (std::size_t d = 0; d < nd; ++d) {
      const std::int64_t st = desc[p * 3 * nd + d];
      const std::int64_t ex = desc[p * 3 * nd + nd + d];
      sl[d] = Slice{st, st + ex, 1};
    }
    return sl;
  };
  if (pieces.size() == 1) {
    const auto& src = pieces[0];
    return src.shape() == out_shape ? src : slice(src, piece_slices(0));
  }
  NDArray out = NDArray::empty(out_shape, pieces.at(0).dtype());
  for (std::size_t p = 0; p < pieces.size(); ++p) {
    std::vector<std::int64_t> dst(nd);
    for (std::size_t d = 0; d < nd; ++d) dst[d] = desc[p * 3 * nd + 2 * nd + d];
    const bool whole = [&] {
      for (std::size_t d = 0; d < nd; ++d) {
        if (desc[p * 3 * nd + d] != 0 || desc[p * 3 * nd + nd + d] != pieces[p].shape()[d]) return false;
      }
      return true;
    }();
    copy_into(out, dst, whole ? pieces[p] : slice(pieces[p], piece_slices(p)));
  }
  return out;
}

NDArray matmul_block(const NDArray& a, const NDArray& b) { return matmul(a, b); }

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

Array align(const Array& x, const Chunks& target);

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

// ---- tree reduction --------------------------------------------------------------------------------

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

}  // namespace

// ---- chunks ------------------------------------------------------------------------------------------

std::string to_string(const Chunks& chunks) {
  std::ostringstream os;
  os << '(';
  for (std::size_t d = 0; d < chunks.size(); ++d) {
    if (d != 0) os << ", ";
    os << '(';
    for (std::size_t i = 0; i < chunks[d].size(); ++i) {
      if (i != 0) os << ", ";
      os << chunks[d][i];
    }
    os << (chunks[d].size() == 1 ? ",)" : ")");
  }
  os << (chunks.size() == 1 ? ",)" : ")");
  return os.str();
}

Chunks regular_chunks(const Shape& shape, const Shape& chunk_shape) {
  if (chunk_shape.size() != shape.size()) {
    TESSERA_THROW(ShapeError, "chunks: chunk shape ", to_string(chunk_shape),
                  " has another rank than the array shape ", to_string(shape));
  }
  Chunks c(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) TESSERA_THROW(ShapeError, "chunks: negative extent in shape ", to_string(shape));
    const std::int64_t step = chunk_shape[d] <= 0 ? std::max<std::int64_t>(shape[d], 1) : chunk_shape[d];
    for (std::int64_t s = 0; s < shape[d]; s += step) c[d].push_back(std::min(step, shape[d] - s));
    if (c[d].empty()) c[d].push_back(0);
  }
  return c;
}

void validate_chunks(const Chunks& chunks, const Shape& shape, const char* where) {
  bool ok = chunks.size() == shape.size();
  for (std::size_t d = 0; ok && d < shape.size(); ++d) {
    std::int64_t total = 0;
    for (auto c : chunks[d]) {
      if (c < 0) ok = false;
      total += c;
    }
    if (chunks[d].empty() || total != shape[d]) ok = false;
  }
  if (!ok) {
    TESSERA_THROW(ShapeError, where, ": chunks ", to_string(chunks), " do not match shape ",
                  to_string(shape));
  }
}

namespace detail {

Shape shape_of_chunks(const Chunks& chunks) {
  Shape s;
  for (const auto& c : chunks) s.push_back(std::accumulate(c.begin(), c.end(), std::int64_t{0}));
  return s;
}

std::vector<Array> unify_for_blockwise(const std::vector<Array>& arrays, const char* where) {
  if (arrays.empty()) TESSERA_THROW(ShapeError, where, ": needs at least one array");
  for (const auto& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      TESSERA_THROW(ShapeError, where, ": shapes differ: ", to_string(arrays[0].shape()), " and ",
                    to_string(a.shape()));
    }
  }
  Chunks c(arrays[0].shape().size());
  for (std::size_t d = 0; d < c.size(); ++d) {
    std::vector<std::vector<std::int64_t>> opts;
    for (const auto& a : arrays) opts.push_back(a.chunks()[d]);
    c[d] = refine(opts);
  }
  std::vector<Array> out;
  for (const auto& a : arrays) out.push_back(a.is_pending() || a.chunks() != c ? a.rechunk(c) : a);
  return out;
}

NDArray compute_array(Scheduler& s, const Array& a) {
  const auto blocks = a.blocks();
  std::vector<NodePtr> roots;
  roots.reserve(blocks.size());
  for (const auto& b : blocks) roots.push_back(b.node());
  const auto chunks = compute_values(s, std::move(roots));
  return assemble_array(a, chunks);
}

NDArray assemble_array(const Array& a, std::span<const Value> chunks) {
  std::vector<NDArray> values;
  values.reserve(chunks.size());
  for (const auto& c : chunks) values.push_back(extract<NDArray>(c));
  if (values.size() == 1) return values[0];
  NDArray out = NDArray::empty(a.shape(), a.dtype());
  if (a.size() == 0) return out;
  const Shape g = grid_shape(a.chunks());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() == 0) continue;
    copy_into(out, block_offset(a.chunks(), unravel(static_cast<std::int64_t>(i), g)), values[i]);
  }
  return out;
}

Array persist_array(Scheduler& s, const Array& a) {
  auto blocks = persist_on(s, a.blocks());
  return Array(a.shape(), a.dtype(), a.chunks(), std::move(blocks));
}

}  // namespace detail

// ---- Array -------------------------------------------------------------------------------------------

Array::Array() : Array(array::from_ndarray(NDArray(), Shape{})) {}

Array::Array(Shape shape, DType dtype, Chunks chunks, std::vector<Delayed<NDArray>> blocks) {
  validate_chunks(chunks, shape, "Array");
  if (grid_size(grid_shape(chunks)) != static_cast<std::int64_t>(blocks.size())) {
    TESSERA_THROW(ShapeError, "Array: ", blocks.size(), " blocks for chunks ", to_string(chunks),
                  " of shape ", to_string(shape));
  }
  auto s = new_state(std::move(shape), dtype, std::move(chunks));
  s->blocks = std::move(blocks);
  m_state = std::move(s);
}

const Shape& Array::shape() const noexcept { return m_state->shape; }
DType Array::dtype() const noexcept { return m_state->dtype; }
const Chunks& Array::chunks() const noexcept { return m_state->chunks; }
std::int64_t Array::size() const { return shape_size(shape()); }
Shape Array::numblocks() const { return grid_shape(chunks()); }
std::int64_t Array::nblocks() const { return grid_size(numblocks()); }
bool Array::is_pending() const noexcept { return m_state->pending; }

std::vector<Delayed<NDArray>> Array::blocks() const {
  if (!m_state->pending) return m_state->blocks;
  std::lock_guard lock(m_state->mutex);
  if (!m_state->materialized) {
    auto fn = delayed(eval_block, {.name = m_state->program.name(), .pure = true});
    Blocks out;
    for (const auto& [e, args] : block_sources(*this)) out.push_back(fn(e, args));
    m_state->materialized = std::move(out);
  }
  return *m_state->materialized;
}

std::string Array::describe() const {
  std::ostringstream os;
  os << "Array<" << dtype_name(dtype()) << ", shape=" << to_string(shape())
     << ", chunks=" << to_string(chunks()) << (is_pending() ? "> pending" : ">");
  return os.str();
}

Array Array::astype(DType t) const { return tessera::astype(*this, t); }
Array Array::operator-() const { return apply(UnaryOp::neg, *this); }

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

Array Array::transpose(const std::vector<int>& axes_in) const {
  const int nd = ndim();
  std::vector<int> axes = axes_in;
  if (axes.empty()) {
    for (int d = nd - 1; d >= 0; --d) axes.push_back(d);
  }
  std::vector<bool> seen(static_cast<std::size_t>(nd), false);
  bool ok = static_cast<int>(axes.size()) == nd;
  for (auto& ax : axes) {
    if (ax < 0) ax += nd;
    if (ax < 0 || ax >= nd || seen[static_cast<std::size_t>(ax)]) {
      ok = false;
      break;
    }
    seen[static_cast<std::size_t>(ax)] = true;
  }
  if (!ok) {
    std::ostringstream os;
    for (auto a : axes_in) os << a << ' ';
    TESSERA_THROW(ShapeError, "transpose: axes [ ", os.str(), "] are not a permutation of the axes of shape ",
                  to_string(shape()));
  }
  Shape out_shape;
  Chunks out_chunks;
  for (int ax : axes) {
    out_shape.push_back(shape()[static_cast<std::size_t>(ax)]);
    out_chunks.push_back(chunks()[static_cast<std::size_t>(ax)]);
  }
  const Shape g = numblocks();
  const Shape og = grid_shape(out_chunks);
  const auto in = blocks();
  auto fn = delayed(transpose_block, {.name = "transpose", .pure = true});
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(og); ++i) {
    const Shape oidx = unravel(i, og);
    Shape iidx(g.size());
    for (std::size_t d = 0; d < axes.size(); ++d) iidx[static_cast<std::size_t>(axes[d])] = oidx[d];
    out.push_back(fn(in[static_cast<std::size_t>(ravel(iidx, g))], axes));
  }
  auto st = new_state(std::move(out_shape), dtype(), std::move(out_chunks));
  st->blocks = std::move(out);
  // Remember the source so that elementwise consumers can read it without the transpose tasks.
  st->transpose_of = is_pending() ? Array(shape(), dtype(), chunks(), in).state() : m_state;
  st->transpose_axes = axes;
  return Array(std::shared_ptr<const ArrayState>(std::move(st)));
}

Array Array::rechunk(const Shape& chunk_shape) const { return rechunk(regular_chunks(shape(), chunk_shape)); }

Array Array::rechunk(const Chunks& target) const {
  validate_chunks(target, shape(), "rechunk");
  if (target == chunks() && !is_pending()) return *this;
  if (is_pending()) return Array(shape(), dtype(), target, align(*this, target).blocks());
  const std::size_t nd = shape().size();
  // Per axis and new chunk: pieces (old block, start in old, extent, start in new).
  struct Piece {
    std::int64_t block, src, extent, dst;
  };
  std::vector<std::vector<std::vector<Piece>>> per_axis(nd);
  for (std::size_t d = 0; d < nd; ++d) {
    const auto oo = offsets_of(chunks()[d]);
    const auto no = offsets_of(target[d]);
    for (std::size_t j = 0; j + 1 < no.size(); ++j) {
      std::vector<Piece> ps;
      const std::int64_t lo = no[j], hi = no[j + 1];
      for (std::size_t b = 0; b + 1 < oo.size(); ++b) {
        const std::int64_t s = std::max(lo, oo[b]), e = std::min(hi, oo[b + 1]);
        if (s < e || (lo == hi && oo[b] == lo && ps.empty())) {
          ps.push_back({static_cast<std::int64_t>(b), s - oo[b], e > s ? e - s : 0, s - lo});
        }
      }
      if (ps.empty()) ps.push_back({0, 0, 0, 0});
      per_axis[d].push_back(std::move(ps));
    }
  }
  const Shape g = numblocks();
  const Shape og = grid_shape(target);
  const auto in = blocks();
  auto fn = delayed(assemble_block, {.name = "rechunk", .pure = true});
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(og); ++i) {
    const Shape oidx = unravel(i, og);
    const Shape oshape = block_shape(target, oidx);
    // Cartesian product of the per-axis pieces.
    Shape counts(nd);
    for (std::size_t d = 0; d < nd; ++d) counts[d] = static_cast<std::int64_t>(per_axis[d][static_cast<std::size_t>(oidx[d])].size());
    Blocks pieces;
    std::vector<std::int64_t> desc;
    for (std::int64_t p = 0; p < grid_size(counts); ++p) {
      const Shape pidx = unravel(p, counts);
      Shape bidx(nd);
      std::vector<std::int64_t> src(nd), ext(nd), dst(nd);
      for (std::size_t d = 0; d < nd; ++d) {
        const auto& pc = per_axis[d][static_cast<std::size_t>(oidx[d])][static_cast<std::size_t>(pidx[d])];
        bidx[d] = pc.block;
        src[d] = pc.src;
        ext[d] = pc.extent;
        dst[d] = pc.dst;
      }
      pieces.push_back(in[static_cast<std::size_t>(ravel(bidx, g))]);
      desc.insert(desc.end(), src.begin(), src.end());
      desc.insert(desc.end(), ext.begin(), ext.end());
      desc.insert(desc.end(), dst.begin(), dst.end());
    }
    const bool reuse = pieces.size() == 1 && [&] {
      const Shape bidx = [&] {
        Shape b(nd);
        for (std::size_t d = 0; d < nd; ++d) b[d] = per_axis[d][static_cast<std::size_t>(oidx[d])][0].block;
        return b;
      }();
      return block_shape(chunks(), bidx) == oshape;
    }();
    out.push_back(reuse ? pieces[0] : fn(pieces, desc, oshape));
  }
  return Array(shape(), dtype(), target, std::move(out));
}

Array Array::slice(const std::vector<Slice>& slices) const {
  const std::size_t nd = shape().size();
  if (slices.size() > nd) {
    TESSERA_THROW(ShapeError, "slice: ", slices.size(), " slices for an array of shape ", to_string(shape()));
  }
  struct Part {
    std::int64_t block;
    Slice local;
    std::int64_t count;
    bool whole;
  };
  std::vector<std::vector<Part>> per_axis(nd);
  Shape out_shape(nd);
  Chunks out_chunks(nd);
  for (std::size_t d = 0; d < nd; ++d) {
    const Slice s = d < slices.size() ? slices[d] : Slice{};
    if (s.step == 0) TESSERA_THROW(ShapeError, "slice: slice step cannot be zero (axis ", d, " of shape ", to_string(shape()), ")");
    const SliceRange r = resolve(s, shape()[d]);
    out_shape[d] = r.count;
    const auto oo = offsets_of(chunks()[d]);
    const std::int64_t nb = static_cast<std::int64_t>(chunks()[d].size());
    auto visit = [&](std::int64_t b) {
      const std::int64_t lo = oo[static_cast<std::size_t>(b)], hi = oo[static_cast<std::size_t>(b) + 1];
      if (lo == hi || r.count == 0) return;
      std::int64_t pmin, pmax;
      if (r.step > 0) {
        pmin = lo <= r.start ? 0 : (lo - r.start + r.step - 1) / r.step;
        pmax = hi - 1 < r.start ? -1 : (hi - 1 - r.start) / r.step;
      } else {
        const std::int64_t st = -r.step;
        pmin = r.start <= hi - 1 ? 0 : (r.start - (hi - 1) + st - 1) / st;
        pmax = r.start < lo ? -1 : (r.start - lo) / st;
      }
      pmax = std::min(pmax, r.count - 1);
      if (pmin > pmax) return;
      const std::int64_t n = pmax - pmin + 1;
      const std::int64_t local = r.start + pmin * r.step - lo;
      Slice l;
      l.start = local;
      l.step = r.step;
      const std::int64_t stop = local + (n - 1) * r.step + (r.step > 0 ? 1 : -1);
      if (stop >= 0) l.stop = stop;
      per_axis[d].push_back({b, l, n, r.step == 1 && n == hi - lo});
      out_chunks[d].push_back(n);
    };
    if (r.step > 0) {
      for (std::int64_t b = 0; b < nb; ++b) visit(b);
    } else {
      for (std::int64_t b = nb - 1; b >= 0; --b) visit(b);
    }
    if (per_axis[d].empty()) {
      per_axis[d].push_back({0, Slice{0, 0, 1}, 0, false});
      out_chunks[d].push_back(0);
    }
  }
  const Shape g = numblocks();
  const Shape og = grid_shape(out_chunks);
  const auto in = blocks();
  auto fn = delayed(slice_block, {.name = "getitem", .pure = true});
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(og); ++i) {
    const Shape oidx = unravel(i, og);
    Shape bidx(nd);
    std::vector<std::int64_t> enc;
    bool whole = true;
    for (std::size_t d = 0; d < nd; ++d) {
      const auto& p = per_axis[d][static_cast<std::size_t>(oidx[d])];
      bidx[d] = p.block;
      encode_slice(enc, p.local);
      whole = whole && p.whole;
    }
    const auto& b = in[static_cast<std::size_t>(ravel(bidx, g))];
    out.push_back(whole ? b : fn(b, enc));
  }
  return Array(out_shape, dtype(), out_chunks, std::move(out));
}

Array Array::reshape(const Shape& new_shape_in) const {
  Shape T = new_shape_in;
  const std::int64_t total = size();
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t j = 0; j < T.size(); ++j) {
    if (T[j] == -1 && infer < 0) infer = static_cast<int>(j);
    else if (T[j] < 0) TESSERA_THROW(ShapeError, "reshape: bad shape ", to_string(new_shape_in), " for array of shape ", to_string(shape()));
    else known *= T[j];
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      TESSERA_THROW(ShapeError, "reshape: cannot reshape array of shape ", to_string(shape()), " into shape ", to_string(new_shape_in));
    }
    T[static_cast<std::size_t>(infer)] = total / known;
  }
  if (shape_size(T) != total) {
    TESSERA_THROW(ShapeError, "reshape: cannot reshape array of shape ", to_string(shape()), " into shape ", to_string(T));
  }
  if (T == shape()) return *this;
  auto fn = delayed(reshape_block, {.name = "reshape", .pure = true});
  if (total == 0 || nblocks() == 1) {
    const Array one = nblocks() == 1 ? *this : rechunk(Shape(shape().size(), 0));
    Chunks oc;
    for (auto e : T) oc.push_back({e});
    return Array(T, dtype(), oc, {fn(one.blocks()[0], T)});
  }
  const Shape& S = shape();
  const std::size_t n = S.size(), m = T.size();
  // Pair axis groups with equal products; leading axes of groups may be chunked.
  Chunks in_target = chunks();
  Chunks out_chunks(m);
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (j < m && T[j] == 1 && (i >= n || S[i] != 1)) {
      out_chunks[j++] = {1};
      continue;
    }
    if (i < n && S[i] == 1 && (j >= m || T[j] != 1)) {
      ++i;
      continue;
    }
    const std::size_t i0 = i, j0 = j;
    std::int64_t pi = S[i++], pj = T[j++];
    while (pi != pj) {
      if (pi < pj) pi *= S[i++];
      else pj *= T[j++];
    }
    std::int64_t rin = 1, rout = 1;
    for (std::size_t k = i0 + 1; k < i; ++k) {
      rin *= S[k];
      in_target[k] = {S[k]};
    }
    for (std::size_t k = j0 + 1; k < j; ++k) {
      rout *= T[k];
      out_chunks[k] = {T[k]};
    }
    // Each chunk of the group's leading axis must cover whole rows of the new grouping: a
    // multiple of q = rout / gcd(rin, rout) (S[i0] is one). Where one is not, that axis is
    // rechunked to multiples of q first, about as large as its largest chunk (as Dask does).
    const std::int64_t q = rout / std::gcd(rin, rout);
    const auto& c_in = chunks()[i0];
    if (std::any_of(c_in.begin(), c_in.end(), [&](std::int64_t c) { return c % q != 0; })) {
      const std::int64_t biggest = *std::max_element(c_in.begin(), c_in.end());
      const std::int64_t step = std::max(q, biggest / q * q);
      std::vector<std::int64_t> cs;
      for (std::int64_t done = 0; done < S[i0]; done += step) cs.push_back(std::min(step, S[i0] - done));
      in_target[i0] = cs;
    }
    for (auto c : in_target[i0]) out_chunks[j0].push_back(c * rin / rout);
  }
  const Array src = rechunk(in_target);
  const Shape og = grid_shape(out_chunks);
  const auto in = src.blocks();
  Blocks out;
  for (std::size_t k = 0; k < in.size(); ++k) {
    out.push_back(fn(in[k], block_shape(out_chunks, unravel(static_cast<std::int64_t>(k), og))));
  }
  return Array(T, dtype(), out_chunks, std::move(out));
}

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

// ---- structure on several arrays ------------------------------------------------------------------------

Array concatenate(const std::vector<Array>& arrays_in, int axis) {
  if (arrays_in.empty()) TESSERA_THROW(ShapeError, "concatenate: need at least one array to concatenate");
  const auto& s0 = arrays_in[0].shape();
  const int nd = static_cast<int>(s0.size());
  if (nd == 0) TESSERA_THROW(ShapeError, "concatenate: zero-dimensional arrays cannot be concatenated");
  if (axis < 0) axis += nd;
  if (axis < 0 || axis >= nd) TESSERA_THROW(ShapeError, "concatenate: axis out of range for shape ", to_string(s0));
  const auto ax = static_cast<std::size_t>(axis);
  DType t = arrays_in[0].dtype();
  for (const auto& a : arrays_in) {
    bool ok = a.shape().size() == s0.size();
    for (std::size_t d = 0; ok && d < s0.size(); ++d) ok = d == ax || a.shape()[d] == s0[d];
    if (!ok) {
      TESSERA_THROW(ShapeError, "concatenate: all the input array dimensions except for the concatenation axis must match exactly: ",
                    to_string(s0), " and ", to_string(a.shape()), " along axis ", axis);
    }
    t = promote(t, a.dtype());
  }
  Chunks common(s0.size());
  for (std::size_t d = 0; d < s0.size(); ++d) {
    if (d == ax) continue;
    std::vector<std::vector<std::int64_t>> opts;
    for (const auto& a : arrays_in) opts.push_back(a.chunks()[d]);
    common[d] = refine(opts);
  }
  std::vector<Array> arrays;
  Chunks out_chunks = common;
  out_chunks[ax].clear();
  Shape out_shape = s0;
  out_shape[ax] = 0;
  for (const auto& a : arrays_in) {
    Chunks c = common;
    c[ax] = a.chunks()[ax];
    arrays.push_back(astype(a, t).rechunk(c));
    out_shape[ax] += a.shape()[ax];
    for (auto e : a.chunks()[ax]) out_chunks[ax].push_back(e);
  }
  const Shape og = grid_shape(out_chunks);
  std::vector<Blocks> in;
  for (const auto& a : arrays) in.push_back(a.blocks());
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(og); ++i) {
    Shape idx = unravel(i, og);
    std::size_t k = 0;
    while (idx[ax] >= static_cast<std::int64_t>(arrays[k].chunks()[ax].size())) {
      idx[ax] -= static_cast<std::int64_t>(arrays[k].chunks()[ax].size());
      ++k;
    }
    out.push_back(in[k][static_cast<std::size_t>(ravel(idx, arrays[k].numblocks()))]);
  }
  return Array(out_shape, t, out_chunks, std::move(out));
}

Array stack(const std::vector<Array>& arrays, int axis) {
  if (arrays.empty()) TESSERA_THROW(ShapeError, "stack: need at least one array to stack");
  const auto& s0 = arrays[0].shape();
  const int nd = static_cast<int>(s0.size()) + 1;
  if (axis < 0) axis += nd;
  if (axis < 0 || axis >= nd) TESSERA_THROW(ShapeError, "stack: axis out of range for shape ", to_string(s0));
  for (const auto& a : arrays) {
    if (a.shape() != s0) {
      TESSERA_THROW(ShapeError, "stack: all input arrays must have the same shape: ", to_string(s0), " and ",
                    to_string(a.shape()));
    }
  }
  auto fn = delayed(reshape_block, {.name = "stack-expand", .pure = true});
  std::vector<Array> expanded;
  for (const auto& a : detail::unify_for_blockwise(arrays, "stack")) {
    Chunks c = a.chunks();
    c.insert(c.begin() + axis, std::vector<std::int64_t>{1});
    Shape s = a.shape();
    s.insert(s.begin() + axis, 1);
    const Shape g = grid_shape(c);
    const auto in = a.blocks();
    Blocks out;
    for (std::size_t k = 0; k < in.size(); ++k) {
      out.push_back(fn(in[k], block_shape(c, unravel(static_cast<std::int64_t>(k), g))));
    }
    expanded.emplace_back(s, a.dtype(), c, std::move(out));
  }
  return concatenate(expanded, axis);
}

Array matmul(const Array& a, const Array& b_in, int split_every) {
  check_split_every(split_every);
  if (a.ndim() != 2 || b_in.ndim() != 2) {
    TESSERA_THROW(ShapeError, "matmul: tessera::Array supports 2-d operands, got shapes ",
                  to_string(a.shape()), " and ", to_string(b_in.shape()));
  }
  if (a.shape()[1] != b_in.shape()[0]) {
    TESSERA_THROW(ShapeError, "matmul: mismatch in core dimension: ", to_string(a.shape()), " @ ",
                  to_string(b_in.shape()));
  }
  const Array b = b_in.rechunk(Chunks{a.chunks()[1], b_in.chunks()[1]});
  const auto ab = a.blocks();
  const auto bb = b.blocks();
  const Shape ga = a.numblocks(), gb = b.numblocks();
  auto prod = delayed(matmul_block, {.name = "matmul", .pure = true});
  auto comb = delayed(combine_reduce, {.name = "matmul-sum", .pure = true});
  auto fin = delayed(final_reduce, {.name = "matmul-sum", .pure = true});
  std::vector<Blocks> groups;
  Chunks oc{a.chunks()[0], b.chunks()[1]};
  for (std::int64_t i = 0; i < ga[0]; ++i) {
    for (std::int64_t j = 0; j < gb[1]; ++j) {
      Blocks g;
      for (std::int64_t k = 0; k < ga[1]; ++k) {
        g.push_back(prod(ab[static_cast<std::size_t>(i * ga[1] + k)], bb[static_cast<std::size_t>(k * gb[1] + j)]));
      }
      groups.push_back(std::move(g));
    }
  }
  const auto code = static_cast<std::uint8_t>(ReduceOp::sum);
  const Shape og = grid_shape(oc);
  // Result dtype as the kernel's (probe on empty operands).
  const DType t = tessera::matmul(NDArray::zeros({1, 1}, a.dtype()), NDArray::zeros({1, 1}, b.dtype())).dtype();
  auto out = tree_reduce<NDArray>(
      groups, split_every, [&](const Blocks& p) { return comb(p, code); },
      [&](const Blocks& p, std::size_t j) {
        if (p.size() == 1) return p[0];
        return fin(p, code, block_shape(oc, unravel(static_cast<std::int64_t>(j), og)), code_of(t));
      });
  return Array(Shape{a.shape()[0], b.shape()[1]}, t, oc, std::move(out));
}

Array tensordot(const Array& a, const Array& b, const std::vector<int>& a_axes, const std::vector<int>& b_axes) {
  if (a.ndim() != 2 || b.ndim() != 2 || a_axes.size() != b_axes.size() || a_axes.empty() || a_axes.size() > 2) {
    TESSERA_THROW(ShapeError, "tensordot: tessera::Array supports 2-d operands with 1 or 2 contracted axes, got shapes ",
                  to_string(a.shape()), " and ", to_string(b.shape()));
  }
  auto norm = [](int ax) { return ax < 0 ? ax + 2 : ax; };
  if (a_axes.size() == 1) {
    const int aa = norm(a_axes[0]), ba = norm(b_axes[0]);
    if (aa < 0 || aa > 1 || ba < 0 || ba > 1) TESSERA_THROW(ShapeError, "tensordot: axis out of range");
    const Array left = aa == 1 ? a : a.transpose();
    const Array right = ba == 0 ? b : b.transpose();
    if (left.shape()[1] != right.shape()[0]) {
      TESSERA_THROW(ShapeError, "tensordot: shape-mismatch for sum: ", to_string(a.shape()), " and ", to_string(b.shape()));
    }
    return matmul(left, right);
  }
  // Two contracted axes: a full contraction to a 0-d array.
  const int a0 = norm(a_axes[0]), b0 = norm(b_axes[0]);
  const Array bb = a0 == b0 ? b : b.transpose();
  if (a.shape() != bb.shape()) {
    TESSERA_THROW(ShapeError, "tensordot: shape-mismatch for sum: ", to_string(a.shape()), " and ", to_string(b.shape()));
  }
  return (a * bb).sum();
}

Array tensordot(const Array& a, const Array& b, int n) {
  if (n == 1) return tensordot(a, b, {1}, {0});
  if (n == 2) return tensordot(a, b, {0, 1}, {0, 1});
  TESSERA_THROW(ShapeError, "tensordot: tessera::Array supports axes=1 or 2, got ", n);
}

// ---- factories -----------------------------------------------------------------------------------------

namespace array {
namespace {
Array filled(const Shape& shape, double value, const Chunks& chunks, DType dtype, const char* name) {
  validate_chunks(chunks, shape, name);
  auto fn = delayed(full_block, {.name = name, .pure = true});
  const Shape g = grid_shape(chunks);
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(g); ++i) out.push_back(fn(block_shape(chunks, unravel(i, g)), code_of(dtype), value));
  return Array(shape, dtype, chunks, std::move(out));
}
}  // namespace

Array empty(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 0.0, chunks, dtype, "empty"); }
Array zeros(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 0.0, chunks, dtype, "zeros"); }
Array ones(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 1.0, chunks, dtype, "ones"); }
Array full(const Shape& shape, double value, const Chunks& chunks, DType dtype) {
  return filled(shape, value, chunks, dtype, "full");
}
Array zeros(const Shape& shape, const Shape& cs, DType dtype) { return zeros(shape, regular_chunks(shape, cs), dtype); }
Array ones(const Shape& shape, const Shape& cs, DType dtype) { return ones(shape, regular_chunks(shape, cs), dtype); }
Array full(const Shape& shape, double value, const Shape& cs, DType dtype) {
  return full(shape, value, regular_chunks(shape, cs), dtype);
}

Array arange(double start, double stop, double step, std::int64_t chunk, DType dtype) {
  if (step == 0) TESSERA_THROW(ShapeError, "arange: step must not be 0");
  const double len = std::ceil((stop - start) / step);
  const std::int64_t n = len > 0 ? static_cast<std::int64_t>(len) : 0;
  const Shape shape{n};
  const Chunks c = regular_chunks(shape, Shape{chunk});
  auto fn = delayed(arange_block, {.name = "arange", .pure = true});
  Blocks out;
  std::int64_t off = 0;
  for (auto e : c[0]) {
    out.push_back(fn(start, step, off, e, code_of(dtype)));
    off += e;
  }
  return Array(shape, dtype, c, std::move(out));
}

Array linspace(double start, double stop, std::int64_t num, std::int64_t chunk, bool endpoint) {
  if (num < 0) TESSERA_THROW(ShapeError, "linspace: num must be >= 0, got ", num);
  const std::int64_t div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / static_cast<double>(div) : 0.0;
  const Shape shape{num};
  const Chunks c = regular_chunks(shape, Shape{chunk});
  auto fn = delayed(linspace_block, {.name = "linspace", .pure = true});
  Blocks out;
  std::int64_t off = 0;
  for (auto e : c[0]) {
    out.push_back(fn(start, step, off, e, num, stop, endpoint));
    off += e;
  }
  return Array(shape, DType::float64, c, std::move(out));
}

Array from_ndarray(const NDArray& a, const Chunks& chunks) {
  validate_chunks(chunks, a.shape(), "from_ndarray");
  const Shape g = grid_shape(chunks);
  Blocks out;
  if (grid_size(g) == 1) {
    out.push_back(literal(a, "array"));
  } else {
    for (std::int64_t i = 0; i < grid_size(g); ++i) {
      const Shape idx = unravel(i, g);
      const Shape off = block_offset(chunks, idx);
      const Shape bs = block_shape(chunks, idx);
      std::vector<Slice> sl;
      for (std::size_t d = 0; d < off.size(); ++d) sl.push_back(Slice{off[d], off[d] + bs[d], 1});
      out.push_back(literal(tessera::slice(a, sl), "array"));
    }
  }
  return Array(a.shape(), a.dtype(), chunks, std::move(out));
}
Array from_ndarray(const NDArray& a, const Shape& cs) { return from_ndarray(a, regular_chunks(a.shape(), cs)); }

namespace random {
namespace {
template <class MakeTask>
Array generate(const Shape& shape, const Chunks& chunks, DType dtype, const char* where, MakeTask&& make) {
  validate_chunks(chunks, shape, where);
  const Shape g = grid_shape(chunks);
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(g); ++i) {
    const Shape idx = unravel(i, g);
    out.push_back(make(block_offset(chunks, idx), block_shape(chunks, idx)));
  }
  return Array(shape, dtype, chunks, std::move(out));
}
}  // namespace

Array uniform(std::uint64_t seed, const Shape& shape, const Chunks& chunks, double low, double high) {
  auto fn = delayed(uniform_block, {.name = "uniform", .pure = true});
  return generate(shape, chunks, DType::float64, "random::uniform",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, shape, off, bs, low, high); });
}
Array uniform(std::uint64_t seed, const Shape& shape, const Shape& cs, double low, double high) {
  return uniform(seed, shape, regular_chunks(shape, cs), low, high);
}
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape, const Chunks& chunks) {
  auto fn = delayed(normal_block, {.name = "normal", .pure = true});
  return generate(shape, chunks, DType::float64, "random::normal",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, mean, stddev, shape, off, bs); });
}
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape, const Shape& cs) {
  return normal(seed, mean, stddev, shape, regular_chunks(shape, cs));
}
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape, const Chunks& chunks) {
  if (high <= low) TESSERA_THROW(ShapeError, "random::integers: high (", high, ") must be > low (", low, ")");
  auto fn = delayed(integers_block, {.name = "integers", .pure = true});
  return generate(shape, chunks, DType::int64, "random::integers",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, low, high, shape, off, bs); });
}
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape, const Shape& cs) {
  return integers(seed, low, high, shape, regular_chunks(shape, cs));
}
}  // namespace random
}  // namespace array

}  // namespace tessera
