#include <tessera/collections/array/ndarray.hpp>

#include <doctest/doctest.h>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

using tessera::DType;
using tessera::NDArray;
using tessera::Shape;

TEST_SUITE("array.ndarray") {

TEST_CASE("dtype names, sizes and NumPy promotion") {
  CHECK(tessera::dtype_name(DType::float64) == "float64");
  CHECK(tessera::dtype_name(DType::bool_) == "bool");
  CHECK(tessera::dtype_from_name("int32") == DType::int32);
  CHECK_THROWS_AS(tessera::dtype_from_name("complex128"), tessera::DTypeError);
  CHECK(tessera::item_size(DType::uint8) == 1);
  CHECK(tessera::item_size(DType::float32) == 4);
  CHECK(tessera::dtype_of<std::int64_t>() == DType::int64);
  CHECK(tessera::dtype_of<bool>() == DType::bool_);
  using tessera::promote;
  CHECK(promote(DType::bool_, DType::uint8) == DType::uint8);
  CHECK(promote(DType::uint8, DType::int32) == DType::int32);
  CHECK(promote(DType::int32, DType::float32) == DType::float64);
  CHECK(promote(DType::uint8, DType::float32) == DType::float32);
  CHECK(promote(DType::int64, DType::float32) == DType::float64);
  CHECK(promote(DType::float32, DType::float64) == DType::float64);
  for (int a = 0; a < tessera::num_dtypes; ++a) {
    for (int b = 0; b < tessera::num_dtypes; ++b) {
      CHECK(promote(DType(a), DType(b)) == promote(DType(b), DType(a)));
    }
  }
  CHECK(tessera::promote_with_scalar(DType::int32, true) == DType::float64);
  CHECK(tessera::promote_with_scalar(DType::float32, true) == DType::float32);
  CHECK(tessera::promote_with_scalar(DType::int32, false) == DType::int32);
  CHECK(tessera::promote_with_scalar(DType::bool_, false) == DType::int64);
}

TEST_CASE("shapes print like NumPy") {
  CHECK(tessera::to_string(Shape{3, 4}) == "(3, 4)");
  CHECK(tessera::to_string(Shape{5}) == "(5,)");
  CHECK(tessera::to_string(Shape{}) == "()");
  CHECK(tessera::shape_size(Shape{}) == 1);
  CHECK(tessera::shape_size(Shape{3, 0, 2}) == 0);
  CHECK_THROWS_AS(tessera::shape_size(Shape{-1}), tessera::ShapeError);
}

TEST_CASE("factories fill the right values") {
  auto z = NDArray::zeros({2, 3}, DType::int32);
  CHECK(z.size() == 6);
  CHECK(z.nbytes() == 24);
  for (auto v : z.data<std::int32_t>()) CHECK(v == 0);
  auto f = NDArray::full({4}, DType::uint8, 7);
  for (auto v : f.data<std::uint8_t>()) CHECK(v == 7);
  auto r = NDArray::arange(0, 5, 2, DType::int64);
  CHECK(r.shape() == Shape{3});
  CHECK(r.at<std::int64_t>(2) == 4);
  auto l = NDArray::linspace(0, 1, 5);
  CHECK(l.at<double>(4) == 1.0);
  CHECK(l.at<double>(1) == doctest::Approx(0.25));
  auto l2 = NDArray::linspace(0, 1, 4, false);
  CHECK(l2.at<double>(3) == doctest::Approx(0.75));
  auto s = NDArray::scalar<float>(2.5F);
  CHECK(s.ndim() == 0);
  CHECK(s.size() == 1);
  CHECK(s.at<float>() == 2.5F);
  auto e = NDArray::empty({3, 0}, DType::float64);
  CHECK(e.size() == 0);
  CHECK(e.nbytes() == 0);
  CHECK(NDArray().size() == 1);
}

TEST_CASE("at and data check indices and dtypes") {
  auto a = NDArray::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(a.at<double>(1, 2) == 6);
  CHECK(a.at<double>(-1, -3) == 4);
  CHECK_THROWS_AS((void)a.at<double>(2, 0), tessera::ShapeError);
  CHECK_THROWS_AS((void)a.at<double>(0), tessera::ShapeError);
  try {
    (void)a.data<std::int32_t>();
    FAIL("expected DTypeError");
  } catch (const tessera::DTypeError& e) {
    const std::string what = e.what();
    CHECK(what.find("expected dtype int32") != std::string::npos);
    CHECK(what.find("actual dtype float64") != std::string::npos);
    CHECK(what.find("(2, 3)") != std::string::npos);
  }
  CHECK_THROWS_AS(NDArray::from_vector<int>({1, 2, 3}, {2, 2}), tessera::ShapeError);
}

TEST_CASE("buffers are immutable once shared") {
  auto a = NDArray::zeros({4}, DType::float64);
  a.mutable_data<double>()[0] = 1.0;  // fresh: allowed
  NDArray b = a;                      // cheap handle
  CHECK(b.bytes() == a.bytes());
  CHECK_THROWS_AS((void)a.mutable_data<double>(), tessera::Error);
  NDArray c = a.clone();
  CHECK(c.bytes() != a.bytes());
  c.mutable_data<double>()[1] = 2.0;
  CHECK(a.at<double>(1) == 0.0);
  CHECK(tessera::array_equal(a, b));
}

TEST_CASE("reshape shares bytes and checks sizes") {
  auto a = NDArray::arange(0, 12);
  auto b = a.reshape({3, -1});
  CHECK(b.shape() == Shape{3, 4});
  CHECK(b.bytes() == a.bytes());
  CHECK(b.at<double>(2, 1) == 9);
  CHECK_THROWS_AS((void)a.reshape({5, -1}), tessera::ShapeError);
  CHECK_THROWS_AS((void)a.reshape({5, 2}), tessera::ShapeError);
  CHECK(a.reshape({1, 12, 1}).ndim() == 3);
}

TEST_CASE("astype converts like NumPy") {
  auto a = NDArray::from_vector<double>({1.7, -1.7, 0.0, std::nan(""), 300.0});
  auto i = a.astype(DType::int32);
  CHECK(i.at<std::int32_t>(0) == 1);
  CHECK(i.at<std::int32_t>(1) == -1);
  CHECK(i.at<std::int32_t>(3) == std::numeric_limits<std::int32_t>::min());
  auto u = a.astype(DType::uint8);
  CHECK(u.at<std::uint8_t>(4) == 44);  // 300 wraps
  auto b = a.astype(DType::bool_);
  CHECK(b.at<bool>(0));
  CHECK_FALSE(b.at<bool>(2));
  CHECK(b.at<bool>(3));  // NaN is truthy
  CHECK(a.astype(DType::float64).bytes() == a.bytes());
}

template <class OArchive, class IArchive>
NDArray round_trip(const NDArray& a) {
  std::stringstream ss;
  {
    OArchive oa(ss);
    oa << a;
  }
  NDArray b;
  IArchive ia(ss);
  ia >> b;
  return b;
}

TEST_CASE("serialization round trips every dtype and odd shape") {
  for (int t = 0; t < tessera::num_dtypes; ++t) {
    for (const Shape& s : {Shape{}, Shape{1}, Shape{7, 3}, Shape{2, 0, 5}, Shape{3, 1, 2}}) {
      const NDArray a = NDArray::arange(0, static_cast<double>(tessera::shape_size(s)), 1, DType(t)).reshape(s);
      const NDArray b = round_trip<boost::archive::binary_oarchive, boost::archive::binary_iarchive>(a);
      CHECK(b.dtype() == a.dtype());
      CHECK(b.shape() == a.shape());
      CHECK(tessera::array_equal(a, b));
      const NDArray c = round_trip<boost::archive::text_oarchive, boost::archive::text_iarchive>(a);
      CHECK(tessera::array_equal(a, c));
    }
  }
}

TEST_CASE("serialization writes the payload as one binary block") {
  const NDArray a = NDArray::zeros({1000}, DType::float64);
  std::stringstream ss;
  {
    boost::archive::binary_oarchive oa(ss, boost::archive::no_header);
    oa << a;
  }
  // 8000 payload bytes plus a small fixed overhead (dtype, shape, sizes), not per element.
  CHECK(ss.str().size() < 8000 + 64);
}

TEST_CASE("the tessera codec round trips arrays, received chunks become views of the buffer") {
  for (int t = 0; t < tessera::num_dtypes; ++t) {
    for (const Shape& s : {Shape{}, Shape{1}, Shape{7, 3}, Shape{2, 0, 5}, Shape{300, 101}}) {
      const NDArray a = NDArray::arange(0, static_cast<double>(tessera::shape_size(s)), 1, DType(t)).reshape(s);
      const auto bytes = std::make_shared<const tessera::Bytes>(tessera::encode(a));
      tessera::ByteReader plain(*bytes);
      const NDArray copy = tessera::decode<NDArray>(plain);
      CHECK(tessera::array_equal(a, copy));
      CHECK(copy.dtype() == a.dtype());
      CHECK(copy.shape() == a.shape());
      tessera::ByteReader owned(*bytes, bytes);
      const NDArray view = tessera::Codec<NDArray>::read(owned);
      CHECK(tessera::array_equal(a, view));
      const bool inside = view.bytes() >= bytes->data() && view.bytes() < bytes->data() + bytes->size();
      // Arrays of 64 KiB and more are viewed in place (and keep the buffer alive); small ones copied.
      CHECK(inside == (a.nbytes() >= (std::size_t{64} << 10)));
      if (inside) {
        CHECK(reinterpret_cast<std::uintptr_t>(view.bytes()) % a.item_bytes() == 0);
        CHECK_FALSE(view.unique());  // shares the received buffer: immutable
      }
    }
  }
  // The elements travel as one block, after a 64-byte aligned header.
  const NDArray big = NDArray::zeros({1000}, DType::float64);
  CHECK(tessera::encode(big).size() == 64 + 8000);
  // Bad bytes are reported.
  auto bad = tessera::encode(big);
  bad[0] = std::byte{200};
  CHECK_THROWS_WITH_AS((void)tessera::decode<NDArray>(bad), doctest::Contains("bad dtype code"),
                       tessera::SerializationError);
  auto cut = tessera::encode(big);
  cut.resize(cut.size() - 1);
  CHECK_THROWS_AS((void)tessera::decode<NDArray>(cut), tessera::SerializationError);
}

TEST_CASE("a view keeps its owner alive and refuses misaligned data") {
  auto owner = std::make_shared<std::vector<double>>(std::vector<double>{1, 2, 3, 4});
  std::weak_ptr<std::vector<double>> watch = owner;
  NDArray v = NDArray::view_of(owner, reinterpret_cast<const std::byte*>(owner->data()), {2, 2}, DType::float64);
  owner.reset();
  CHECK_FALSE(watch.expired());
  CHECK(v.at<double>(1, 1) == 4.0);
  v = NDArray();
  CHECK(watch.expired());
  auto raw = std::make_shared<std::vector<std::byte>>(64);
  CHECK_THROWS_AS((void)NDArray::view_of(raw, raw->data() + 1, {2}, DType::float64), tessera::Error);
}

TEST_CASE("allclose and array_equal") {
  auto a = NDArray::from_vector<double>({1.0, 2.0, std::nan("")});
  auto b = NDArray::from_vector<double>({1.0 + 1e-9, 2.0, std::nan("")});
  CHECK_FALSE(tessera::allclose(a, b));
  CHECK(tessera::allclose(a, b, 1e-5, 1e-8, true));
  CHECK_FALSE(tessera::array_equal(a, a));
  CHECK(tessera::array_equal(a, a, true));
  CHECK(tessera::array_equal(NDArray::from_vector<int>({1, 2}), NDArray::from_vector<double>({1, 2})));
  CHECK_FALSE(tessera::allclose(a, a.reshape({3, 1})));
}

}  // TEST_SUITE
