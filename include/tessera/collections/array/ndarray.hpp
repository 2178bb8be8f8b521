#pragma once

/// @file
/// NDArray: one dense, C-contiguous, in-memory N-d chunk with a runtime dtype. The single-chunk
/// layer under the lazy, chunked `Array`: chunks travel between tasks and ranks as NDArrays, and
/// the kernels in collections/array/kernels/ compute on them. No graph, no scheduler here.
///
/// Buffers are shared and immutable after construction: copying an NDArray copies a handle,
/// `clone()` copies the bytes, and `mutable_data()` refuses to hand out a writable view of a
/// buffer that more than one handle can see.
///
/// @code
/// auto a = tessera::NDArray::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
/// double x = a.at<double>(1, 2);          // 6
/// auto b = a.reshape({3, 2});             // shares a's bytes
/// @endcode

#include <tessera/core/buffer_pool.hpp>
#include <tessera/collections/array/kernels/dtype.hpp>
#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <boost/serialization/binary_object.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/vector.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace tessera {

/// Extents of an N-d array, outermost first. Empty = 0-d (one element); zeros are allowed.
using Shape = std::vector<std::int64_t>;

/// Writes `s` the way NumPy prints shapes: "(3, 4)", "(5,)", "()".
std::ostream& operator<<(std::ostream& os, const Shape& s);
/// The same text as operator<<.
std::string to_string(const Shape& s);
/// Product of the extents (1 for a 0-d shape).
/// Throws: ShapeError if an extent is negative or the product overflows.
std::int64_t shape_size(const Shape& s);
/// C-order strides of `s` in elements (not bytes).
std::vector<std::int64_t> c_strides(const Shape& s);

/// Dense C-contiguous N-d array with a runtime dtype; see the file comment.
///
/// Thread safety: const members may be called concurrently; the buffer is immutable once shared.
class NDArray {
public:
  /// A 0-d float64 array holding 0.
  NDArray();

  // ---- factories ------------------------------------------------------------------------
  /// Uninitialized array (contents unspecified). Throws: ShapeError for a negative extent.
  static NDArray empty(const Shape& shape, DType dtype);
  /// Array of zeros (false for bool).
  static NDArray zeros(const Shape& shape, DType dtype);
  /// Array with every element `value` converted to `dtype` (C++ conversion; bool: value != 0).
  static NDArray full(const Shape& shape, DType dtype, double value);
  /// Array of `values` with `shape`. Throws: ShapeError if the sizes differ.
  template <class T>
  static NDArray from_vector(const std::vector<T>& values, const Shape& shape);
  /// 1-d array of `values`.
  template <class T>
  static NDArray from_vector(const std::vector<T>& values) {
    return from_vector<T>(values, Shape{static_cast<std::int64_t>(values.size())});
  }
  /// 0-d array holding `value`.
  template <class T>
  static NDArray scalar(T value) {
    return from_vector<T>(std::vector<T>{value}, Shape{});
  }
  /// An array over `data` (nbytes of `shape` x `dtype`, aligned for the dtype), owned by
  /// `owner`: nothing is copied; the bytes must not change while the array is alive. How a
  /// chunk that arrived from another rank becomes an array in place.
  /// Throws: ShapeError for a negative extent; Error if `data` is misaligned for `dtype`.
  static NDArray view_of(std::shared_ptr<const void> owner, const std::byte* data, const Shape& shape,
                         DType dtype);
  /// NumPy's arange(start, stop, step) as `dtype`: ceil((stop-start)/step) elements start+i*step.
  /// Throws: ShapeError if step is 0.
  static NDArray arange(double start, double stop, double step = 1.0, DType dtype = DType::float64);
  /// NumPy's linspace(start, stop, num, endpoint) in float64 (or `dtype`).
  /// Throws: ShapeError if num < 0.
  static NDArray linspace(double start, double stop, std::int64_t num, bool endpoint = true,
                          DType dtype = DType::float64);

  // ---- queries --------------------------------------------------------------------------
  [[nodiscard]] DType dtype() const noexcept { return m_dtype; }
  [[nodiscard]] const Shape& shape() const noexcept { return m_shape; }
  [[nodiscard]] int ndim() const noexcept { return static_cast<int>(m_shape.size()); }
  [[nodiscard]] std::int64_t size() const noexcept { return m_size; }
  [[nodiscard]] std::size_t nbytes() const noexcept {
    return static_cast<std::size_t>(m_size) * item_size(m_dtype);
  }
  [[nodiscard]] std::size_t item_bytes() const noexcept { return item_size(m_dtype); }

  /// Read-only view of the elements in C order.
  /// Throws: DTypeError naming the expected and actual dtype if T does not match.
  template <class T>
  [[nodiscard]] std::span<const T> data() const {
    check_dtype(dtype_of<T>());
    return {reinterpret_cast<const T*>(m_buffer.get()), static_cast<std::size_t>(m_size)};
  }
  /// Writable view, for filling a freshly created array.
  /// Throws: DTypeError on a dtype mismatch; Error if the buffer is shared with another handle
  /// (arrays are immutable once shared: clone() first).
  template <class T>
  [[nodiscard]] std::span<T> mutable_data() {
    check_dtype(dtype_of<T>());
    check_unique("mutable_data");
    return {reinterpret_cast<T*>(m_buffer.get()), static_cast<std::size_t>(m_size)};
  }
  /// Raw bytes (nbytes() of them).
  [[nodiscard]] const std::byte* bytes() const noexcept { return m_buffer.get(); }
  /// Raw writable bytes. Throws: Error if the buffer is shared with another handle.
  [[nodiscard]] std::byte* mutable_bytes() {
    check_unique("mutable_bytes");
    return m_buffer.get();
  }
  /// True if no other NDArray handle shares this buffer.
  [[nodiscard]] bool unique() const noexcept { return m_buffer.use_count() <= 1; }

  /// Element at a multi-index (one index per axis, negative counts from the end).
  /// Throws: ShapeError for a wrong count or an out-of-range index; DTypeError for a wrong T.
  template <class T, class... I>
  [[nodiscard]] T at(I... idx) const {
    const std::array<std::int64_t, sizeof...(I)> ix{static_cast<std::int64_t>(idx)...};
    return data<T>()[static_cast<std::size_t>(flat_index(ix.data(), sizeof...(I)))];
  }
  /// Element `i` of the flattened array converted to double (any dtype).
  /// Throws: ShapeError if i is out of range.
  [[nodiscard]] double value_as_double(std::int64_t i) const;

  // ---- whole-array operations -----------------------------------------------------------
  /// Deep copy with its own buffer.
  [[nodiscard]] NDArray clone() const;
  /// The same bytes with another shape (shares the buffer; -1 infers one extent).
  /// Throws: ShapeError naming both shapes if the sizes differ.
  [[nodiscard]] NDArray reshape(const Shape& shape) const;
  /// Converted copy (or this handle if `dtype` is already the dtype), C++/NumPy casting rules;
  /// NaN and out-of-range floats cast to ints give the type's minimum (as NumPy on x86).
  [[nodiscard]] NDArray astype(DType dtype) const;

  template <class Ar>
  void save(Ar& ar, unsigned /*version*/) const {
    auto code = static_cast<std::uint8_t>(m_dtype);
    ar& code;
    ar& m_shape;
    ar& boost::serialization::make_binary_object(const_cast<std::byte*>(m_buffer.get()), nbytes());
  }
  template <class Ar>
  void load(Ar& ar, unsigned /*version*/) {
    std::uint8_t code = 0;
    Shape shape;
    ar& code;
    ar& shape;
    if (code >= num_dtypes) {
      TESSERA_THROW(SerializationError, "NDArray: bad dtype code ", int(code), " in archive");
    }
    *this = empty(shape, static_cast<DType>(code));
    ar& boost::serialization::make_binary_object(m_buffer.get(), nbytes());
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

private:
  NDArray(Shape shape, DType dtype);
  void check_dtype(DType expected) const;
  void check_unique(const char* what) const;
  std::int64_t flat_index(const std::int64_t* idx, std::size_t n) const;

  std::shared_ptr<std::byte> m_buffer;
  Shape m_shape;
  std::int64_t m_size = 1;
  DType m_dtype = DType::float64;
};

template <class T>
NDArray NDArray::from_vector(const std::vector<T>& values, const Shape& shape) {
  NDArray out(shape, dtype_of<T>());
  if (static_cast<std::int64_t>(values.size()) != out.size()) {
    TESSERA_THROW(ShapeError, "NDArray::from_vector: ", values.size(), " values for shape ",
                  to_string(shape), " (", out.size(), " elements)");
  }
  auto dst = out.mutable_data<T>();
  for (std::size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
  return out;
}

/// How NDArrays travel between ranks and into spill files: dtype, shape, padding to 64 bytes,
/// then the elements as one bulk block. Sending references the elements in place
/// (ByteWriter::bulk); a received array of at least 64 KiB becomes a view of the received
/// buffer (no copy). Throws (read): SerializationError for a bad dtype code or truncated bytes.
template <>
struct Codec<NDArray> {
  static void write(ByteWriter& w, const NDArray& a);
  static NDArray read(ByteReader& r);
};

/// True if `a` and `b` have the same shape and equal elements (values compared after promotion,
/// NaN != NaN unless `equal_nan`). Dtypes may differ, as in np.array_equal.
bool array_equal(const NDArray& a, const NDArray& b, bool equal_nan = false);

/// np.allclose for equal shapes: |a - b| <= atol + rtol * |b| elementwise, NaN equal to NaN only
/// if `equal_nan`. Returns false if the shapes differ.
bool allclose(const NDArray& a, const NDArray& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

/// Short human-readable dump: "NDArray(float64, (2, 3)) [1, 2, 3, 4, 5, 6]" (at most 32 values).
std::string describe(const NDArray& a);

}  // namespace tessera
