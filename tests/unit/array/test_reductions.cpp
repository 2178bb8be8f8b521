#include <tessera/collections/array/kernels/reductions.hpp>
#include <tessera/collections/array/kernels/structure.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

using tessera::DType;
using tessera::NDArray;
using tessera::ReduceOp;
using tessera::Shape;

namespace {

// `small`: values in {-1, 0, 1} ({0, 1} unsigned) so that products cannot overflow.
NDArray sample(const Shape& s, DType t, bool small = false) {
  const auto n = tessera::shape_size(s);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const int x = static_cast<int>((i * 13 + 5) % 7);
    const bool unsig = t == DType::bool_ || t == DType::uint8;
    if (small) v[static_cast<std::size_t>(i)] = unsig ? (x % 2) : (x % 3) - 1;
    else v[static_cast<std::size_t>(i)] = t == DType::bool_ ? (x % 2) : (t == DType::uint8 ? x : x - 3);
  }
  return NDArray::from_vector<double>(v, s).astype(t);
}

// Naive reference: every input element folded into its output slot, in double.
std::vector<double> reference(ReduceOp op, const NDArray& a, const std::vector<int>& axes) {
  const Shape& s = a.shape();
  const Shape out = tessera::reduced_shape(s, axes, false);
  const auto on = tessera::shape_size(out);
  double init = 0;
  if (op == ReduceOp::prod || op == ReduceOp::all) init = 1;
  if (op == ReduceOp::min) init = std::numeric_limits<double>::infinity();
  if (op == ReduceOp::max) init = -std::numeric_limits<double>::infinity();
  std::vector<double> acc(static_cast<std::size_t>(on), init);
  std::vector<std::int64_t> idx(s.size(), 0);
  for (std::int64_t i = 0; i < a.size(); ++i) {
    std::int64_t rem = i;
    for (std::size_t d = s.size(); d-- > 0;) {
      idx[d] = rem % s[d];
      rem /= s[d];
    }
    std::int64_t o = 0;
    for (std::size_t d = 0; d < s.size(); ++d) {
      if (!std::binary_search(axes.begin(), axes.end(), static_cast<int>(d))) o = o * s[d] + idx[d];
    }
    const double x = a.value_as_double(i);
    double& r = acc[static_cast<std::size_t>(o)];
    switch (op) {
      case ReduceOp::sum: r += x; break;
      case ReduceOp::prod: r *= x; break;
      case ReduceOp::min: r = std::min(r, x); break;
      case ReduceOp::max: r = std::max(r, x); break;
      case ReduceOp::any: r = (r != 0 || x != 0); break;
      case ReduceOp::all: r = (r != 0 && x != 0); break;
      case ReduceOp::count_nonzero: r += x != 0; break;
    }
  }
  return acc;
}

std::vector<std::vector<int>> all_axis_sets(int nd) {
  std::vector<std::vector<int>> sets;
  for (int mask = 1; mask < (1 << nd); ++mask) {
    std::vector<int> s;
    for (int d = 0; d < nd; ++d) {
      if (mask & (1 << d)) s.push_back(d);
    }
    sets.push_back(s);
  }
  return sets;
}

}  // namespace

TEST_SUITE("array.reductions") {

TEST_CASE("every reduction over every axis set matches a loop reference, every dtype") {
  const Shape s{3, 5, 7, 2};
  for (int t = 0; t < tessera::num_dtypes; ++t) {
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::prod, ReduceOp::min, ReduceOp::max, ReduceOp::any,
                        ReduceOp::all, ReduceOp::count_nonzero}) {
      const NDArray a = sample(s, DType(t), op == ReduceOp::prod);
      for (const auto& axes : all_axis_sets(4)) {
        for (bool keep : {false, true}) {
          CAPTURE(t);
          CAPTURE(static_cast<int>(op));
          CAPTURE(axes.size());
          CAPTURE(keep);
          const NDArray r = tessera::reduce(op, a, axes, keep);
          CHECK(r.dtype() == tessera::result_dtype(op, DType(t)));
          CHECK(r.shape() == tessera::reduced_shape(s, axes, keep));
          const auto want = reference(op, a, axes);
          bool ok = static_cast<std::int64_t>(want.size()) == r.size();
          for (std::int64_t i = 0; ok && i < r.size(); ++i) {
            double w = want[static_cast<std::size_t>(i)];
            if (r.dtype() == DType::bool_) w = w != 0;
            if (r.dtype() == DType::float32) w = static_cast<float>(w);
            ok = r.value_as_double(i) == doctest::Approx(w);
          }
          CHECK(ok);
        }
      }
    }
  }
}

TEST_CASE("empty axes mean all, negative axes count from the end") {
  const NDArray a = sample({4, 6}, DType::int32);
  CHECK(tessera::sum(a).ndim() == 0);
  CHECK(tessera::array_equal(tessera::sum(a, {-1}), tessera::sum(a, {1})));
  CHECK(tessera::sum(a, {}, true).shape() == Shape{1, 1});
  CHECK_THROWS_AS(tessera::sum(a, {2}), tessera::ShapeError);
  CHECK_THROWS_AS(tessera::sum(a, {0, -2}), tessera::ShapeError);
  CHECK(tessera::sum(NDArray::scalar<float>(2.0F)).at<float>() == 2.0F);
}

TEST_CASE("result dtypes: ints and bools sum to int64, float32 stays float32") {
  CHECK(tessera::sum(NDArray::full({3}, DType::bool_, 1)).dtype() == DType::int64);
  CHECK(tessera::sum(NDArray::full({3}, DType::bool_, 1)).at<std::int64_t>() == 3);
  CHECK(tessera::sum(NDArray::full({300}, DType::uint8, 200)).at<std::int64_t>() == 60000);
  CHECK(tessera::sum(NDArray::full({3}, DType::float32, 1)).dtype() == DType::float32);
  CHECK(tessera::count(NDArray::zeros({3, 4}, DType::float64), {1}).at<std::int64_t>(0) == 4);
}

TEST_CASE("empty reductions: identities, and min/max refuse") {
  const NDArray e = NDArray::zeros({0, 3}, DType::float64);
  CHECK(tessera::array_equal(tessera::sum(e, {0}), NDArray::zeros({3}, DType::float64)));
  CHECK(tessera::prod(e, {0}).at<double>(2) == 1.0);
  CHECK(tessera::all(e).at<bool>());
  CHECK_FALSE(tessera::any(e).at<bool>());
  CHECK_THROWS_AS(tessera::min(e, {0}), tessera::ShapeError);
  CHECK(tessera::min(e, {1}).shape() == Shape{0});
}

TEST_CASE("min and max propagate NaN") {
  const auto a = NDArray::from_vector<double>({1.0, std::nan(""), -3.0, 4.0}, {2, 2});
  CHECK(std::isnan(tessera::min(a).at<double>()));
  CHECK(std::isnan(tessera::max(a, {0}).at<double>(1)));
  CHECK(tessera::max(a, {0}).at<double>(0) == 1.0);
}

TEST_CASE("float sums are accurate (pairwise) on long runs") {
  const std::int64_t n = 1'000'003;
  const NDArray a = NDArray::full({n}, DType::float64, 0.1);
  const double got = tessera::sum(a).at<double>();
  CHECK(std::abs(got - 0.1 * static_cast<double>(n)) < 1e-8);
  const NDArray f = NDArray::full({n}, DType::float32, 0.1);
  CHECK(std::abs(tessera::sum(f).at<float>() - 0.1F * static_cast<float>(n)) < 0.05F);
}

TEST_CASE("combined partial moments equal the two-pass mean and variance") {
  const Shape s{13, 7};
  std::vector<double> v(13 * 7);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1e6 + std::sin(static_cast<double>(i)) * 3.0;
  const NDArray a = NDArray::from_vector<double>(v, s);
  for (int axis : {0, 1}) {
    CAPTURE(axis);
    // split along `axis` into 3 uneven chunks
    const std::int64_t n = s[static_cast<std::size_t>(axis)];
    const std::vector<std::int64_t> cuts{0, 2, n - 3, n};
    std::optional<tessera::MomentState> acc;
    for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
      std::vector<tessera::Slice> sl(2);
      sl[static_cast<std::size_t>(axis)] = tessera::Slice{cuts[c], cuts[c + 1], 1};
      const auto part = tessera::partial_moments(tessera::slice(a, sl), {axis});
      acc = acc ? tessera::combine_moments(*acc, part) : part;
    }
    // two-pass reference
    const Shape out = tessera::reduced_shape(s, {axis}, false);
    for (std::int64_t o = 0; o < out[0]; ++o) {
      double mean = 0;
      for (std::int64_t k = 0; k < n; ++k) mean += axis == 0 ? a.at<double>(k, o) : a.at<double>(o, k);
      mean /= static_cast<double>(n);
      double m2 = 0;
      for (std::int64_t k = 0; k < n; ++k) {
        const double d = (axis == 0 ? a.at<double>(k, o) : a.at<double>(o, k)) - mean;
        m2 += d * d;
      }
      CHECK(tessera::finalize_mean(*acc).at<double>(o) == doctest::Approx(mean).epsilon(1e-14));
      CHECK(tessera::finalize_var(*acc).at<double>(o) == doctest::Approx(m2 / static_cast<double>(n)).epsilon(1e-9));
      CHECK(tessera::finalize_var(*acc, 1).at<double>(o) == doctest::Approx(m2 / static_cast<double>(n - 1)).epsilon(1e-9));
      CHECK(tessera::finalize_std(*acc).at<double>(o) == doctest::Approx(std::sqrt(m2 / static_cast<double>(n))).epsilon(1e-9));
    }
  }
  const auto whole = tessera::partial_moments(NDArray::from_vector<std::int32_t>({1, 2, 3, 4}));
  CHECK(tessera::finalize_mean(whole).at<double>() == 2.5);
  CHECK(tessera::finalize_var(whole).at<double>() == 1.25);
  const auto empty = tessera::partial_moments(NDArray::zeros({0}, DType::float64));
  CHECK(std::isnan(tessera::finalize_mean(empty).at<double>()));
  CHECK(tessera::finalize_mean(tessera::combine_moments(empty, whole)).at<double>() == 2.5);
  CHECK_THROWS_AS(tessera::combine_moments(whole, tessera::partial_moments(NDArray::zeros({2, 2}, DType::float64), {0})),
                  tessera::ShapeError);
}

TEST_CASE("argmin/argmax pick the first of ties, NaN first, with global indices across chunks") {
  const auto a = NDArray::from_vector<double>({3, 1, 1, 5, 5, 0, 2, 2, 7, 7, 0, 7}, {3, 4});
  const auto r0 = tessera::partial_argmin(a, 0);
  CHECK(tessera::array_equal(r0.indices, NDArray::from_vector<std::int64_t>({0, 1, 2, 1})));
  const auto r1 = tessera::partial_argmax(a, 1);
  CHECK(tessera::array_equal(r1.indices, NDArray::from_vector<std::int64_t>({3, 0, 0})));
  CHECK(tessera::array_equal(r1.values, NDArray::from_vector<double>({5, 5, 7})));
  // split rows into two chunks along axis 0: [0:2) and [2:3)
  const auto c0 = tessera::slice(a, {tessera::Slice{0, 2, 1}});
  const auto c1 = tessera::slice(a, {tessera::Slice{2, 3, 1}});
  const auto m = tessera::combine_argmax(tessera::partial_argmax(c1, 0, 2), tessera::partial_argmax(c0, 0, 0));
  CHECK(tessera::array_equal(m.indices, tessera::partial_argmax(a, 0).indices));
  CHECK(tessera::array_equal(m.values, tessera::partial_argmax(a, 0).values));
  const auto n = NDArray::from_vector<double>({1, std::nan(""), 0, std::nan("")});
  CHECK(tessera::partial_argmin(n, 0).indices.at<std::int64_t>() == 1);
  CHECK(tessera::partial_argmax(n, 0).indices.at<std::int64_t>() == 1);
  // flattened, 2x2 chunks of the (3, 4) array
  std::optional<tessera::ArgResult> best;
  for (std::int64_t i = 0; i < 3; i += 2) {
    for (std::int64_t j = 0; j < 4; j += 2) {
      const auto chunk = tessera::slice(a, {tessera::Slice{i, i + 2, 1}, tessera::Slice{j, j + 2, 1}});
      const auto p = tessera::partial_argmin_flat(chunk, {i, j}, {3, 4});
      best = best ? tessera::combine_argmin(*best, p) : p;
    }
  }
  CHECK(best->indices.at<std::int64_t>() == 5);  // first 0 in C order
  CHECK(best->values.at<double>() == 0.0);
  CHECK_THROWS_AS(tessera::partial_argmin(NDArray::zeros({2, 0}, DType::float64), 1), tessera::ShapeError);
  const auto ints = NDArray::from_vector<std::int32_t>({4, -2, 9, -2});
  CHECK(tessera::partial_argmin(ints, -1, 10).indices.at<std::int64_t>() == 11);
}

}  // TEST_SUITE
