#include <tessera/collections/array/ndarray.hpp>

#include <collections/array/kernel_util.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace tessera {

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '(';
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0) os << ", ";
    os << s[i];
  }
  if (s.size() == 1) os << ',';
  return os << ')';
}

std::string to_string(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

std::int64_t shape_size(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) {
    if (d < 0) TESSERA_THROW(ShapeError, "negative dimension in shape ", to_string(s));
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d) {
      TESSERA_THROW(ShapeError, "shape ", to_string(s), " has too many elements");
    }
    n *= d;
  }
  return n;
}

std::vector<std::int64_t> c_strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (std::size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * std::max<std::int64_t>(s[i], 1);
  return st;
}

namespace detail {

int normalize_axis(int axis, int ndim, const char* op, const Shape& shape) {
  const int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) {
    TESSERA_THROW(ShapeError, op, ": axis ", axis, " is out of bounds for array of shape ",
                  to_string(shape));
  }
  return a;
}

namespace {
template <class To, class From>
void convert_typed(const From* s, To* d, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) d[i] = cast_value<To>(s[i]);
}
}  // namespace

void convert(const void* src, DType from, void* dst, DType to, std::int64_t n) {
  if (from == to) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * item_size(from));
    return;
  }
  visit_dtype(from, [&](auto f) {
    using From = decltype(f);
    visit_dtype(to, [&](auto t) {
      using To = decltype(t);
      convert_typed<To, From>(static_cast<const From*>(src), static_cast<To*>(dst), n);
    });
  });
}

}  // namespace detail

NDArray::NDArray() : NDArray(Shape{}, DType::float64) {
  std::memset(m_buffer.get(), 0, 8);
}

NDArray::NDArray(Shape shape, DType dtype)
    : m_shape(std::move(shape)), m_size(shape_size(m_shape)), m_dtype(dtype) {
  m_buffer = BufferPool::instance().allocate(nbytes());
}

NDArray NDArray::empty(const Shape& shape, DType dtype) { return NDArray(shape, dtype); }

NDArray NDArray::view_of(std::shared_ptr<const void> owner, const std::byte* data, const Shape& shape,
                         DType dtype) {
  NDArray out;
  out.m_shape = shape;
  out.m_size = shape_size(shape);
  out.m_dtype = dtype;
  if (reinterpret_cast<std::uintptr_t>(data) % item_size(dtype) != 0) {
    TESSERA_THROW(Error, "NDArray::view_of: data at ", static_cast<const void*>(data),
                  " is not aligned for ", dtype_name(dtype));
  }
  out.m_buffer = std::shared_ptr<std::byte>(std::const_pointer_cast<void>(std::move(owner)),
                                            const_cast<std::byte*>(data));
  return out;
}

namespace {
constexpr std::size_t wire_alignment = 64;
constexpr std::size_t min_view_bytes = std::size_t{64} << 10;
constexpr std::uint32_t max_wire_ndim = 64;
}  // namespace

void Codec<NDArray>::write(ByteWriter& w, const NDArray& a) {
  w.pod<std::uint8_t>(static_cast<std::uint8_t>(a.dtype()));
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(a.ndim()));
  for (auto e : a.shape()) w.pod<std::int64_t>(e);
  w.align(wire_alignment);
  w.bulk(a.bytes(), a.nbytes());
}

NDArray Codec<NDArray>::read(ByteReader& r) {
  const auto code = r.pod<std::uint8_t>();
  if (code >= num_dtypes) TESSERA_THROW(SerializationError, "NDArray: bad dtype code ", int(code), " in serialized bytes");
  const auto nd = r.pod<std::uint32_t>();
  if (nd > max_wire_ndim) TESSERA_THROW(SerializationError, "NDArray: ", nd, " dimensions in serialized bytes");
  Shape shape(nd);
  for (auto& e : shape) e = r.pod<std::int64_t>();
  const auto dtype = static_cast<DType>(code);
  std::int64_t n = 0;
  try {
    n = shape_size(shape);
  } catch (const ShapeError& e) {
    TESSERA_THROW(SerializationError, "NDArray: bad shape in serialized bytes: ", e.what());
  }
  const auto nbytes = static_cast<std::size_t>(n) * item_size(dtype);
  if (n < 0 || nbytes / item_size(dtype) != static_cast<std::size_t>(n)) {
    TESSERA_THROW(SerializationError, "NDArray: shape ", to_string(shape), " overflows");
  }
  r.align(wire_alignment);
  const auto bytes = r.take(nbytes);
  if (r.owner() && nbytes >= min_view_bytes &&
      reinterpret_cast<std::uintptr_t>(bytes.data()) % item_size(dtype) == 0) {
    return NDArray::view_of(r.owner(), bytes.data(), shape, dtype);
  }
  NDArray out = NDArray::empty(shape, dtype);
  if (nbytes) std::memcpy(out.mutable_bytes(), bytes.data(), nbytes);
  return out;
}

NDArray NDArray::zeros(const Shape& shape, DType dtype) {
  NDArray a(shape, dtype);
  std::memset(a.m_buffer.get(), 0, a.nbytes());
  return a;
}

NDArray NDArray::full(const Shape& shape, DType dtype, double value) {
  NDArray a(shape, dtype);
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const T v = detail::cast_value<T>(value);
    std::fill_n(reinterpret_cast<T*>(a.m_buffer.get()), a.m_size, v);
  });
  return a;
}

NDArray NDArray::arange(double start, double stop, double step, DType dtype) {
  if (step == 0) TESSERA_THROW(ShapeError, "arange: step must not be 0");
  const double len = std::ceil((stop - start) / step);
  const auto n = len > 0 ? static_cast<std::int64_t>(len) : 0;
  NDArray a(Shape{n}, dtype);
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    T* d = reinterpret_cast<T*>(a.m_buffer.get());
    for (std::int64_t i = 0; i < n; ++i) d[i] = detail::cast_value<T>(start + static_cast<double>(i) * step);
  });
  return a;
}

NDArray NDArray::linspace(double start, double stop, std::int64_t num, bool endpoint, DType dtype) {
  if (num < 0) TESSERA_THROW(ShapeError, "linspace: num must be >= 0, got ", num);
  NDArray a(Shape{num}, DType::float64);
  double* d = reinterpret_cast<double*>(a.m_buffer.get());
  const std::int64_t div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / static_cast<double>(div) : 0.0;
  for (std::int64_t i = 0; i < num; ++i) d[i] = start + static_cast<double>(i) * step;
  if (endpoint && num > 1) d[num - 1] = stop;
  return a.astype(dtype);
}

void NDArray::check_dtype(DType expected) const {
  if (expected != m_dtype) {
    TESSERA_THROW(DTypeError, "NDArray of shape ", to_string(m_shape), ": expected dtype ",
                  dtype_name(expected), ", actual dtype ", dtype_name(m_dtype));
  }
}

void NDArray::check_unique(const char* what) const {
  if (m_buffer.use_count() > 1) {
    TESSERA_THROW(Error, "NDArray::", what, ": the buffer of this ", dtype_name(m_dtype),
                  " array of shape ", to_string(m_shape),
                  " is shared with another handle and therefore immutable; clone() it first");
  }
}

std::int64_t NDArray::flat_index(const std::int64_t* idx, std::size_t n) const {
  if (n != m_shape.size()) {
    TESSERA_THROW(ShapeError, "NDArray::at: ", n, " indices for an array of shape ", to_string(m_shape));
  }
  std::int64_t flat = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t k = idx[i] < 0 ? idx[i] + m_shape[i] : idx[i];
    if (k < 0 || k >= m_shape[i]) {
      TESSERA_THROW(ShapeError, "NDArray::at: index ", idx[i], " is out of bounds for axis ", i,
                    " of shape ", to_string(m_shape));
    }
    flat = flat * m_shape[i] + k;
  }
  return flat;
}

double NDArray::value_as_double(std::int64_t i) const {
  if (i < 0 || i >= m_size) {
    TESSERA_THROW(ShapeError, "NDArray::value_as_double: index ", i, " out of range for shape ",
                  to_string(m_shape));
  }
  return visit_dtype(m_dtype, [&](auto t) {
    using T = decltype(t);
    return static_cast<double>(reinterpret_cast<const T*>(m_buffer.get())[i]);
  });
}

NDArray NDArray::clone() const {
  NDArray a(m_shape, m_dtype);
  std::memcpy(a.m_buffer.get(), m_buffer.get(), nbytes());
  return a;
}

NDArray NDArray::reshape(const Shape& shape) const {
  Shape s = shape;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (s[i] < 0) {
      TESSERA_THROW(ShapeError, "reshape: cannot reshape array of shape ", to_string(m_shape),
                    " into shape ", to_string(shape));
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || m_size % known != 0) {
      TESSERA_THROW(ShapeError, "reshape: cannot reshape array of shape ", to_string(m_shape),
                    " into shape ", to_string(shape));
    }
    s[static_cast<std::size_t>(infer)] = m_size / known;
  }
  if (shape_size(s) != m_size) {
    TESSERA_THROW(ShapeError, "reshape: cannot reshape array of shape ", to_string(m_shape),
                  " (", m_size, " elements) into shape ", to_string(shape));
  }
  NDArray out = *this;
  out.m_shape = std::move(s);
  return out;
}

NDArray NDArray::astype(DType dtype) const {
  if (dtype == m_dtype) return *this;
  NDArray a(m_shape, dtype);
  detail::convert(m_buffer.get(), m_dtype, a.m_buffer.get(), dtype, m_size);
  return a;
}

bool array_equal(const NDArray& a, const NDArray& b, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const double x = a.value_as_double(i);
    const double y = b.value_as_double(i);
    if (x == y) continue;
    if (equal_nan && std::isnan(x) && std::isnan(y)) continue;
    // int64 values beyond 2^53 compare exactly through the integer path
    return false;
  }
  if (a.dtype() == DType::int64 && b.dtype() == DType::int64) {
    return std::equal(a.data<std::int64_t>().begin(), a.data<std::int64_t>().end(),
                      b.data<std::int64_t>().begin());
  }
  return true;
}

bool allclose(const NDArray& a, const NDArray& b, double rtol, double atol, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const double x = a.value_as_double(i);
    const double y = b.value_as_double(i);
    if (std::isnan(x) || std::isnan(y)) {
      if (equal_nan && std::isnan(x) && std::isnan(y)) continue;
      return false;
    }
    if (std::isinf(x) || std::isinf(y)) {
      if (x == y) continue;
      return false;
    }
    if (std::abs(x - y) > atol + rtol * std::abs(y)) return false;
  }
  return true;
}

std::string describe(const NDArray& a) {
  std::ostringstream os;
  os << "NDArray(" << a.dtype() << ", " << a.shape() << ") [";
  const std::int64_t n = std::min<std::int64_t>(a.size(), 32);
  for (std::int64_t i = 0; i < n; ++i) os << (i ? ", " : "") << a.value_as_double(i);
  if (a.size() > n) os << ", ...";
  os << ']';
  return os.str();
}

}  // namespace tessera
