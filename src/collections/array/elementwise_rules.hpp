#pragma once

// Private to the elementwise layer (elementwise*.cpp): the dtype rules an operation's operands
// are converted by before it runs.

#include <tessera/collections/array/kernels/elementwise.hpp>

namespace tessera::elementwise_rules {

/// Whether `op` compares (its result is bool).
bool is_comparison(BinaryOp op);
/// The dtype the operand of `op` is converted to (float for math functions on integers).
DType unary_operand_dtype(UnaryOp op, DType t);
/// The dtype both operands of `op` are converted to, given their common dtype.
DType binary_operand_dtype(BinaryOp op, DType common);

}  // namespace tessera::elementwise_rules
