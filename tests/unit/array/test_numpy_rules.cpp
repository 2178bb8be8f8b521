// NumPy answers the earlier code got wrong: NEP 50 scalars (an out-of-range integer scalar is an
// error, comparisons and clip are exact), means and variances over infinities.
#include <tessera/collections/array/array.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/array_testing.hpp"

using namespace array_testing;

namespace {

std::vector<double> as_doubles(const NDArray& a) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < a.size(); ++i) v.push_back(a.value_as_double(i));
  return v;
}

bool all_equal(const NDArray& a, double value) {
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if (a.value_as_double(i) != value) return false;
  }
  return a.size() > 0;
}

}  // namespace

TEST_SUITE("array.numpy_rules") {

TEST_CASE("NEP 50: an integer scalar that does not fit the array's dtype is an error naming both") {
  const auto u8 = ta::arange(0, 256, 1, 100, DType::uint8);
  const auto i32 = ta::arange(-5, 5, 1, 4, DType::int32);
  CHECK_THROWS_WITH_AS((void)(u8 + 300), doctest::Contains("Python integer 300 out of bounds for uint8"),
                       tessera::DTypeError);
  CHECK_THROWS_WITH_AS((void)(u8 * -3), doctest::Contains("Python integer -3 out of bounds for uint8"),
                       tessera::DTypeError);
  CHECK_THROWS_WITH_AS((void)(i32 + (std::int64_t{1} << 40)),
                       doctest::Contains("Python integer 1099511627776 out of bounds for int32"), tessera::DTypeError);
  CHECK_THROWS_AS((void)(300 - u8), tessera::DTypeError);
  CHECK_THROWS_AS((void)tessera::maximum(u8, -1), tessera::DTypeError);
  // The kernels follow the same rule.
  const NDArray k = NDArray::arange(0, 4, 1, DType::uint8);
  CHECK_THROWS_AS((void)tessera::apply(tessera::BinaryOp::add, k, tessera::Scalar(256)), tessera::DTypeError);
  // Values that fit keep the array's dtype; true division computes in float64; bool with an
  // int is int64; an int with a float array keeps its dtype.
  CHECK((u8 + 255).dtype() == DType::uint8);
  CHECK((u8 - 1).dtype() == DType::uint8);
  CHECK((u8 / 300).dtype() == DType::float64);
  CHECK(((u8 > 3) + 300).dtype() == DType::int64);
  CHECK((u8.astype(DType::float32) + (std::int64_t{1} << 40)).dtype() == DType::float32);
  CHECK((i32 + 2147483647).dtype() == DType::int32);
  CHECK_THROWS_AS((void)tessera::Scalar(std::numeric_limits<std::uint64_t>::max()), tessera::DTypeError);
}

TEST_CASE_TEMPLATE("NEP 50: comparisons with any integer scalar are exact, clip saturates its bounds", Tag,
                   SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const auto u8 = ta::arange(0, 256, 1, 100, DType::uint8);
  const auto i32 = ta::arange(-5, 5, 1, 4, DType::int32);
  CHECK(all_equal(tessera::compute(u8 > -1, s), 1));
  CHECK(all_equal(tessera::compute(u8 >= -300, s), 1));
  CHECK(all_equal(tessera::compute(u8 == 256, s), 0));
  CHECK(all_equal(tessera::compute(u8 != 256, s), 1));
  CHECK(all_equal(tessera::compute(u8 < 1000, s), 1));
  CHECK(all_equal(tessera::compute(-1 < u8, s), 1));
  CHECK(all_equal(tessera::compute(i32 > (std::int64_t{1} << 40), s), 0));
  CHECK(all_equal(tessera::compute(i32 < (std::int64_t{1} << 40), s), 1));
  CHECK(all_equal(tessera::compute(i32 == -(std::int64_t{1} << 32), s), 0));
  // clip(u8, -5, 300) is u8 itself (NumPy >= 2.1); a bound inside the range clips.
  const NDArray c = tessera::compute(tessera::clip(u8, -5, 300), s);
  CHECK(c.dtype() == DType::uint8);
  CHECK(tessera::array_equal(c, tessera::compute(u8, s)));
  const NDArray c2 = tessera::compute(tessera::clip(u8, 3, 300), s);
  CHECK(c2.dtype() == DType::uint8);
  CHECK(c2.value_as_double(0) == 3);
  CHECK(c2.value_as_double(255) == 255);
  CHECK(tessera::compute(tessera::clip(i32, -(std::int64_t{1} << 40), 2), s).value_as_double(9) == 2);
}

TEST_CASE_TEMPLATE("mean over infinities is infinite as NumPy's, var and std are NaN", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  const double inf = std::numeric_limits<double>::infinity();
  // 6 x 3 in row blocks of 2: column 0 holds +inf in the second block, column 1 -inf in the
  // third, column 2 both.
  std::vector<double> v(18);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 5);
  v[3 * 3 + 0] = inf;
  v[5 * 3 + 1] = -inf;
  v[0 * 3 + 2] = inf;
  v[4 * 3 + 2] = -inf;
  const auto x = ta::from_vector(v, {6, 3}, {2, 3});
  const auto m = as_doubles(tessera::compute(x.mean({0}), s));
  CHECK(m[0] == inf);
  CHECK(m[1] == -inf);
  CHECK(std::isnan(m[2]));
  CHECK(tessera::compute(x.mean({0}, {.split_every = 2}), s).value_as_double(0) == inf);
  CHECK(std::isnan(tessera::compute(x.mean(), s).value_as_double(0)));
  CHECK(tessera::compute(x(std::vector<tessera::Slice>{{}, {0, 1}}).mean(), s).value_as_double(0) == inf);
  for (const auto& r : {tessera::compute(x.var({0}), s), tessera::compute(x.std({0}, 1.0), s)}) {
    for (double e : as_doubles(r)) CHECK(std::isnan(e));
  }
  // A finite column next to them is unaffected.
  const auto y = ta::from_vector<double>({1, inf, 2, 3, 4, 5}, {3, 2}, {1, 2});
  const auto ym = as_doubles(tessera::compute(y.mean({0}), s));
  CHECK(ym[0] == doctest::Approx(7.0 / 3));
  CHECK(ym[1] == inf);
  CHECK(tessera::compute(y.var({0}), s).value_as_double(0) == doctest::Approx(((1 - 7.0 / 3) * (1 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3) + (4 - 7.0 / 3) * (4 - 7.0 / 3)) / 3));
}

}
