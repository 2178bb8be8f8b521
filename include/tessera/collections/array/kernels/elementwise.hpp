#pragma once

/// @file
/// Elementwise kernels on NDArrays with NumPy broadcasting and NumPy result dtypes, and
/// ElementwiseProgram: a small serializable expression program that evaluates a whole chain of
/// elementwise operations over N input chunks in one tiled pass (no full-size intermediates).
/// The lazy Array layer builds programs by composition and ships them inside tasks.
///
/// @code
/// using P = tessera::ElementwiseProgram;
/// auto prog = P::binary(tessera::BinaryOp::add,
///                       P::binary(tessera::BinaryOp::mul, P::input(0, tessera::DType::float64),
///                                 P::scalar(2.0)),
///                       P::input(1, tessera::DType::int32));
/// tessera::NDArray out = tessera::evaluate(prog, std::vector{x, y}, {100, 200});
/// std::string key = prog.name() + "-" + prog.token();   // "add-mul-5f1c..."
/// @endcode

#include <tessera/collections/array/ndarray.hpp>

#include <boost/serialization/vector.hpp>

#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tessera {

/// One-operand elementwise operations.
enum class UnaryOp : std::uint8_t {
  neg, abs, sqrt, exp, log, sin, cos, tanh, floor, ceil, isnan, logical_not
};
/// Two-operand elementwise operations (NumPy's ufunc of the same name).
enum class BinaryOp : std::uint8_t {
  add, sub, mul, div, floordiv, mod, pow, minimum, maximum,
  equal, not_equal, less, less_equal, greater, greater_equal, logical_and, logical_or
};

/// NumPy-like name of the operation ("neg", "sqrt", "floordiv", "less_equal", ...).
std::string_view op_name(UnaryOp op) noexcept;
std::string_view op_name(BinaryOp op) noexcept;

/// Result dtype of `op` on an operand of dtype `t` (math functions on ints give float64, on
/// bool/uint8 float32 since tessera has no float16; isnan/logical_not give bool).
/// Throws: DTypeError for neg of bool.
DType result_dtype(UnaryOp op, DType t);
/// Result dtype of `op` on operands of dtypes `a` and `b` (true division of ints gives float64,
/// comparisons and logical ops give bool). Throws: DTypeError for sub of two bools.
DType result_dtype(BinaryOp op, DType a, DType b);

/// NumPy broadcast of two shapes.
/// Throws: ShapeError "operands could not be broadcast together: lhs shape (3, 4), rhs shape (5,)".
Shape broadcast_shapes(const Shape& lhs, const Shape& rhs);

/// A Python-like scalar operand: a double or an int64, weakly typed as NumPy 2 treats Python
/// scalars (NEP 50): an integer scalar takes the dtype of the array it meets (uint8 + 3 is
/// uint8), a float scalar keeps a float array's dtype and makes an integer or bool one float64.
/// An integer scalar that is not a value of the dtype the operation computes in is an error
/// when the expression is built: `u8 + 300`, `u8 * -3` and `i32 + (1LL << 40)` throw DTypeError
/// "add: Python integer 300 out of bounds for uint8 ..." (as NumPy 2's OverflowError);
/// comparisons instead compare exactly (`u8 > -1` is all true, `u8 == 256` all false), and
/// clip() saturates such bounds (`clip(u8, -5, 300)` is u8). See docs/numpy_differences.md.
/// Throws (constructor): DTypeError for an unsigned value above the int64 range.
struct Scalar {
  Scalar(double v) : f(v), i(0), is_float(true) {}  // NOLINT(google-explicit-constructor)
  template <std::integral T>
  Scalar(T v) : f(static_cast<double>(v)), i(static_cast<std::int64_t>(v)), is_float(false) {  // NOLINT
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        TESSERA_THROW(DTypeError, "Python integer ", v, " out of bounds for int64 (tessera has no uint64)");
      }
    }
  }
  double f;
  std::int64_t i;
  bool is_float;
};

/// Serializable expression program over numbered input chunks; see the file comment.
///
/// Inputs are numbered slots: input(k, dtype) refers to the k-th array passed to evaluate().
/// Composing programs merges their input lists by slot number (the same k in both operands is
/// the same array); use remap_inputs() to renumber before composing. Identical
/// subexpressions are shared. Every instruction carries its dtype; implicit casts (promotion)
/// are explicit astype instructions.
///
/// Thread safety: a value type; const members may be called concurrently.
class ElementwiseProgram {
public:
  enum class OpCode : std::uint8_t { input, scalar_float, scalar_int, unary, binary, where, astype };

  /// One instruction; operands a, b, c index earlier instructions.
  struct Instruction {
    OpCode code = OpCode::input;
    std::uint8_t op = 0;  ///< UnaryOp/BinaryOp value for unary/binary
    DType dtype = DType::float64;
    std::int32_t a = -1, b = -1, c = -1;
    std::int64_t ivalue = 0;  ///< input slot (input) or value (scalar_int)
    double fvalue = 0;        ///< value (scalar_float)

    bool operator==(const Instruction&) const = default;
    template <class Ar>
    void serialize(Ar& ar, unsigned /*version*/) {
      ar& code& op& dtype& a& b& c& ivalue& fvalue;
    }
  };

  /// The identity on a 0-d float64 zero; use the factories below.
  ElementwiseProgram();

  /// Loads input slot `k` (>= 0), an array of dtype `dtype`.
  static ElementwiseProgram input(int k, DType dtype);
  /// A weakly typed constant (see Scalar).
  static ElementwiseProgram scalar(Scalar value);
  /// op(p).  Throws: DTypeError (see result_dtype).
  static ElementwiseProgram unary(UnaryOp op, const ElementwiseProgram& p);
  /// op(p1, p2) with NumPy promotion. Throws: DTypeError if an input slot is used with two
  /// dtypes, or see result_dtype.
  static ElementwiseProgram binary(BinaryOp op, const ElementwiseProgram& p1,
                                   const ElementwiseProgram& p2);
  /// where(cond, a, b): cond cast to bool, a and b promoted.
  static ElementwiseProgram where(const ElementwiseProgram& cond, const ElementwiseProgram& a,
                                  const ElementwiseProgram& b);
  /// p cast to `dtype`.
  static ElementwiseProgram astype(const ElementwiseProgram& p, DType dtype);
  /// minimum(maximum(p, lo), hi).
  static ElementwiseProgram clip(const ElementwiseProgram& p, const ElementwiseProgram& lo,
                                 const ElementwiseProgram& hi);

  /// The same program with input slot k renamed to new_slots[k].
  /// Throws: ShapeError if new_slots is shorter than num_inputs().
  [[nodiscard]] ElementwiseProgram remap_inputs(const std::vector<int>& new_slots) const;

  /// Dtype of the result.
  [[nodiscard]] DType dtype() const noexcept { return m_code.back().dtype; }
  /// 1 + the highest input slot used (0 for a constant program).
  [[nodiscard]] int num_inputs() const noexcept { return static_cast<int>(m_inputs.size()); }
  /// Declared dtype of each slot (float64 for unused slots below num_inputs()).
  [[nodiscard]] const std::vector<DType>& input_dtypes() const noexcept { return m_inputs; }
  [[nodiscard]] const std::vector<Instruction>& instructions() const noexcept { return m_code; }
  /// True if the program is a bare constant that promotes weakly (scalar()).
  [[nodiscard]] bool is_weak_scalar() const noexcept;

  /// Deterministic expression text, e.g. "add(mul(x0:float64, 2.5), astype(x1:int32, float64))".
  [[nodiscard]] std::string describe() const;
  /// Deterministic 64-bit hash of describe().
  [[nodiscard]] std::uint64_t hash() const;
  /// 16 hex digits of hash().
  [[nodiscard]] std::string token() const;
  /// Operation names from the root down, without repeats, joined by '-': "add-mul".
  [[nodiscard]] std::string name() const;

  bool operator==(const ElementwiseProgram& other) const = default;

  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar& m_code& m_inputs;
    if constexpr (Ar::is_loading::value) rebuild_used();
  }

private:
  void rebuild_used();
  int append(const Instruction& ins);
  int merge(const ElementwiseProgram& other);  // copies other's code, returns its root index
  int cast_to(int index, DType dtype);
  void use_input(int k, DType dtype);

  std::vector<Instruction> m_code;
  std::vector<DType> m_inputs;
  std::vector<bool> m_used;  // not serialized: slots that appear in an input instruction
};

/// Evaluates `program` over `inputs` (input slot k is inputs[k]), each broadcast to
/// `out_shape`, tile by tile, into one new array of program.dtype().
/// Throws: ShapeError if an input cannot be broadcast to out_shape or fewer inputs than
/// num_inputs() are given; DTypeError if an input's dtype differs from its declared dtype.
NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs,
                 const Shape& out_shape);
/// How evaluate() reads its inputs and which rows of the output it computes.
struct EvaluateView {
  /// Per input slot: an axis permutation, as transpose() takes it (empty or missing: the input as
  /// it is). Slot k is then read as transpose(inputs[k], input_axes[k]) without a transposed
  /// copy: a 2-d output with such an operand is evaluated in cache tiles, each tile of the
  /// operand transposed into a small buffer by the tiled transpose kernel.
  std::vector<std::vector<int>> input_axes;
  /// Rows [row_begin, row_end) along axis 0 of the output (row_end < 0: to the end); the result
  /// has row_end - row_begin rows. Ignored for a 0-d output. A reduction evaluates a big chunk
  /// window by window this way and never holds the whole evaluated chunk.
  std::int64_t row_begin = 0;
  std::int64_t row_end = -1;
  /// Columns [col_begin, col_end) along axis 1 (col_end < 0: to the end); ignored below 2-d.
  std::int64_t col_begin = 0;
  std::int64_t col_end = -1;
  /// The result (up to 4 MiB) may live in a buffer this thread reuses for the next such call
  /// once no handle to it is left: for short-lived, read-only results (a reduction's windows).
  /// Such a result cannot be written (mutable_bytes() throws: the buffer is shared).
  bool scratch_output = false;
};

/// evaluate() over permuted inputs and/or a window of output rows and columns (see
/// EvaluateView); returns the window only. Throws: as evaluate(); ShapeError if an axes list is
/// not a permutation of its input's axes or the window is out of range.
NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs,
                 const Shape& out_shape, const EvaluateView& view);
/// evaluate() with out_shape the broadcast of all input shapes.
NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs);

// ---- one-shot operations (each builds and evaluates a one-instruction program) -----------------
/// op(a). Throws: see result_dtype.
NDArray apply(UnaryOp op, const NDArray& a);
/// op(a, b) with broadcasting. Throws: ShapeError naming both shapes, DTypeError.
NDArray apply(BinaryOp op, const NDArray& a, const NDArray& b);
/// op(a, s) with a weakly typed scalar.
NDArray apply(BinaryOp op, const NDArray& a, Scalar s);
/// op(s, a) with a weakly typed scalar.
NDArray apply(BinaryOp op, Scalar s, const NDArray& a);
/// NumPy where(cond, a, b) with broadcasting of all three.
NDArray where(const NDArray& cond, const NDArray& a, const NDArray& b);
/// NumPy clip(a, lo, hi) with scalar bounds.
NDArray clip(const NDArray& a, Scalar lo, Scalar hi);
/// a cast to dtype (a copy unless dtype is a's dtype).
NDArray astype(const NDArray& a, DType dtype);

inline NDArray neg(const NDArray& a) { return apply(UnaryOp::neg, a); }
inline NDArray abs(const NDArray& a) { return apply(UnaryOp::abs, a); }
inline NDArray sqrt(const NDArray& a) { return apply(UnaryOp::sqrt, a); }
inline NDArray exp(const NDArray& a) { return apply(UnaryOp::exp, a); }
inline NDArray log(const NDArray& a) { return apply(UnaryOp::log, a); }
inline NDArray sin(const NDArray& a) { return apply(UnaryOp::sin, a); }
inline NDArray cos(const NDArray& a) { return apply(UnaryOp::cos, a); }
inline NDArray tanh(const NDArray& a) { return apply(UnaryOp::tanh, a); }
inline NDArray floor(const NDArray& a) { return apply(UnaryOp::floor, a); }
inline NDArray ceil(const NDArray& a) { return apply(UnaryOp::ceil, a); }
inline NDArray isnan(const NDArray& a) { return apply(UnaryOp::isnan, a); }
inline NDArray logical_not(const NDArray& a) { return apply(UnaryOp::logical_not, a); }
inline NDArray add(const NDArray& a, const NDArray& b) { return apply(BinaryOp::add, a, b); }
inline NDArray sub(const NDArray& a, const NDArray& b) { return apply(BinaryOp::sub, a, b); }
inline NDArray mul(const NDArray& a, const NDArray& b) { return apply(BinaryOp::mul, a, b); }
inline NDArray div(const NDArray& a, const NDArray& b) { return apply(BinaryOp::div, a, b); }
inline NDArray floordiv(const NDArray& a, const NDArray& b) { return apply(BinaryOp::floordiv, a, b); }
inline NDArray mod(const NDArray& a, const NDArray& b) { return apply(BinaryOp::mod, a, b); }
inline NDArray pow(const NDArray& a, const NDArray& b) { return apply(BinaryOp::pow, a, b); }
inline NDArray minimum(const NDArray& a, const NDArray& b) { return apply(BinaryOp::minimum, a, b); }
inline NDArray maximum(const NDArray& a, const NDArray& b) { return apply(BinaryOp::maximum, a, b); }

}  // namespace tessera
