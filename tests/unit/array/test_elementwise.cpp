#include <tessera/collections/array/kernels/elementwise.hpp>

#include <doctest/doctest.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <cmath>
#include <sstream>
#include <vector>

using tessera::BinaryOp;
using tessera::DType;
using tessera::NDArray;
using tessera::Shape;
using tessera::UnaryOp;
using P = tessera::ElementwiseProgram;

namespace {

// Small values (exact in every dtype), deterministic, some negative for signed dtypes.
NDArray sample(const Shape& s, DType t, int salt = 0) {
  const auto n = tessera::shape_size(s);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const int x = static_cast<int>((i * 7 + salt * 3) % 11);
    v[static_cast<std::size_t>(i)] = (t == DType::bool_) ? (x % 3 == 0) : (t == DType::uint8 ? x + 1 : x - 4);
  }
  return NDArray::from_vector<double>(v, s).astype(t);
}

// Element of `a` (shape broadcastable to `out`) at output flat index `flat`.
double bvalue(const NDArray& a, const Shape& out, std::int64_t flat) {
  std::int64_t rem = flat, idx = 0, mul = 1;
  const Shape& s = a.shape();
  for (std::size_t d = out.size(); d-- > 0;) {
    const std::int64_t i = rem % out[d];
    rem /= out[d];
    const std::size_t back = out.size() - 1 - d;
    if (back < s.size()) {
      const auto ext = s[s.size() - 1 - back];
      idx += (ext == 1 ? 0 : i) * mul;
      mul *= ext;
    }
  }
  return a.value_as_double(idx);
}

double ref_binary(BinaryOp op, double x, double y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::sub: return x - y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::div: return x / y;
    case BinaryOp::minimum: return std::min(x, y);
    case BinaryOp::maximum: return std::max(x, y);
    case BinaryOp::less: return x < y;
    case BinaryOp::equal: return x == y;
    case BinaryOp::greater_equal: return x >= y;
    case BinaryOp::logical_and: return (x != 0) && (y != 0);
    default: return 0;
  }
}

}  // namespace

TEST_SUITE("array.elementwise") {

TEST_CASE("binary ops match a loop reference for every dtype pair with broadcasting") {
  const Shape sa{3, 1, 5}, sb{4, 1};
  const Shape out{3, 4, 5};
  for (BinaryOp op : {BinaryOp::add, BinaryOp::mul, BinaryOp::div, BinaryOp::minimum,
                      BinaryOp::maximum, BinaryOp::less, BinaryOp::equal, BinaryOp::greater_equal,
                      BinaryOp::logical_and, BinaryOp::sub}) {
    for (int ta = 0; ta < tessera::num_dtypes; ++ta) {
      for (int tb = 0; tb < tessera::num_dtypes; ++tb) {
        if (op == BinaryOp::sub && ta == 0 && tb == 0) continue;
        CAPTURE(tessera::op_name(op));
        CAPTURE(ta);
        CAPTURE(tb);
        const NDArray a = sample(sa, DType(ta), 1);
        NDArray b = sample(sb, DType(tb), 2);
        if (op == BinaryOp::div) b = tessera::apply(BinaryOp::add, tessera::abs(b), 1).astype(DType(tb) == DType::bool_ ? DType::uint8 : DType(tb));
        const NDArray r = tessera::apply(op, a, b);
        CHECK(r.shape() == out);
        CHECK(r.dtype() == tessera::result_dtype(op, DType(ta), b.dtype()));
        bool ok = true;
        for (std::int64_t i = 0; i < r.size() && ok; ++i) {
          double want = ref_binary(op, bvalue(a, out, i), bvalue(b, out, i));
          if (r.dtype() == DType::bool_) want = want != 0;
          if (r.dtype() == DType::float32) want = static_cast<float>(want);
          if (r.dtype() == DType::uint8) want = static_cast<double>(static_cast<std::uint8_t>(static_cast<int>(want)));
          ok = r.value_as_double(i) == doctest::Approx(want);
        }
        CHECK(ok);
      }
    }
  }
}

TEST_CASE("result dtypes follow NumPy") {
  using tessera::result_dtype;
  CHECK(result_dtype(BinaryOp::div, DType::int32, DType::int32) == DType::float64);
  CHECK(result_dtype(BinaryOp::div, DType::float32, DType::uint8) == DType::float32);
  CHECK(result_dtype(BinaryOp::add, DType::bool_, DType::bool_) == DType::bool_);
  CHECK(result_dtype(BinaryOp::less, DType::int64, DType::float64) == DType::bool_);
  CHECK(result_dtype(UnaryOp::sqrt, DType::int32) == DType::float64);
  CHECK(result_dtype(UnaryOp::sqrt, DType::float32) == DType::float32);
  CHECK(result_dtype(UnaryOp::isnan, DType::float64) == DType::bool_);
  CHECK(result_dtype(UnaryOp::abs, DType::int32) == DType::int32);
  CHECK_THROWS_AS(result_dtype(UnaryOp::neg, DType::bool_), tessera::DTypeError);
  CHECK_THROWS_AS(result_dtype(BinaryOp::sub, DType::bool_, DType::bool_), tessera::DTypeError);
}

TEST_CASE("scalars promote weakly like NumPy") {
  const auto i32 = NDArray::from_vector<std::int32_t>({1, 2, 3});
  const auto f32 = NDArray::from_vector<float>({1, 2, 3});
  const auto u8 = NDArray::from_vector<std::uint8_t>({250, 2, 3});
  const auto b = NDArray::from_vector<bool>({true, false, true});
  CHECK(tessera::apply(BinaryOp::add, i32, 2.5).dtype() == DType::float64);
  CHECK(tessera::apply(BinaryOp::add, i32, 2.5).at<double>(0) == 3.5);
  CHECK(tessera::apply(BinaryOp::mul, f32, 2.0).dtype() == DType::float32);
  CHECK(tessera::apply(BinaryOp::add, i32, 3).dtype() == DType::int32);
  CHECK(tessera::apply(BinaryOp::add, b, 1).dtype() == DType::int64);
  const auto u = tessera::apply(BinaryOp::add, u8, 10);
  CHECK(u.dtype() == DType::uint8);
  CHECK(u.at<std::uint8_t>(0) == 4);  // wraps like NumPy
  const auto rs = tessera::apply(BinaryOp::sub, 10, i32);
  CHECK(rs.at<std::int32_t>(2) == 7);
  CHECK(tessera::apply(BinaryOp::less, i32, 2.5).dtype() == DType::bool_);
  CHECK(tessera::apply(BinaryOp::less, i32, 2.5).at<bool>(1));
}

TEST_CASE("floordiv and mod use Python sign rules, integer division by zero gives 0") {
  const auto a = NDArray::from_vector<std::int64_t>({-7, 7, 7, -7, 5, std::numeric_limits<std::int64_t>::min()});
  const auto b = NDArray::from_vector<std::int64_t>({2, -2, 2, -2, 0, -1});
  const auto q = tessera::floordiv(a, b);
  const auto r = tessera::mod(a, b);
  CHECK(tessera::array_equal(q, NDArray::from_vector<std::int64_t>({-4, -4, 3, 3, 0, std::numeric_limits<std::int64_t>::min()})));
  CHECK(tessera::array_equal(r, NDArray::from_vector<std::int64_t>({1, -1, 1, -1, 0, 0})));
  const auto fa = NDArray::from_vector<double>({7.5, -7.5, 1.0});
  const auto fb = NDArray::from_vector<double>({-2.0, 2.0, 0.0});
  const auto fq = tessera::floordiv(fa, fb);
  const auto fr = tessera::mod(fa, fb);
  CHECK(fq.at<double>(0) == -4.0);
  CHECK(fr.at<double>(0) == -0.5);
  CHECK(fq.at<double>(1) == -4.0);
  CHECK(fr.at<double>(1) == 0.5);
  CHECK(std::isinf(fq.at<double>(2)));
  CHECK(std::isnan(fr.at<double>(2)));
  const auto p = tessera::pow(NDArray::from_vector<std::int32_t>({2, 3, -2}), NDArray::from_vector<std::int32_t>({10, 0, 3}));
  CHECK(tessera::array_equal(p, NDArray::from_vector<std::int32_t>({1024, 1, -8})));
  CHECK_THROWS_AS(tessera::pow(NDArray::from_vector<std::int32_t>({2}), NDArray::from_vector<std::int32_t>({-1})),
                  tessera::DTypeError);
}

TEST_CASE("unary ops match std:: on every dtype") {
  for (int t = 0; t < tessera::num_dtypes; ++t) {
    const NDArray a = sample({13}, DType(t));
    for (UnaryOp op : {UnaryOp::abs, UnaryOp::sqrt, UnaryOp::exp, UnaryOp::sin, UnaryOp::floor,
                       UnaryOp::isnan, UnaryOp::logical_not, UnaryOp::tanh}) {
      CAPTURE(t);
      CAPTURE(tessera::op_name(op));
      const NDArray r = tessera::apply(op, a);
      CHECK(r.dtype() == tessera::result_dtype(op, DType(t)));
      for (std::int64_t i = 0; i < r.size(); ++i) {
        const double x = a.value_as_double(i);
        double want = 0;
        switch (op) {
          case UnaryOp::abs: want = std::abs(x); break;
          case UnaryOp::sqrt: want = std::sqrt(x); break;
          case UnaryOp::exp: want = std::exp(x); break;
          case UnaryOp::sin: want = std::sin(x); break;
          case UnaryOp::floor: want = std::floor(x); break;
          case UnaryOp::isnan: want = 0; break;
          case UnaryOp::logical_not: want = x == 0; break;
          case UnaryOp::tanh: want = std::tanh(x); break;
          default: break;
        }
        const double got = r.value_as_double(i);
        if (std::isnan(want)) CHECK(std::isnan(got));
        else CHECK(got == doctest::Approx(want).epsilon(1e-6));
      }
    }
  }
  const auto n = tessera::neg(NDArray::from_vector<std::int32_t>({std::numeric_limits<std::int32_t>::min(), 3}));
  CHECK(n.at<std::int32_t>(1) == -3);
  CHECK(tessera::isnan(NDArray::from_vector<double>({1.0, std::nan("")})).at<bool>(1));
  CHECK(tessera::minimum(NDArray::from_vector<double>({1.0}), NDArray::from_vector<double>({std::nan("")})).at<double>(0) != 0.0);
}

TEST_CASE("incompatible shapes name both shapes") {
  const auto a = NDArray::zeros({3, 4}, DType::float64);
  const auto b = NDArray::zeros({5}, DType::float64);
  CHECK_THROWS_WITH_AS(tessera::add(a, b),
                       "operands could not be broadcast together: lhs shape (3, 4), rhs shape (5,)",
                       tessera::ShapeError);
}

TEST_CASE("0-d, one-element and empty operands broadcast") {
  const auto s = NDArray::scalar<double>(2.0);
  const auto v = NDArray::from_vector<double>({1, 2, 3});
  CHECK(tessera::array_equal(tessera::mul(s, v), NDArray::from_vector<double>({2, 4, 6})));
  CHECK(tessera::mul(s, s).ndim() == 0);
  CHECK(tessera::mul(s, s).at<double>() == 4.0);
  const auto e = NDArray::zeros({0, 3}, DType::float32);
  CHECK(tessera::add(e, v).shape() == Shape{0, 3});
  CHECK(tessera::add(e, v).dtype() == DType::float64);
  const auto one = NDArray::full({1, 1}, DType::int32, 5);
  CHECK(tessera::add(one, v).shape() == Shape{1, 3});
}

TEST_CASE("where and clip") {
  const auto c = NDArray::from_vector<bool>({true, false, true, false});
  const auto a = NDArray::from_vector<std::int32_t>({1, 2, 3, 4});
  const auto b = NDArray::scalar<double>(-1.5);
  const auto w = tessera::where(c, a, b);
  CHECK(w.dtype() == DType::float64);
  CHECK(tessera::array_equal(w, NDArray::from_vector<double>({1, -1.5, 3, -1.5})));
  const auto cl = tessera::clip(a, 2, 3);
  CHECK(cl.dtype() == DType::int32);
  CHECK(tessera::array_equal(cl, NDArray::from_vector<std::int32_t>({2, 2, 3, 3})));
  const auto cond2 = NDArray::from_vector<bool>({true, false}, {2, 1});
  CHECK(tessera::where(cond2, a, b).shape() == Shape{2, 4});
}

TEST_CASE("a fused program equals the step-by-step result, over many tiles and broadcast inputs") {
  // y = where(x0 > 0.5, sqrt(x0) * 2.5 + x1, -x1) with x0 (97, 131) float64, x1 (131,) int32
  const Shape s{97, 131};
  std::vector<double> xs(97 * 131);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<double>((i * 37) % 101) / 100.0;
  const auto x0 = NDArray::from_vector<double>(xs, s);
  std::vector<std::int32_t> ys(131);
  for (std::size_t i = 0; i < ys.size(); ++i) ys[i] = static_cast<std::int32_t>(i % 17) - 8;
  const auto x1 = NDArray::from_vector<std::int32_t>(ys);
  const auto in0 = P::input(0, DType::float64);
  const auto in1 = P::input(1, DType::int32);
  const auto prog = P::where(P::binary(BinaryOp::greater, in0, P::scalar(0.5)),
                             P::binary(BinaryOp::add, P::binary(BinaryOp::mul, P::unary(UnaryOp::sqrt, in0), P::scalar(2.5)), in1),
                             P::unary(UnaryOp::neg, in1));
  CHECK(prog.num_inputs() == 2);
  CHECK(prog.dtype() == DType::float64);
  const NDArray inputs[] = {x0, x1};
  const NDArray fused = tessera::evaluate(prog, inputs, s);
  const NDArray step = tessera::where(tessera::apply(BinaryOp::greater, x0, 0.5),
                                      tessera::add(tessera::apply(BinaryOp::mul, tessera::sqrt(x0), 2.5), x1),
                                      tessera::neg(x1));
  CHECK(tessera::array_equal(fused, step));
  CHECK(tessera::array_equal(tessera::evaluate(prog, inputs), step));

  SUBCASE("column-broadcast input goes through the gather path") {
    const auto col = NDArray::from_vector<std::int32_t>(std::vector<std::int32_t>(97, 3), {97, 1});
    const NDArray in2[] = {x0, col};
    const auto r = tessera::evaluate(prog, in2, s);
    CHECK(r.shape() == s);
    CHECK(r.at<double>(96, 130) == doctest::Approx(x0.at<double>(96, 130) > 0.5 ? std::sqrt(x0.at<double>(96, 130)) * 2.5 + 3 : -3));
  }
  SUBCASE("a wrong input dtype or shape is rejected") {
    const NDArray bad[] = {x0, x1.astype(DType::int64)};
    CHECK_THROWS_AS(tessera::evaluate(prog, bad, s), tessera::DTypeError);
    const NDArray bad2[] = {x0, NDArray::zeros({7}, DType::int32)};
    CHECK_THROWS_AS(tessera::evaluate(prog, bad2, s), tessera::ShapeError);
    CHECK_THROWS_AS(tessera::evaluate(prog, std::span<const NDArray>(inputs, 1), s), tessera::ShapeError);
  }
}

TEST_CASE("programs describe, hash and serialize deterministically") {
  const auto in0 = P::input(0, DType::float64);
  const auto prog = P::binary(BinaryOp::add, P::binary(BinaryOp::mul, in0, P::scalar(2.5)), P::input(1, DType::int32));
  CHECK(prog.describe() == "add(mul(x0:float64, 2.5), astype(x1:int32, float64))");
  CHECK(prog.name() == "add-mul");
  CHECK(prog.token().size() == 16);
  const auto again = P::binary(BinaryOp::add, P::binary(BinaryOp::mul, in0, P::scalar(2.5)), P::input(1, DType::int32));
  CHECK(again.hash() == prog.hash());
  CHECK(P::binary(BinaryOp::add, in0, P::scalar(2.0)).hash() != P::binary(BinaryOp::add, in0, P::scalar(2)).hash());
  std::stringstream ss;
  {
    boost::archive::binary_oarchive oa(ss);
    oa << prog;
  }
  P back;
  {
    boost::archive::binary_iarchive ia(ss);
    ia >> back;
  }
  CHECK(back == prog);
  CHECK(back.describe() == prog.describe());
  const NDArray inputs[] = {NDArray::arange(0, 5), NDArray::arange(0, 5, 1, DType::int32)};
  CHECK(tessera::array_equal(tessera::evaluate(back, inputs), tessera::evaluate(prog, inputs)));
}

TEST_CASE("composition merges input slots and shares subexpressions") {
  const auto x = P::input(0, DType::float64);
  const auto sq = P::unary(UnaryOp::sqrt, x);
  const auto prog = P::binary(BinaryOp::add, sq, sq);
  int sqrt_count = 0;
  for (const auto& ins : prog.instructions()) sqrt_count += ins.code == P::OpCode::unary;
  CHECK(sqrt_count == 1);
  CHECK(prog.num_inputs() == 1);
  CHECK_THROWS_AS(P::binary(BinaryOp::add, x, P::input(0, DType::int32)), tessera::DTypeError);
  const auto moved = prog.remap_inputs({3});
  CHECK(moved.num_inputs() == 4);
  const NDArray a = NDArray::from_vector<double>({4, 9});
  const NDArray ins[] = {NDArray(), NDArray(), NDArray(), a};
  CHECK(tessera::array_equal(tessera::evaluate(moved, ins, {2}), NDArray::from_vector<double>({4, 6})));
  const auto c = P::binary(BinaryOp::add, P::scalar(1), P::scalar(2.5));
  CHECK(tessera::evaluate(c, {}, {2, 2}).at<double>(1, 1) == 3.5);
  CHECK(tessera::evaluate(P::astype(x, DType::int32), std::span<const NDArray>(&a, 1), {2}).dtype() == DType::int32);
}

}  // TEST_SUITE
