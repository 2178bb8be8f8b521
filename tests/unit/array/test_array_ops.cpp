// The lazy chunked Array against plain C++ loops, on the sync and threads schedulers.
#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "support/array_testing.hpp"

namespace {

using namespace array_testing;

using tessera::Slice;

/// Deterministic test values: x[i] = ((i * 37) % 23) - 11 + 0.25 * (i % 3).
std::vector<double> values(std::int64_t n, int salt = 0) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(((i + salt) * 37) % 23) - 11.0 + 0.25 * static_cast<double>(i % 3);
  return v;
}

std::vector<double> as_doubles(const NDArray& a) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < a.size(); ++i) v.push_back(a.value_as_double(i));
  return v;
}


/// Reference reduction of a row-major (r, c) matrix over axis 0, 1 or both (-1).
std::vector<double> ref_reduce(const std::vector<double>& x, std::int64_t r, std::int64_t c, int axis,
                               const std::function<double(const std::vector<double>&)>& f) {
  std::vector<double> out;
  if (axis == -1) return {f(x)};
  if (axis == 0) {
    for (std::int64_t j = 0; j < c; ++j) {
      std::vector<double> col;
      for (std::int64_t i = 0; i < r; ++i) col.push_back(x[static_cast<std::size_t>(i * c + j)]);
      out.push_back(f(col));
    }
  } else {
    for (std::int64_t i = 0; i < r; ++i) {
      out.push_back(f(std::vector<double>(x.begin() + i * c, x.begin() + (i + 1) * c)));
    }
  }
  return out;
}

double vsum(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e;
  return s;
}
double vmean(const std::vector<double>& v) { return vsum(v) / static_cast<double>(v.size()); }
double vvar(const std::vector<double>& v, double ddof) {
  const double m = vmean(v);
  double s = 0;
  for (double e : v) s += (e - m) * (e - m);
  return s / (static_cast<double>(v.size()) - ddof);
}

}  // namespace

TEST_SUITE("array.lazy") {

TEST_CASE_TEMPLATE("creation: zeros, ones, full, arange, linspace, from_ndarray", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  auto z = ta::zeros({7, 5}, Shape{3, 2}, DType::int32);
  CHECK(z.chunks() == Chunks{{3, 3, 1}, {2, 2, 1}});
  check_close(tessera::compute(z, s), {7, 5}, std::vector<double>(35, 0.0));
  CHECK(tessera::compute(z, s).dtype() == DType::int32);
  check_close(tessera::compute(ta::ones({4}, Chunks{{1, 3}}), s), {4}, {1, 1, 1, 1});
  check_close(tessera::compute(ta::full({2, 3}, 2.5, Shape{1, 2}), s), {2, 3}, std::vector<double>(6, 2.5));
  // arange over uneven chunks equals the one-chunk kernel.
  auto ar = ta::arange(1.5, 20.0, 1.25, 4);
  check_close(tessera::compute(ar, s), {15}, as_doubles(NDArray::arange(1.5, 20.0, 1.25)), 0);
  check_close(tessera::compute(ta::arange(0, 13, 1, 5, DType::int64), s), {13},
              as_doubles(NDArray::arange(0, 13, 1, DType::int64)), 0);
  check_close(tessera::compute(ta::linspace(0, 1, 11, 3), s), {11}, as_doubles(NDArray::linspace(0, 1, 11)), 0);
  check_close(tessera::compute(ta::linspace(2, 3, 7, 2, false), s), {7}, as_doubles(NDArray::linspace(2, 3, 7, false)), 0);
  // 0-d and 1-element arrays.
  auto scalar = ta::from_ndarray(NDArray::scalar(3.5), Shape{});
  CHECK(scalar.ndim() == 0);
  check_close(tessera::compute(scalar * 2.0, s), {}, {7.0});
  check_close(tessera::compute(ta::from_vector<double>({4.0}, {1}, {1}) + 1, s), {1}, {5.0});
  // from_vector in uneven chunks round-trips.
  auto v = values(13 * 7);
  auto x = ta::from_vector(v, {13, 7}, {5, 3});
  CHECK(x.nblocks() == 9);
  check_close(tessera::compute(x, s), {13, 7}, v, 0);
  // Bad chunks are refused when built.
  CHECK_THROWS_AS(ta::zeros({5}, Chunks{{2, 2}}), tessera::ShapeError);
  CHECK_THROWS_AS(Array(Shape{3}, DType::float64, Chunks{{3}}, {}), tessera::ShapeError);
}

TEST_CASE_TEMPLATE("random arrays are chunk independent", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const Shape shape{11, 7};
  const NDArray whole = tessera::random_normal(7, 1.0, 2.0, shape, {0, 0}, shape);
  CHECK(tessera::array_equal(tessera::compute(ta::random::normal(7, 1.0, 2.0, shape, Shape{3, 4}), s), whole));
  CHECK(tessera::array_equal(tessera::compute(ta::random::normal(7, 1.0, 2.0, shape, Chunks{{1, 10}, {7}}), s), whole));
  const NDArray u = tessera::random_uniform(9, {29}, {0}, {29}, -1, 1);
  CHECK(tessera::array_equal(tessera::compute(ta::random::uniform(9, {29}, Shape{6}, -1, 1), s), u));
  auto ints = tessera::compute(ta::random::integers(3, -5, 5, {23}, Shape{4}), s);
  CHECK(tessera::array_equal(ints, tessera::random_integers(3, -5, 5, {23}, {0}, {23})));
  CHECK_THROWS_AS(ta::random::integers(3, 5, 5, {3}, Shape{1}), tessera::ShapeError);
}

TEST_CASE_TEMPLATE("elementwise chains fuse into one task per chunk", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const auto xv = values(13 * 7), yv = values(13 * 7, 5);
  auto x = ta::from_vector(xv, {13, 7}, {5, 3});
  auto y = ta::from_vector(yv, {13, 7}, {4, 7});  // other chunks: aligned by rechunking
  auto e = tessera::sqrt(tessera::abs(x * 2.0 + y)) - tessera::exp(-tessera::abs(y) / 10.0) + (x > y);
  CHECK(e.is_pending());
  CHECK(e.dtype() == DType::float64);
  std::vector<double> want;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    want.push_back(std::sqrt(std::abs(xv[i] * 2 + yv[i])) - std::exp(-std::abs(yv[i]) / 10) + (xv[i] > yv[i] ? 1 : 0));
  }
  check_close(tessera::compute(e, s), {13, 7}, want, 1e-12);
  // One fused task per output chunk on top of the inputs (+ rechunk tasks for y).
  const auto names = task_names(e);
  std::size_t fused = 0;
  for (const auto& n : names) fused += (n != "array" && n != "rechunk") ? 1 : 0;
  CHECK(e.chunks() == Chunks{{4, 1, 3, 2, 2, 1}, {3, 3, 1}});
  CHECK(static_cast<std::int64_t>(fused) == e.nblocks());
  // Same expression, same keys (deterministic graph).
  auto e2 = tessera::sqrt(tessera::abs(x * 2.0 + y)) - tessera::exp(-tessera::abs(y) / 10.0) + (x > y);
  CHECK(e2.blocks()[3].key() == e.blocks()[3].key());
}

TEST_CASE_TEMPLATE("elementwise: broadcasting, scalars, dtypes, where, clip, pow, floordiv, mod", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const auto mv = values(5 * 3);
  auto m = ta::from_vector(mv, {5, 3}, {2, 2});
  auto row = ta::from_vector<std::int32_t>({1, 2, 3}, {3}, {2});
  auto col = ta::from_vector<double>({1, -1, 2, -2, 3}, {5, 1}, {3, 1});
  auto r = m * row + col;
  std::vector<double> want;
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 3; ++j) want.push_back(mv[static_cast<std::size_t>(i * 3 + j)] * (j + 1) + std::vector<double>{1, -1, 2, -2, 3}[static_cast<std::size_t>(i)]);
  }
  check_close(tessera::compute(r, s), {5, 3}, want);
  // dtype promotion per the kernels.
  auto iv = ta::arange(0, 10, 1, 3, DType::int32);
  CHECK((iv + 1).dtype() == DType::int32);
  CHECK((iv + 1.5).dtype() == DType::float64);
  CHECK((iv / 2).dtype() == DType::float64);
  CHECK((iv < 3).dtype() == DType::bool_);
  CHECK(iv.astype(DType::float32).dtype() == DType::float32);
  std::vector<double> fd, md, pw, cl, wh;
  for (int i = 0; i < 10; ++i) {
    fd.push_back(std::floor(i / 3.0));
    md.push_back(i % 3);
    pw.push_back(i * i);
    cl.push_back(std::min(std::max(i, 2), 6));
    wh.push_back(i % 2 == 0 ? i : -1);
  }
  check_close(tessera::compute(tessera::floordiv(iv, 3), s), {10}, fd, 0);
  check_close(tessera::compute(iv % 3, s), {10}, md, 0);
  check_close(tessera::compute(tessera::pow(iv, 2), s), {10}, pw, 0);
  check_close(tessera::compute(tessera::clip(iv, 2, 6), s), {10}, cl, 0);
  check_close(tessera::compute(tessera::where((iv % 2) == 0, iv, ta::full({10}, -1, Shape{4}, DType::int32)), s), {10}, wh, 0);
  // x + x uses one input slot; scalar on the left.
  auto xx = 10.0 - (m + m);
  CHECK(xx.state() != nullptr);
  std::vector<double> w2;
  for (double v : mv) w2.push_back(10 - 2 * v);
  check_close(tessera::compute(xx, s), {5, 3}, w2);
  // Errors are thrown while building, naming both shapes.
  auto bad = ta::zeros({4, 2}, Shape{2, 2});
  CHECK_THROWS_WITH_AS(m + bad, doctest::Contains("(5, 3)"), tessera::ShapeError);
  CHECK_THROWS_AS(-(iv < 3), tessera::DTypeError);
}

TEST_CASE_TEMPLATE("reductions over all and chosen axes with keepdims", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const std::int64_t R = 13, C = 7;
  const auto xv = values(R * C);
  auto x = ta::from_vector(xv, {R, C}, {3, 2});  // 5 x 4 blocks, uneven last ones
  auto fmin = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
  auto fmax = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  auto fprod = [](const std::vector<double>& v) {
    double p = 1;
    for (double e : v) p *= e / 8;
    return p;
  };
  for (int axis : {-1, 0, 1}) {
    CAPTURE(axis);
    const std::vector<int> axes = axis < 0 ? std::vector<int>{} : std::vector<int>{axis};
    const Shape out = axis < 0 ? Shape{} : axis == 0 ? Shape{C} : Shape{R};
    check_close(tessera::compute(x.sum(axes), s), out, ref_reduce(xv, R, C, axis, vsum));
    check_close(tessera::compute(x.mean(axes), s), out, ref_reduce(xv, R, C, axis, vmean));
    check_close(tessera::compute(x.min(axes), s), out, ref_reduce(xv, R, C, axis, fmin));
    check_close(tessera::compute(x.max(axes), s), out, ref_reduce(xv, R, C, axis, fmax));
    check_close(tessera::compute((x / 8.0).prod(axes), s), out, ref_reduce(xv, R, C, axis, fprod));
    check_close(tessera::compute(x.var(axes, 1.0), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) { return vvar(v, 1); }));
    check_close(tessera::compute(x.std(axes), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) { return std::sqrt(vvar(v, 0)); }));
    check_close(tessera::compute((x > 5.0).count_nonzero(axes), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) {
                  return static_cast<double>(std::count_if(v.begin(), v.end(), [](double e) { return e > 5; }));
                }));
    check_close(tessera::compute((x > 9.0).any(axes), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) {
                  return std::any_of(v.begin(), v.end(), [](double e) { return e > 9; }) ? 1.0 : 0.0;
                }));
    check_close(tessera::compute((x > -11.0).all(axes), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) {
                  return std::all_of(v.begin(), v.end(), [](double e) { return e > -11; }) ? 1.0 : 0.0;
                }));
    check_close(tessera::compute(x.count(axes), s), out,
                ref_reduce(xv, R, C, axis, [](const std::vector<double>& v) { return static_cast<double>(v.size()); }));
  }
  // keepdims and dtypes.
  auto k = x.sum({1}, {.keepdims = true});
  CHECK(k.shape() == Shape{R, 1});
  check_close(tessera::compute(k, s), {R, 1}, ref_reduce(xv, R, C, 1, vsum));
  CHECK(ta::arange(0, 10, 1, 3, DType::int32).sum().dtype() == DType::int64);
  CHECK(tessera::compute(ta::arange(0, 10, 1, 3, DType::int32).sum(), s).value_as_double(0) == 45);
  // A fused elementwise input is evaluated inside the partial task.
  check_close(tessera::compute((x * x).sum(), s), {}, {[&] {
    double t = 0;
    for (double v : xv) t += v * v;
    return t;
  }()});
  // Errors while building.
  CHECK_THROWS_AS((void)x.sum({2}), tessera::ShapeError);
  CHECK_THROWS_AS((void)x.sum({0, 0}), tessera::ShapeError);
  CHECK_THROWS_AS((void)ta::zeros({0}, Shape{1}).max(), tessera::ShapeError);
  // Empty sum is 0, mean of nothing is NaN.
  CHECK(tessera::compute(ta::zeros({0}, Shape{1}).sum(), s).value_as_double(0) == 0);
  CHECK(std::isnan(tessera::compute(ta::zeros({0, 3}, Shape{1, 2}).mean(), s).value_as_double(0)));
  // 0-d
  check_close(tessera::compute(ta::from_ndarray(NDArray::scalar(4.0), Shape{}).sum(), s), {}, {4.0});
}

TEST_CASE_TEMPLATE("tree reductions are log depth, the lesson's 4-chunk mean is 4 -> 4 -> 1", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  auto x = ta::random::normal(1, 0.0, 0.1, {1000}, Shape{250});
  auto m = x.mean();
  auto names = task_names(m);
  CHECK(names.count("normal") == 4);
  CHECK(names.count("mean-partial") == 4);
  CHECK(names.count("mean-aggregate") == 1);
  CHECK(names.size() == 9);
  const NDArray whole = tessera::random_normal(1, 0.0, 0.1, {1000}, {0}, {1000});
  CHECK(tessera::compute(m, s).value_as_double(0) == doctest::Approx(tessera::finalize_mean(tessera::partial_moments(whole)).value_as_double(0)).epsilon(1e-12));
  // 37 chunks, split_every 3: 37 -> 13 -> 5 -> 2 -> aggregate (a lone leftover is passed on).
  auto y = ta::random::uniform(2, {370}, Shape{10});
  auto ys = y.sum({}, {.split_every = 3});
  auto yn = task_names(ys);
  CHECK(yn.count("sum-partial") == 37);
  CHECK(yn.count("sum-combine") == 12 + 4 + 2);
  CHECK(yn.count("sum-aggregate") == 1);
  CHECK(tessera::compute(ys, s).value_as_double(0) ==
        doctest::Approx(tessera::sum(tessera::random_uniform(2, {370}, {0}, {370})).value_as_double(0)).epsilon(1e-12));
  // Unequal chunks: mean is count weighted.
  auto u = ta::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9, 100}, {10}, {1});
  check_close(tessera::compute(u.rechunk(Chunks{{1, 9}}).mean(), s), {}, {14.5});
  check_close(tessera::compute(u.rechunk(Chunks{{7, 3}}).var(), s), {}, {vvar({1, 2, 3, 4, 5, 6, 7, 8, 9, 100}, 0)});
}

TEST_CASE_TEMPLATE("argmin and argmax, flat and along an axis", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const std::int64_t R = 11, C = 5;
  auto xv = values(R * C);
  xv[37] = -50;  // unique minimum
  xv[12] = 50;   // unique maximum
  auto x = ta::from_vector(xv, {R, C}, {3, 2});
  CHECK(tessera::compute(x.argmin(), s).value_as_double(0) == 37);
  CHECK(tessera::compute(x.argmax(), s).value_as_double(0) == 12);
  auto idx = [&](int axis, bool mx) {
    std::vector<double> out;
    const std::int64_t n = axis == 0 ? C : R, len = axis == 0 ? R : C;
    for (std::int64_t o = 0; o < n; ++o) {
      std::int64_t best = 0;
      for (std::int64_t i = 1; i < len; ++i) {
        const double a = axis == 0 ? xv[static_cast<std::size_t>(i * C + o)] : xv[static_cast<std::size_t>(o * C + i)];
        const double b = axis == 0 ? xv[static_cast<std::size_t>(best * C + o)] : xv[static_cast<std::size_t>(o * C + best)];
        if (mx ? a > b : a < b) best = i;
      }
      out.push_back(static_cast<double>(best));
    }
    return out;
  };
  check_close(tessera::compute(x.argmin(0), s), {C}, idx(0, false), 0);
  check_close(tessera::compute(x.argmax(1), s), {R}, idx(1, true), 0);
  check_close(tessera::compute(x.argmin(-1, {.keepdims = true}), s), {R, 1}, idx(1, false), 0);
  // Ties pick the first; fused input.
  auto t = ta::from_vector<double>({3, 1, 1, 0, 0}, {5}, {2});
  CHECK(tessera::compute((t + 1).argmin(), s).value_as_double(0) == 3);
  CHECK_THROWS_AS((void)ta::zeros({0}, Shape{1}).argmin(), tessera::ShapeError);
  // An empty array with a non-empty reduced axis gives an empty int64 result (NumPy); an
  // empty reduced axis still raises.
  auto e = ta::zeros({0, 4}, Shape{1, 2});
  const NDArray am = tessera::compute(e.argmax(1), s);
  CHECK(am.dtype() == DType::int64);
  CHECK(am.shape() == Shape{0});
  CHECK(tessera::compute(e.argmin(-1, {.keepdims = true}), s).shape() == Shape{0, 1});
  CHECK_THROWS_AS((void)e.argmax(0), tessera::ShapeError);
  CHECK_THROWS_AS((void)e.argmax(), tessera::ShapeError);
  CHECK_THROWS_AS((void)x.argmin(2), tessera::ShapeError);
}

TEST_CASE_TEMPLATE("structure: transpose, slicing, rechunk, reshape", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const std::int64_t R = 7, C = 5;
  const auto xv = values(R * C);
  auto x = ta::from_vector(xv, {R, C}, {3, 2});
  // transpose + add, then sum (the MPI suite's representative).
  auto xt = x.transpose();
  CHECK(xt.shape() == Shape{C, R});
  CHECK(xt.chunks() == Chunks{{2, 2, 1}, {3, 3, 1}});
  std::vector<double> tw;
  for (std::int64_t j = 0; j < C; ++j) {
    for (std::int64_t i = 0; i < R; ++i) tw.push_back(xv[static_cast<std::size_t>(i * C + j)]);
  }
  check_close(tessera::compute(xt, s), {C, R}, tw, 0);
  auto sq = ta::from_vector(values(49), {7, 7}, {3, 3});
  auto sym = (sq + sq.T()).sum({0});
  auto sv = values(49);
  std::vector<double> symw(7, 0.0);
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 7; ++j) symw[static_cast<std::size_t>(j)] += sv[static_cast<std::size_t>(i * 7 + j)] + sv[static_cast<std::size_t>(j * 7 + i)];
  }
  check_close(tessera::compute(sym, s), {7}, symw);
  CHECK_THROWS_AS((void)x.transpose({0, 0}), tessera::ShapeError);
  // Slicing with steps, negative indices and empty results.
  auto ref_slice = [&](std::vector<Slice> sl) { return tessera::slice(NDArray::from_vector(xv, {R, C}), sl); };
  for (const auto& sl : std::vector<std::vector<Slice>>{
           {Slice{1, 6, 2}, Slice{}},
           {Slice{std::nullopt, std::nullopt, -1}, Slice{-4, -1, 1}},
           {Slice{-2, 0, -3}, Slice{4, std::nullopt, -2}},
           {Slice{5, 2, 1}},
           {Slice{2, 3, 1}, Slice{1, 2, 1}},
           {Slice{0, 100, 4}}}) {
    const NDArray want = ref_slice(sl);
    const NDArray got = tessera::compute(x.slice(sl), s);
    CHECK(tessera::array_equal(got, want));
    CHECK(got.shape() == want.shape());
  }
  CHECK(tessera::array_equal(tessera::compute(x({Slice{1, 3, 1}}) * 2, s),
                             tessera::mul(ref_slice({Slice{1, 3, 1}}), NDArray::scalar(2.0))));
  CHECK_THROWS_AS((void)x.slice({Slice{}, Slice{}, Slice{}}), tessera::ShapeError);
  CHECK_THROWS_AS((void)x.slice({Slice{0, 3, 0}}), tessera::ShapeError);
  // rechunk
  auto rc = x.rechunk(Chunks{{1, 6}, {5}});
  CHECK(rc.chunks() == Chunks{{1, 6}, {5}});
  check_close(tessera::compute(rc, s), {R, C}, xv, 0);
  check_close(tessera::compute(x.rechunk(Shape{4, 4}), s), {R, C}, xv, 0);
  CHECK_THROWS_AS((void)x.rechunk(Chunks{{7}, {4}}), tessera::ShapeError);
  // reshape
  auto flat = x.reshape({-1});
  CHECK(flat.shape() == Shape{R * C});
  check_close(tessera::compute(flat, s), {R * C}, xv, 0);
  auto y = ta::from_vector(values(24), {24}, {12});
  auto y3 = y.reshape({4, 2, 3});
  CHECK(y3.chunks() == Chunks{{2, 2}, {2}, {3}});
  check_close(tessera::compute(y3, s), {4, 2, 3}, values(24), 0);
  check_close(tessera::compute(y3.reshape({1, 24, 1}), s), {1, 24, 1}, values(24), 0);
  // Chunks that do not fall on whole rows of the new shape are rechunked first (as Dask).
  auto odd = ta::from_vector(values(24), {24}, {5}).reshape({4, 6});
  CHECK(odd.chunks() == Chunks{{1, 1, 1, 1}, {6}});
  check_close(tessera::compute(odd, s), {4, 6}, values(24), 0);
  auto odd2 = ta::from_vector(values(60), {6, 10}, {4, 3}).reshape({3, 20});
  check_close(tessera::compute(odd2, s), {3, 20}, values(60), 0);
  check_close(tessera::compute(ta::from_vector(values(60), {60}, {7}).reshape({5, 3, 4}), s), {5, 3, 4}, values(60), 0);
  CHECK_THROWS_AS((void)x.reshape({4, 4}), tessera::ShapeError);
}

TEST_CASE_TEMPLATE("concatenate, stack, matmul, tensordot", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  auto a = ta::from_vector(values(15), {3, 5}, {2, 2});
  auto b = ta::from_vector<std::int32_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {2, 5}, {1, 3});
  const NDArray an = NDArray::from_vector(values(15), {3, 5});
  const NDArray bn = NDArray::from_vector<std::int32_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {2, 5});
  auto c = tessera::concatenate({a, b}, 0);
  CHECK(c.dtype() == DType::float64);
  CHECK(tessera::array_equal(tessera::compute(c, s), tessera::concatenate(std::vector{an, bn}, 0)));
  CHECK(tessera::array_equal(tessera::compute(tessera::concatenate({a.T(), b.T()}, 1), s),
                             tessera::concatenate(std::vector{tessera::transpose(an), tessera::transpose(bn)}, 1)));
  CHECK_THROWS_AS(tessera::concatenate({a, b}, 1), tessera::ShapeError);
  auto st = tessera::stack({a, a * 2.0}, 1);
  CHECK(st.shape() == Shape{3, 2, 5});
  CHECK(tessera::array_equal(tessera::compute(st, s),
                             tessera::stack(std::vector{an, tessera::mul(an, NDArray::scalar(2.0))}, 1)));
  // matmul: a (3,5) @ m (5,4) with mismatched inner chunks.
  auto m = ta::from_vector(values(20, 3), {5, 4}, {3, 3});
  const NDArray mn = NDArray::from_vector(values(20, 3), {5, 4});
  const NDArray want = tessera::matmul(an, mn);
  CHECK(tessera::allclose(tessera::compute(tessera::matmul(a, m), s), want, 1e-12, 1e-12));
  CHECK(tessera::allclose(tessera::compute(tessera::matmul(a, m, 2), s), want, 1e-12, 1e-12));
  auto big = ta::from_vector(values(40 * 3), {40, 3}, {5, 2});
  const NDArray bign = NDArray::from_vector(values(40 * 3), {40, 3});
  CHECK(tessera::allclose(tessera::compute(tessera::dot(big.T(), big), s),
                          tessera::matmul(tessera::transpose(bign), bign), 1e-12, 1e-9));
  CHECK_THROWS_WITH_AS(tessera::matmul(a, a), doctest::Contains("(3, 5)"), tessera::ShapeError);
  CHECK(tessera::allclose(tessera::compute(tessera::tensordot(a, a, {1}, {1}), s),
                          tessera::tensordot(an, an, {1}, {1}), 1e-12, 1e-12));
  CHECK(tessera::allclose(tessera::compute(tessera::tensordot(a, a, 2), s), tessera::tensordot(an, an, 2), 1e-12, 1e-12));
}

namespace {
NDArray double_it(const NDArray& a) { return tessera::mul(a, NDArray::scalar(2.0)); }
NDArray add_all(const std::vector<NDArray>& v) { return tessera::add(tessera::add(v[0], v[1]), v[2]); }
}  // namespace

TEST_CASE_TEMPLATE("map_blocks, blockwise and persist", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const auto xv = values(17);
  auto x = ta::from_vector(xv, {17}, {5});
  auto d = tessera::map_blocks(double_it, x + 1.0, {.name = "double"});
  std::vector<double> want;
  for (double v : xv) want.push_back(2 * (v + 1));
  check_close(tessera::compute(d, s), {17}, want);
  auto y = ta::from_vector(values(17, 2), {17}, {4});
  auto z = ta::ones({17}, Shape{17});
  auto bw = tessera::blockwise(add_all, {x, y, z});
  std::vector<double> w2;
  for (std::size_t i = 0; i < 17; ++i) w2.push_back(xv[i] + values(17, 2)[i] + 1);
  check_close(tessera::compute(bw, s), {17}, w2);
  CHECK_THROWS_AS(tessera::blockwise(add_all, {x, ta::ones({3}, Shape{1}), z}), tessera::ShapeError);
  // persist keeps the chunks: computing twice runs the generator once.
  auto runs = std::make_shared<std::atomic<int>>(0);
  auto counted = tessera::map_blocks([runs](const NDArray& a) { runs->fetch_add(1); return a; }, x, {.name = "counted"});
  auto p = tessera::persist(counted, s);
  CHECK(runs->load() == 4);
  CHECK(p.blocks()[0].key() == counted.blocks()[0].key());
  check_close(tessera::compute(p.sum(), s), {}, {vsum(xv)});
  check_close(tessera::compute(p * 2, s), {17}, [&] {
    std::vector<double> v;
    for (double e : xv) v.push_back(2 * e);
    return v;
  }());
  CHECK(runs->load() == 4);
}

}  // TEST_SUITE
