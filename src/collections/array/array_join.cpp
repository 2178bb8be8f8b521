// Arrays from several arrays: concatenate and stack.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

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

}  // namespace tessera
