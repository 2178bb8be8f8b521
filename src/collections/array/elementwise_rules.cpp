// Elementwise operations: names, result dtypes (NumPy's promotion) and broadcasting.
#include "collections/array/elementwise_rules.hpp"

#include <collections/array/kernel_util.hpp>

#include <string_view>

namespace tessera {

// ---------------------------------------------------------------------------------------------
// names and dtype rules

std::string_view op_name(UnaryOp op) noexcept {
  static constexpr std::string_view names[] = {"neg", "abs",  "sqrt",  "exp",  "log",   "sin",
                                               "cos", "tanh", "floor", "ceil", "isnan", "logical_not"};
  return names[static_cast<std::size_t>(op)];
}

std::string_view op_name(BinaryOp op) noexcept {
  static constexpr std::string_view names[] = {
      "add",   "sub",       "mul",  "div",        "floordiv", "mod",           "pow",
      "minimum", "maximum", "equal", "not_equal", "less",     "less_equal",    "greater",
      "greater_equal", "logical_and", "logical_or"};
  return names[static_cast<std::size_t>(op)];
}

namespace elementwise_rules {

bool is_math(UnaryOp op) {
  switch (op) {
    case UnaryOp::sqrt: case UnaryOp::exp: case UnaryOp::log: case UnaryOp::sin:
    case UnaryOp::cos: case UnaryOp::tanh: case UnaryOp::floor: case UnaryOp::ceil: return true;
    default: return false;
  }
}

DType math_float(DType t) {
  if (is_floating(t)) return t;
  return (t == DType::bool_ || t == DType::uint8) ? DType::float32 : DType::float64;
}

bool is_comparison(BinaryOp op) {
  return op >= BinaryOp::equal && op <= BinaryOp::greater_equal;
}

// dtype the operands of a unary op are cast to before the kernel runs
DType unary_operand_dtype(UnaryOp op, DType t) {
  if (is_math(op)) return math_float(t);
  if (op == UnaryOp::logical_not) return DType::bool_;
  if (op == UnaryOp::neg && t == DType::bool_) {
    TESSERA_THROW(DTypeError, "neg: the numpy boolean negative is not supported (dtype bool); "
                              "use logical_not");
  }
  return t;
}

// dtype both operands of a binary op are cast to before the kernel runs
DType binary_operand_dtype(BinaryOp op, DType common) {
  switch (op) {
    case BinaryOp::logical_and:
    case BinaryOp::logical_or: return DType::bool_;
    case BinaryOp::div: return is_floating(common) ? common : DType::float64;
    case BinaryOp::sub:
      if (common == DType::bool_) {
        TESSERA_THROW(DTypeError, "sub: numpy boolean subtract is not supported (both operands "
                                  "are bool); use logical_xor or cast first");
      }
      return common;
    case BinaryOp::floordiv:
    case BinaryOp::mod:
    case BinaryOp::pow: return common == DType::bool_ ? DType::int64 : common;
    default: return common;
  }
}

}  // namespace elementwise_rules

using namespace elementwise_rules;

DType result_dtype(UnaryOp op, DType t) {
  const DType operand = unary_operand_dtype(op, t);
  return (op == UnaryOp::isnan || op == UnaryOp::logical_not) ? DType::bool_ : operand;
}

DType result_dtype(BinaryOp op, DType a, DType b) {
  const DType operand = binary_operand_dtype(op, promote(a, b));
  return is_comparison(op) ? DType::bool_ : operand;
}

Shape broadcast_shapes(const Shape& lhs, const Shape& rhs) {
  const std::size_t n = std::max(lhs.size(), rhs.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = detail::dim_from_end(lhs, i);
    const auto b = detail::dim_from_end(rhs, i);
    if (a != b && a != 1 && b != 1) {
      TESSERA_THROW(ShapeError, "operands could not be broadcast together: lhs shape ",
                    to_string(lhs), ", rhs shape ", to_string(rhs));
    }
    out[n - 1 - i] = a == 1 ? b : a;
  }
  return out;
}

}  // namespace tessera
