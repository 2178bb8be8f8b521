// Transposed operands of elementwise expressions read their source chunks directly (no transpose
// task), and reductions of fused expressions evaluate band by band: both against plain C++ loops,
// on odd shapes, uneven chunks and several dtypes, on the sync and threads schedulers.
#include <tessera/collections/array/array.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "support/array_testing.hpp"

namespace {

using namespace array_testing;


/// Deterministic values with both signs and fractions.
std::vector<double> vals(std::int64_t n, int salt = 0) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    v[static_cast<std::size_t>(i)] = static_cast<double>(((i + salt) * 37) % 29) - 14.0 + 0.125 * static_cast<double>((i + salt) % 5);
  }
  return v;
}

/// Row-major (r, c) values: element (i, j).
struct Mat {
  std::int64_t r, c;
  std::vector<double> v;
  double operator()(std::int64_t i, std::int64_t j) const { return v[static_cast<std::size_t>(i * c + j)]; }
};

Mat mat(std::int64_t r, std::int64_t c, int salt = 0) { return Mat{r, c, vals(r * c, salt)}; }

/// want(i, j) over an (r, c) grid, row-major.
std::vector<double> grid(std::int64_t r, std::int64_t c, const std::function<double(std::int64_t, std::int64_t)>& f) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) out.push_back(f(i, j));
  }
  return out;
}

/// check_close with a tighter default tolerance.
void check_near(const NDArray& got, const Shape& shape, const std::vector<double>& want, double tol = 1e-12) {
  check_close(got, shape, want, tol);
}

/// Sums of an (r, c) grid of values over axis 0, 1 or all (-1).
std::vector<double> sums(const std::vector<double>& g, std::int64_t r, std::int64_t c, int axis) {
  if (axis == -1) {
    double s = 0;
    for (double e : g) s += e;
    return {s};
  }
  std::vector<double> out(static_cast<std::size_t>(axis == 0 ? c : r), 0.0);
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) out[static_cast<std::size_t>(axis == 0 ? j : i)] += g[static_cast<std::size_t>(i * c + j)];
  }
  return out;
}

}  // namespace

TEST_SUITE("array.transpose_fusion") {

TEST_CASE("kernel: evaluate reads permuted inputs and row bands like a transposed copy") {
  using P = tessera::ElementwiseProgram;
  // Shapes around the 32 x 256 tile: remainders on both axes, 1 x N, N x 1, a single element.
  const std::vector<Shape> shapes{{37, 53}, {300, 257}, {1, 300}, {300, 1}, {1, 1}, {64, 512}, {0, 5}};
  for (DType t : {DType::float64, DType::float32, DType::int64, DType::int32, DType::bool_, DType::uint8}) {
    for (const auto& s : shapes) {
      CAPTURE(tessera::dtype_name(t));
      CAPTURE(tessera::to_string(s));
      const Shape ts{s[1], s[0]};
      const NDArray x = NDArray::from_vector(vals(s[0] * s[1]), s).astype(t);
      const NDArray src = NDArray::from_vector(vals(s[0] * s[1], 3), ts).astype(t);  // read as src.T
      const NDArray ins[] = {x, src};
      const auto prog = P::binary(tessera::BinaryOp::add, P::input(0, t), P::input(1, t));
      const NDArray want = tessera::apply(tessera::BinaryOp::add, x, tessera::transpose(src));
      const NDArray got = tessera::evaluate(prog, ins, s, tessera::EvaluateView{{{}, {1, 0}}});
      CHECK(tessera::array_equal(got, want));
      // Bands of rows, including an empty one and the last partial one.
      for (std::int64_t r0 : {std::int64_t{0}, s[0] / 3, s[0]}) {
        const std::int64_t r1 = std::min(s[0], r0 + 33);
        const NDArray band = tessera::evaluate(prog, ins, s, tessera::EvaluateView{{{}, {1, 0}}, r0, r1});
        CHECK(tessera::array_equal(band, tessera::slice(want, {tessera::Slice{r0, r1, 1}})));
      }
      // Windows of rows and columns, with and without a transposed operand.
      for (std::int64_t c0 : {std::int64_t{0}, s[1] / 2}) {
        const std::int64_t r0 = s[0] / 4, r1 = std::min(s[0], r0 + 70), c1 = std::min(s[1], c0 + 260);
        const std::vector<tessera::Slice> win{tessera::Slice{r0, r1, 1}, tessera::Slice{c0, c1, 1}};
        CHECK(tessera::array_equal(tessera::evaluate(prog, ins, s, tessera::EvaluateView{{{}, {1, 0}}, r0, r1, c0, c1}),
                                   tessera::slice(want, win)));
        const NDArray plain[] = {x, tessera::transpose(src)};
        CHECK(tessera::array_equal(tessera::evaluate(prog, plain, s, tessera::EvaluateView{{}, r0, r1, c0, c1}),
                                   tessera::slice(want, win)));
      }
      // Transposed operand broadcast against a row and a column vector, with a scalar.
      const NDArray row = NDArray::from_vector(vals(s[1], 7), Shape{1, s[1]}).astype(t);
      const NDArray col = NDArray::from_vector(vals(s[0], 9), Shape{s[0], 1}).astype(t);
      const NDArray ins3[] = {src, row, col};
      const auto prog3 = P::binary(tessera::BinaryOp::maximum,
                                   P::binary(tessera::BinaryOp::mul, P::input(0, t), P::input(1, t)),
                                   P::binary(tessera::BinaryOp::add, P::input(2, t), P::scalar(1)));
      const NDArray want3 = tessera::maximum(tessera::mul(tessera::transpose(src), row),
                                             tessera::apply(tessera::BinaryOp::add, col, tessera::Scalar(1)));
      CHECK(tessera::array_equal(tessera::evaluate(prog3, ins3, s, tessera::EvaluateView{{{1, 0}}}), want3));
    }
  }
  // N-d permutation (generic strided path) and the identity permutation.
  const NDArray a = NDArray::from_vector(vals(5 * 6 * 7), {5, 6, 7});
  const NDArray ins[] = {a};
  const auto prog = P::unary(tessera::UnaryOp::neg, P::input(0, DType::float64));
  CHECK(tessera::array_equal(tessera::evaluate(prog, ins, {7, 5, 6}, tessera::EvaluateView{{{2, 0, 1}}}),
                             tessera::neg(tessera::transpose(a, {2, 0, 1}))));
  CHECK(tessera::array_equal(tessera::evaluate(prog, ins, {7, 5, 6}, tessera::EvaluateView{{{2, 0, 1}}, 2, 5}),
                             tessera::slice(tessera::neg(tessera::transpose(a, {2, 0, 1})), {tessera::Slice{2, 5, 1}})));
  CHECK(tessera::array_equal(tessera::evaluate(prog, ins, {5, 6, 7}, tessera::EvaluateView{{{0, 1, 2}}}), tessera::neg(a)));
  CHECK_THROWS_AS((void)tessera::evaluate(prog, ins, {7, 5, 6}, tessera::EvaluateView{{{2, 2, 1}}}), tessera::ShapeError);
  CHECK_THROWS_AS((void)tessera::evaluate(prog, ins, {5, 6, 7}, tessera::EvaluateView{{}, 3, 9}), tessera::ShapeError);
  CHECK_THROWS_AS((void)tessera::evaluate(prog, ins, {5, 6, 7}, tessera::EvaluateView{{}, 0, 2, 4, 7}), tessera::ShapeError);
  // A window of columns of a 3-d output (gather path), permuted and not.
  CHECK(tessera::array_equal(tessera::evaluate(prog, ins, {7, 5, 6}, tessera::EvaluateView{{{2, 0, 1}}, 1, 6, 2, 4}),
                             tessera::slice(tessera::neg(tessera::transpose(a, {2, 0, 1})),
                                            {tessera::Slice{1, 6, 1}, tessera::Slice{2, 4, 1}})));
  CHECK(tessera::array_equal(tessera::evaluate(prog, ins, {5, 6, 7}, tessera::EvaluateView{{}, 1, 4, 3, 6}),
                             tessera::slice(tessera::neg(a), {tessera::Slice{1, 4, 1}, tessera::Slice{3, 6, 1}})));
}

TEST_CASE_TEMPLATE("x + x.T reads x[i, j] and x[j, i] in one task per chunk, no transpose task", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const std::int64_t n = 67;  // prime, uneven last chunk
  const Mat m = mat(n, n);
  auto x = ta::from_vector(m.v, {n, n}, {20, 20});
  auto e = x + x.T();
  CHECK(e.chunks() == x.chunks());
  const auto names = task_names(e);
  CHECK(names.count("transpose") == 0);
  CHECK(static_cast<std::int64_t>(names.count("add")) == e.nblocks());
  // Chunk (1, 2) depends on exactly x[1, 2] and x[2, 1].
  const auto& node = *e.blocks()[1 * 4 + 2].node();
  REQUIRE(node.inputs.size() == 2);
  const auto xb = x.blocks();
  CHECK(node.inputs[0]->hash == xb[1 * 4 + 2].node()->hash);
  CHECK(node.inputs[1]->hash == xb[2 * 4 + 1].node()->hash);
  // x + x on the diagonal chunk has the same inputs but another key.
  CHECK((x + x).blocks()[0].key() != e.blocks()[0].key());
  // x.T alone is unchanged: transpose tasks.
  CHECK(task_names(x.T()).count("transpose") == static_cast<std::size_t>(x.nblocks()));
  const auto want = grid(n, n, [&](auto i, auto j) { return m(i, j) + m(j, i); });
  check_near(tessera::compute(e, s), {n, n}, want, 0);
  check_near(tessera::compute(e.sum(), s), {}, sums(want, n, n, -1));
  check_near(tessera::compute(e.sum({0}), s), {n}, sums(want, n, n, 0));
  check_near(tessera::compute(e.sum({1}, {.keepdims = true}), s), {n, 1}, sums(want, n, n, 1));
  // Same expression built twice: same keys.
  CHECK((x + x.T()).blocks()[5].key() == e.blocks()[5].key());
}

TEST_CASE_TEMPLATE("transposed operands in longer chains, dtypes, 1xN and Nx1", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  SUBCASE("sqrt(abs(x.T)) * y + 1 on a non-square array") {
    const std::int64_t r = 41, c = 29;
    const Mat xm = mat(r, c), ym = mat(c, r, 11);
    auto x = ta::from_vector(xm.v, {r, c}, {10, 7});
    auto y = ta::from_vector(ym.v, {c, r}, {7, 10});  // lines up with x.T
    auto e = tessera::sqrt(tessera::abs(x.T())) * y + 1;
    CHECK(task_names(e).count("transpose") == 0);
    const auto want = grid(c, r, [&](auto i, auto j) { return std::sqrt(std::abs(xm(j, i))) * ym(i, j) + 1; });
    check_near(tessera::compute(e, s), {c, r}, want);
    check_near(tessera::compute(e.sum({0}), s), {r}, sums(want, c, r, 0));
    check_near(tessera::compute(e.mean(), s), {}, {sums(want, c, r, -1)[0] / static_cast<double>(r * c)});
  }
  SUBCASE("x.T + x.T and (x - x.T).sum(axis=0)") {
    const std::int64_t n = 31;
    const Mat xm = mat(n, n, 2);
    auto x = ta::from_vector(xm.v, {n, n}, {8, 8});
    check_near(tessera::compute(x.T() + x.T(), s), {n, n}, grid(n, n, [&](auto i, auto j) { return 2 * xm(j, i); }), 0);
    const auto d = grid(n, n, [&](auto i, auto j) { return xm(i, j) - xm(j, i); });
    check_near(tessera::compute((x - x.T()).sum({0}), s), {n}, sums(d, n, n, 0));
    // x.T.T is x again, through two views.
    check_near(tessera::compute(x.T().T() * 2.0, s), {n, n}, grid(n, n, [&](auto i, auto j) { return 2 * xm(i, j); }), 0);
  }
  SUBCASE("float32, int64 and bool operands") {
    const std::int64_t n = 23;
    const Mat xm = mat(n, n, 4);
    auto x = ta::from_vector(xm.v, {n, n}, {6, 6});
    auto xf = x.astype(DType::float32);
    auto xi = x.astype(DType::int64);
    auto xb = x > 0.0;
    auto f = xf + xf.T();
    CHECK(f.dtype() == DType::float32);
    check_near(tessera::compute(f, s), {n, n}, grid(n, n, [&](auto i, auto j) {
                  return static_cast<double>(static_cast<float>(xm(i, j)) + static_cast<float>(xm(j, i)));
                }), 0);
    // Persisted integer x: the transposed read is of a materialized int64 chunk.
    auto xip = tessera::persist(xi, s);
    auto g = xip * xip.T() - 3;
    CHECK(g.dtype() == DType::int64);
    const auto gw = grid(n, n, [&](auto i, auto j) {
      return static_cast<double>(static_cast<std::int64_t>(xm(i, j)) * static_cast<std::int64_t>(xm(j, i)) - 3);
    });
    check_near(tessera::compute(g, s), {n, n}, gw, 0);
    check_near(tessera::compute(g.sum(), s), {}, sums(gw, n, n, -1), 0);
    auto xbp = tessera::persist(xb, s);
    auto h = xbp && !xbp.T();
    const auto hw = grid(n, n, [&](auto i, auto j) { return (xm(i, j) > 0 && !(xm(j, i) > 0)) ? 1.0 : 0.0; });
    check_near(tessera::compute(h, s), {n, n}, hw, 0);
    check_near(tessera::compute(h.count_nonzero(), s), {}, sums(hw, n, n, -1), 0);
    check_near(tessera::compute(h.any({1}), s), {n}, [&] {
      std::vector<double> v;
      for (double e : sums(hw, n, n, 1)) v.push_back(e > 0 ? 1.0 : 0.0);
      return v;
    }(), 0);
  }
  SUBCASE("1 x N and N x 1") {
    const std::int64_t n = 37;
    const Mat rm = mat(1, n, 5), cm = mat(n, 1, 6);
    auto row = ta::from_vector(rm.v, {1, n}, {1, 10});
    auto col = ta::from_vector(cm.v, {n, 1}, {10, 1});
    check_near(tessera::compute(row.T() * col, s), {n, 1}, grid(n, 1, [&](auto i, auto) { return rm(0, i) * cm(i, 0); }), 0);
    check_near(tessera::compute(col.T() - row, s), {1, n}, grid(1, n, [&](auto, auto j) { return cm(j, 0) - rm(0, j); }), 0);
    // Broadcast of a transposed column against a column: (1, n) with (n, 1) gives (n, n).
    const auto outer = grid(n, n, [&](auto i, auto j) { return cm(j, 0) + cm(i, 0); });
    check_near(tessera::compute(col.T() + col, s), {n, n}, outer, 0);
    check_near(tessera::compute((col.T() + col).sum({1}), s), {n}, sums(outer, n, n, 1));
  }
}

TEST_CASE_TEMPLATE("grids that do not line up fall back to the materializing path", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const std::int64_t n = 29;
  const Mat m = mat(n, n, 8);
  auto x = ta::from_vector(m.v, {n, n}, {10, 7});  // x.T has chunks ((7, ...), (10, ...))
  auto e = x + x.T();
  CHECK(task_names(e).count("transpose") > 0);  // rechunked transposed blocks
  const auto want = grid(n, n, [&](auto i, auto j) { return m(i, j) + m(j, i); });
  check_near(tessera::compute(e, s), {n, n}, want, 0);
  check_near(tessera::compute(e.sum(), s), {}, sums(want, n, n, -1));
  // Non-square x against y of another chunking than x.T.
  const Mat ym = mat(13, n, 9);
  auto xr = ta::from_vector(mat(n, 13, 1).v, {n, 13}, {9, 13});
  const Mat xrm = mat(n, 13, 1);
  auto y = ta::from_vector(ym.v, {13, n}, {5, 11});
  const auto w2 = grid(13, n, [&](auto i, auto j) { return xrm(j, i) * ym(i, j); });
  check_near(tessera::compute(xr.T() * y, s), {13, n}, w2, 0);
  check_near(tessera::compute((xr.T() * y).sum({1}), s), {13}, sums(w2, 13, n, 1));
}

TEST_CASE_TEMPLATE("reductions of big fused chunks go band by band with the same results", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  // Chunks of 600 x 257 (> 128 Ki elements): bands of 448 and 152 rows. Chunks of 20 x 8200:
  // windows of 8 and 2 rows by 8192 and 8 columns, so every reduced axis is split.
  for (const auto& cfg : {std::array<std::int64_t, 4>{1200, 257, 600, 257}, std::array<std::int64_t, 4>{40, 8200, 20, 8200}}) {
  const std::int64_t r = cfg[0], c = cfg[1], cr = cfg[2], cc = cfg[3];
  CAPTURE(r);
  const Mat xm = mat(r, c, 12), ym = mat(c, r, 13);
  auto x = ta::from_vector(xm.v, {r, c}, {cr, cc});
  auto y = ta::from_vector(ym.v, {c, r}, {cc, cr});
  auto e = x * 0.5 + y.T();
  const auto want = grid(r, c, [&](auto i, auto j) { return xm(i, j) * 0.5 + ym(j, i); });
  for (int axis : {-1, 0, 1}) {
    CAPTURE(axis);
    const std::vector<int> axes = axis < 0 ? std::vector<int>{} : std::vector<int>{axis};
    const Shape out = axis < 0 ? Shape{} : Shape{axis == 0 ? c : r};
    const auto sw = sums(want, r, c, axis);
    check_near(tessera::compute(e.sum(axes), s), out, sw);
    const double cnt = axis < 0 ? static_cast<double>(r * c) : static_cast<double>(axis == 0 ? r : c);
    std::vector<double> mw, vw, minw, maxw;
    for (double v : sw) mw.push_back(v / cnt);
    // Variance, min, max by direct loops; element (i, j) belongs to group k.
    vw.assign(sw.size(), 0.0);
    minw.assign(sw.size(), 1e300);
    maxw.assign(sw.size(), -1e300);
    for (std::int64_t i = 0; i < r; ++i) {
      for (std::int64_t j = 0; j < c; ++j) {
        const auto k = static_cast<std::size_t>(axis < 0 ? 0 : axis == 0 ? j : i);
        const double v = want[static_cast<std::size_t>(i * c + j)];
        vw[k] += (v - mw[k]) * (v - mw[k]);
        minw[k] = std::min(minw[k], v);
        maxw[k] = std::max(maxw[k], v);
      }
    }
    for (auto& v : vw) v /= cnt - 1;
    check_near(tessera::compute(e.mean(axes), s), out, mw);
    check_near(tessera::compute(e.var(axes, 1.0), s), out, vw, 1e-10);
    check_near(tessera::compute(e.min(axes), s), out, minw, 0);
    check_near(tessera::compute(e.max(axes), s), out, maxw, 0);
  }
  // keepdims, and a fused expression without a transposed operand.
  check_near(tessera::compute((x * 2.0).sum({1}, {.keepdims = true}), s), {r, 1},
              sums(grid(r, c, [&](auto i, auto j) { return 2 * xm(i, j); }), r, c, 1));
  // Integer sums are exact.
  auto xi = (x * 8.0).astype(DType::int64);
  auto yi = (y * 8.0).astype(DType::int64);
  const auto iw = grid(r, c, [&](auto i, auto j) { return xm(i, j) * 8 - ym(j, i) * 8; });
  check_near(tessera::compute((tessera::persist(xi, s) - tessera::persist(yi, s).T()).sum(), s), {}, sums(iw, r, c, -1), 0);
  }
}

}  // TEST_SUITE
