// Array linear algebra as graphs: matmul (block products summed by a tree) and tensordot.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

namespace {

NDArray matmul_block(const NDArray& a, const NDArray& b) { return matmul(a, b); }

}  // namespace

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

}  // namespace tessera
