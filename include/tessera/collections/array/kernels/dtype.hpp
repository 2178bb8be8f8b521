#pragma once

/// @file
/// Runtime element types of tessera's dense arrays (`DType`), their names and sizes, and NumPy's
/// type-promotion rules (array-array and array-scalar). The bottom of the collections/array
/// layer: NDArray, the elementwise kernels and the lazy Array all speak DType.

#include <tessera/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace tessera {

/// Dtype mismatch or an operation a dtype does not support ("expected float64, got int32").
class DTypeError : public ShapeError {
public:
  using ShapeError::ShapeError;
};

/// Element type of an NDArray. The numeric values are stable: they are serialized.
enum class DType : std::uint8_t { bool_ = 0, uint8 = 1, int32 = 2, int64 = 3, float32 = 4, float64 = 5 };

/// Number of dtypes; DType values are 0 .. num_dtypes-1.
inline constexpr int num_dtypes = 6;

/// NumPy name of `t`: "bool", "uint8", "int32", "int64", "float32", "float64".
std::string_view dtype_name(DType t) noexcept;

/// Parses a NumPy dtype name (as dtype_name prints it; "bool_" and "float"/"int" also accepted).
/// Throws: DTypeError quoting `name` if it is not one.
DType dtype_from_name(std::string_view name);

/// Bytes per element of `t` (bool is one byte).
constexpr std::size_t item_size(DType t) noexcept {
  switch (t) {
    case DType::bool_:
    case DType::uint8: return 1;
    case DType::int32:
    case DType::float32: return 4;
    case DType::int64:
    case DType::float64: return 8;
  }
  return 0;
}

/// True for float32 and float64.
constexpr bool is_floating(DType t) noexcept { return t == DType::float32 || t == DType::float64; }
/// True for uint8, int32, int64 (not bool).
constexpr bool is_integer(DType t) noexcept {
  return t == DType::uint8 || t == DType::int32 || t == DType::int64;
}

/// NumPy's result type of a binary operation between two arrays of dtypes `a` and `b`
/// (np.promote_types), restricted to tessera's dtypes: bool < uint8 < int32 < int64 < float64,
/// float32 with uint8/bool stays float32, float32 with int32/int64 gives float64.
DType promote(DType a, DType b) noexcept;

/// Result type of an array of dtype `array` combined with a Python-like scalar, NumPy 2's rules
/// (NEP 50, weak scalars): a floating scalar with a bool/int array gives float64 and keeps a
/// float array's dtype; an integer scalar keeps an int or float array's dtype and turns a bool
/// array into int64. The value does not change the dtype: an integer scalar out of the
/// dtype's range is an error (see Scalar in elementwise.hpp).
DType promote_with_scalar(DType array, bool scalar_is_floating) noexcept;

/// The dtype whose C++ element type is T (bool, uint8_t, int32_t, int64_t, float, double).
template <class T>
constexpr DType dtype_of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return DType::bool_;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return DType::uint8;
  else if constexpr (std::is_same_v<U, std::int32_t>) return DType::int32;
  else if constexpr (std::is_same_v<U, std::int64_t>) return DType::int64;
  else if constexpr (std::is_same_v<U, float>) return DType::float32;
  else {
    static_assert(std::is_same_v<U, double>, "tessera arrays hold bool, uint8, int32, int64, float or double");
    return DType::float64;
  }
}

/// Calls `f(T{})` with the C++ element type of `t` (bool, uint8_t, int32_t, int64_t, float, double).
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::bool_: return f(bool{});
    case DType::uint8: return f(std::uint8_t{});
    case DType::int32: return f(std::int32_t{});
    case DType::int64: return f(std::int64_t{});
    case DType::float32: return f(float{});
    case DType::float64: break;
  }
  return f(double{});
}

/// Writes dtype_name(t).
std::ostream& operator<<(std::ostream& os, DType t);

}  // namespace tessera
