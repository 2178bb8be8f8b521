// Array structure as graphs: transpose (a view fusion can read through), rechunk, slice, reshape.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

namespace {

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

}  // namespace

namespace array_graph {

NDArray reshape_block(const NDArray& a, const Shape& shape) { return a.reshape(shape); }

}  // namespace array_graph

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

}  // namespace tessera
