#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/collections/array/kernels/structure.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

using tessera::DType;
using tessera::NDArray;
using tessera::Shape;
using tessera::Slice;

namespace {

NDArray iota(const Shape& s, DType t) {
  return NDArray::arange(0, static_cast<double>(tessera::shape_size(s)), 1, t).reshape(s);
}

// Reference transpose through multi-indices.
bool transpose_ok(const NDArray& a, const std::vector<int>& perm, const NDArray& r) {
  const Shape& s = a.shape();
  const auto st = tessera::c_strides(s);
  const auto rst = tessera::c_strides(r.shape());
  for (std::int64_t i = 0; i < r.size(); ++i) {
    std::int64_t rem = i, src = 0;
    for (std::size_t d = 0; d < perm.size(); ++d) {
      const std::int64_t k = rem / rst[d];
      rem %= rst[d];
      src += k * st[static_cast<std::size_t>(perm[d])];
    }
    if (r.value_as_double(i) != a.value_as_double(src)) return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("array.structure") {

TEST_CASE("2-d transpose of odd shapes for every item size") {
  for (DType t : {DType::uint8, DType::int32, DType::float64}) {
    const NDArray a = iota({37, 53}, t == DType::uint8 ? DType::float64 : t).astype(t);
    const NDArray r = tessera::transpose(a);
    CHECK(r.shape() == Shape{53, 37});
    CHECK(r.dtype() == t);
    CHECK(transpose_ok(a, {1, 0}, r));
  }
}

TEST_CASE("3-d and 4-d transposes for every permutation") {
  const NDArray a = iota({3, 4, 5}, DType::int64);
  std::vector<int> perm{0, 1, 2};
  do {
    CAPTURE(perm[0] * 100 + perm[1] * 10 + perm[2]);
    CHECK(transpose_ok(a, perm, tessera::transpose(a, perm)));
  } while (std::next_permutation(perm.begin(), perm.end()));
  const NDArray b = iota({2, 1, 67, 3}, DType::float32);
  std::vector<int> p4{0, 1, 2, 3};
  do {
    CHECK(transpose_ok(b, p4, tessera::transpose(b, p4)));
  } while (std::next_permutation(p4.begin(), p4.end()));
  CHECK(tessera::transpose(NDArray::scalar<double>(3.0)).at<double>() == 3.0);
  CHECK(tessera::transpose(NDArray::zeros({0, 4}, DType::float64)).shape() == Shape{4, 0});
  CHECK_THROWS_AS(tessera::transpose(a, {0, 0, 1}), tessera::ShapeError);
  CHECK_THROWS_AS(tessera::transpose(a, {0, 1}), tessera::ShapeError);
}

TEST_CASE("slicing with Python semantics, negative steps included") {
  const NDArray a = iota({10}, DType::int32);
  auto vals = [](const NDArray& x) {
    std::vector<std::int32_t> v(x.data<std::int32_t>().begin(), x.data<std::int32_t>().end());
    return v;
  };
  CHECK(vals(tessera::slice(a, {Slice{{}, {}, -1}})) == std::vector<std::int32_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK(vals(tessera::slice(a, {Slice{8, 2, -3}})) == std::vector<std::int32_t>{8, 5});
  CHECK(vals(tessera::slice(a, {Slice{-3, {}, 1}})) == std::vector<std::int32_t>{7, 8, 9});
  CHECK(vals(tessera::slice(a, {Slice{2, 100, 4}})) == std::vector<std::int32_t>{2, 6});
  CHECK(vals(tessera::slice(a, {Slice{-100, -8, 1}})) == std::vector<std::int32_t>{0, 1});
  CHECK(vals(tessera::slice(a, {Slice{5, 5, 1}})).empty());
  CHECK(vals(tessera::slice(a, {Slice{{}, -11, -1}})) == std::vector<std::int32_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK_THROWS_AS(tessera::slice(a, {Slice{0, 1, 0}}), tessera::ShapeError);
  CHECK_THROWS_AS(tessera::slice(a, {Slice{}, Slice{}}), tessera::ShapeError);
  const NDArray m = iota({5, 7}, DType::float64);
  const NDArray s = tessera::slice(m, {Slice{{}, {}, -2}, Slice{1, 6, 2}});
  CHECK(s.shape() == Shape{3, 3});
  for (std::int64_t i = 0; i < 3; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) CHECK(s.at<double>(i, j) == m.at<double>(4 - 2 * i, 1 + 2 * j));
  }
}

TEST_CASE("concatenate, stack and copy_into assemble chunks") {
  const NDArray a = iota({2, 3}, DType::int32);
  const NDArray b = iota({1, 3}, DType::float64);
  const NDArray parts[] = {a, b};
  const NDArray c = tessera::concatenate(parts, 0);
  CHECK(c.shape() == Shape{3, 3});
  CHECK(c.dtype() == DType::float64);
  CHECK(c.at<double>(2, 2) == 2.0);
  CHECK(c.at<double>(1, 0) == 3.0);
  const NDArray same[] = {a, a};
  CHECK(tessera::concatenate(same, -1).shape() == Shape{2, 6});
  CHECK(tessera::stack(same, 1).shape() == Shape{2, 2, 3});
  CHECK(tessera::stack(same, 1).at<std::int32_t>(1, 1, 2) == 5);
  CHECK_THROWS_AS(tessera::concatenate(parts, 1), tessera::ShapeError);
  CHECK_THROWS_AS(tessera::stack(parts), tessera::ShapeError);

  // reassemble a (7, 11) array from 3x4 chunks
  const NDArray whole = iota({7, 11}, DType::float32);
  NDArray dst = NDArray::zeros({7, 11}, DType::float32);
  for (std::int64_t i = 0; i < 7; i += 3) {
    for (std::int64_t j = 0; j < 11; j += 4) {
      const auto chunk = tessera::slice(whole, {Slice{i, i + 3, 1}, Slice{j, j + 4, 1}});
      tessera::copy_into(dst, {i, j}, chunk);
    }
  }
  CHECK(tessera::array_equal(dst, whole));
  CHECK_THROWS_AS(tessera::copy_into(dst, {5, 0}, iota({3, 2}, DType::float32)), tessera::ShapeError);
  NDArray shared = dst;
  CHECK_THROWS_AS(tessera::copy_into(dst, {0, 0}, iota({1, 1}, DType::float32)), tessera::Error);
}

TEST_CASE("matmul matches a loop reference for floats, ints and 1-d operands") {
  for (DType t : {DType::float64, DType::float32, DType::int32, DType::int64}) {
    CAPTURE(t);
    const NDArray a = tessera::apply(tessera::BinaryOp::sub, iota({5, 7}, t), 10);
    const NDArray b = tessera::apply(tessera::BinaryOp::mod, iota({7, 3}, t), 5);
    const NDArray c = tessera::matmul(a, b);
    CHECK(c.shape() == Shape{5, 3});
    CHECK(c.dtype() == t);
    for (std::int64_t i = 0; i < 5; ++i) {
      for (std::int64_t j = 0; j < 3; ++j) {
        double want = 0;
        for (std::int64_t k = 0; k < 7; ++k) want += a.value_as_double(i * 7 + k) * b.value_as_double(k * 3 + j);
        CHECK(c.value_as_double(i * 3 + j) == doctest::Approx(want));
      }
    }
  }
  const NDArray v = iota({7}, DType::float64);
  const NDArray m = iota({7, 2}, DType::float64);
  CHECK(tessera::matmul(v, m).shape() == Shape{2});
  CHECK(tessera::matmul(v, m).at<double>(1) == doctest::Approx(7 * 0 + 1 * 3 + 2 * 5 + 3 * 7 + 4 * 9 + 5 * 11 + 6 * 13));
  CHECK(tessera::matmul(tessera::transpose(m), v).shape() == Shape{2});
  CHECK(tessera::matmul(v, v).ndim() == 0);
  CHECK(tessera::matmul(v, v).at<double>() == 91.0);
  CHECK(tessera::matmul(iota({0, 7}, DType::float64), m).shape() == Shape{0, 2});
  CHECK(tessera::matmul(iota({2, 0}, DType::float64), iota({0, 3}, DType::float64)).at<double>(1, 2) == 0.0);
  CHECK_THROWS_WITH_AS(tessera::matmul(m, m), "matmul: mismatch in core dimension: lhs shape (7, 2), rhs shape (7, 2) (2 != 7)",
                       tessera::ShapeError);
}

TEST_CASE("tensordot equals an explicit sum") {
  const NDArray a = iota({3, 4, 5}, DType::float64);
  const NDArray b = iota({4, 3, 2}, DType::float64);
  const NDArray r = tessera::tensordot(a, b, {1, 0}, {0, 1});
  CHECK(r.shape() == Shape{5, 2});
  for (std::int64_t i = 0; i < 5; ++i) {
    for (std::int64_t j = 0; j < 2; ++j) {
      double want = 0;
      for (std::int64_t p = 0; p < 3; ++p) {
        for (std::int64_t q = 0; q < 4; ++q) want += a.at<double>(p, q, i) * b.at<double>(q, p, j);
      }
      CHECK(r.at<double>(i, j) == doctest::Approx(want));
    }
  }
  const NDArray m = iota({3, 4}, DType::float64);
  CHECK(tessera::array_equal(tessera::tensordot(m, tessera::transpose(m), 1), tessera::matmul(m, tessera::transpose(m))));
  CHECK_THROWS_AS(tessera::tensordot(a, b, {0}, {0}), tessera::ShapeError);
}

}  // TEST_SUITE
