#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/collections/array/kernels/structure.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <set>

using tessera::NDArray;
using tessera::Shape;

TEST_SUITE("array.random") {

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  const auto z = tessera::philox4x32_10({0, 0, 0, 0}, {0, 0});
  CHECK(z == std::array<std::uint32_t, 4>{0x6627e8d5U, 0xe169c58dU, 0xbc57ac4cU, 0x9b00dbd8U});
  const auto f = tessera::philox4x32_10({0xffffffffU, 0xffffffffU, 0xffffffffU, 0xffffffffU}, {0xffffffffU, 0xffffffffU});
  CHECK(f == std::array<std::uint32_t, 4>{0x408f276dU, 0x41c83b0eU, 0xa20bc7c6U, 0x6d5451fdU});
  const auto p = tessera::philox4x32_10({0x243f6a88U, 0x85a308d3U, 0x13198a2eU, 0x03707344U}, {0xa4093822U, 0x299f31d0U});
  CHECK(p == std::array<std::uint32_t, 4>{0xd16cfe09U, 0x94fdccebU, 0x5001e420U, 0x24126ea1U});
}

TEST_CASE("values do not depend on the chunking") {
  const Shape g{17, 23};
  const auto whole_u = tessera::random_uniform(42, g, {0, 0}, g);
  const auto whole_n = tessera::random_normal(42, 1.0, 2.0, g, {0, 0}, g);
  const auto whole_i = tessera::random_integers(42, -5, 9, g, {0, 0}, g);
  NDArray u = NDArray::zeros(g, tessera::DType::float64);
  NDArray n = NDArray::zeros(g, tessera::DType::float64);
  NDArray k = NDArray::zeros(g, tessera::DType::int64);
  for (std::int64_t i = 0; i < 17; i += 4) {
    for (std::int64_t j = 0; j < 23; j += 5) {
      const Shape cs{std::min<std::int64_t>(4, 17 - i), std::min<std::int64_t>(5, 23 - j)};
      tessera::copy_into(u, {i, j}, tessera::random_uniform(42, g, {i, j}, cs));
      tessera::copy_into(n, {i, j}, tessera::random_normal(42, 1.0, 2.0, g, {i, j}, cs));
      tessera::copy_into(k, {i, j}, tessera::random_integers(42, -5, 9, g, {i, j}, cs));
    }
  }
  CHECK(tessera::array_equal(u, whole_u));
  CHECK(tessera::array_equal(n, whole_n));
  CHECK(tessera::array_equal(k, whole_i));
  // a 1-d run starting at an odd global index (second half of a Philox block)
  const auto tail = tessera::random_uniform(42, {391}, {3}, {200});
  const auto flat = whole_u.reshape({391});
  for (std::int64_t i = 0; i < 200; ++i) CHECK(tail.at<double>(i) == flat.at<double>(i + 3));
  CHECK_THROWS_AS(tessera::random_uniform(42, g, {15, 0}, {4, 5}), tessera::ShapeError);
}

TEST_CASE("seeds and streams give different sequences") {
  const auto a = tessera::random_uniform(1, {100}, {0}, {100});
  const auto b = tessera::random_uniform(2, {100}, {0}, {100});
  const auto c = tessera::random_uniform(1, {100}, {0}, {100}, 0.0, 1.0, 7);
  CHECK_FALSE(tessera::array_equal(a, b));
  CHECK_FALSE(tessera::array_equal(a, c));
  CHECK(tessera::array_equal(a, tessera::random_uniform(1, {100}, {0}, {100})));
}

TEST_CASE("distributions have the right range and moments") {
  const std::int64_t n = 200'000;
  const auto u = tessera::random_uniform(7, {n}, {0}, {n}, -1.0, 3.0);
  double mu = 0, lo = 1e9, hi = -1e9;
  for (double x : u.data<double>()) {
    mu += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  CHECK(lo >= -1.0);
  CHECK(hi < 3.0);
  CHECK(mu / n == doctest::Approx(1.0).epsilon(0.01));
  const auto z = tessera::random_normal(7, 5.0, 2.0, {n}, {0}, {n});
  double m = 0, m2 = 0;
  for (double x : z.data<double>()) m += x;
  m /= n;
  for (double x : z.data<double>()) m2 += (x - m) * (x - m);
  CHECK(m == doctest::Approx(5.0).epsilon(0.005));
  CHECK(std::sqrt(m2 / n) == doctest::Approx(2.0).epsilon(0.01));
  const auto k = tessera::random_integers(7, -3, 4, {n}, {0}, {n});
  std::set<std::int64_t> seen(k.data<std::int64_t>().begin(), k.data<std::int64_t>().end());
  CHECK(seen == std::set<std::int64_t>{-3, -2, -1, 0, 1, 2, 3});
  CHECK_THROWS_AS(tessera::random_integers(7, 3, 3, {1}, {0}, {1}), tessera::ShapeError);
  CHECK(tessera::random_normal(1, 0, 1, {}, {}, {}).ndim() == 0);
}

}  // TEST_SUITE
