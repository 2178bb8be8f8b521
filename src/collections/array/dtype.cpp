#include <tessera/collections/array/kernels/dtype.hpp>

#include <array>

namespace tessera {

std::string_view dtype_name(DType t) noexcept {
  switch (t) {
    case DType::bool_: return "bool";
    case DType::uint8: return "uint8";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
  }
  return "invalid";
}

DType dtype_from_name(std::string_view name) {
  if (name == "bool" || name == "bool_") return DType::bool_;
  if (name == "uint8") return DType::uint8;
  if (name == "int32") return DType::int32;
  if (name == "int64" || name == "int") return DType::int64;
  if (name == "float32") return DType::float32;
  if (name == "float64" || name == "float" || name == "double") return DType::float64;
  TESSERA_THROW(DTypeError, "unknown dtype name '", name,
                "' (expected bool, uint8, int32, int64, float32 or float64)");
}

DType promote(DType a, DType b) noexcept {
  using D = DType;
  if (a == b) return a;
  // Symmetric table in the order bool, uint8, int32, int64, float32, float64.
  static constexpr std::array<std::array<D, 6>, 6> table{{
      {D::bool_, D::uint8, D::int32, D::int64, D::float32, D::float64},
      {D::uint8, D::uint8, D::int32, D::int64, D::float32, D::float64},
      {D::int32, D::int32, D::int32, D::int64, D::float64, D::float64},
      {D::int64, D::int64, D::int64, D::int64, D::float64, D::float64},
      {D::float32, D::float32, D::float64, D::float64, D::float32, D::float64},
      {D::float64, D::float64, D::float64, D::float64, D::float64, D::float64},
  }};
  return table[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)];
}

DType promote_with_scalar(DType array, bool scalar_is_floating) noexcept {
  if (scalar_is_floating) return is_floating(array) ? array : DType::float64;
  return array == DType::bool_ ? DType::int64 : array;
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

}  // namespace tessera
