// ElementwiseProgram: building, fusing, casting, remapping and naming elementwise expressions.
#include "collections/array/elementwise_rules.hpp"
#include <tessera/core/hash.hpp>

#include <collections/array/kernel_util.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <type_traits>

namespace tessera {

using namespace elementwise_rules;

// ---------------------------------------------------------------------------------------------
// program construction

using Op = ElementwiseProgram::OpCode;
using Ins = ElementwiseProgram::Instruction;

ElementwiseProgram::ElementwiseProgram() {
  Ins ins;
  ins.code = Op::scalar_float;
  ins.dtype = DType::float64;
  m_code.push_back(ins);
}

int ElementwiseProgram::append(const Ins& ins) {
  for (std::size_t i = 0; i < m_code.size(); ++i) {
    if (m_code[i] == ins) return static_cast<int>(i);
  }
  m_code.push_back(ins);
  return static_cast<int>(m_code.size() - 1);
}

void ElementwiseProgram::use_input(int k, DType dtype) {
  const auto slot = static_cast<std::size_t>(k);
  if (slot >= m_inputs.size()) {
    m_inputs.resize(slot + 1, DType::float64);
    m_used.resize(slot + 1, false);
  }
  if (m_used[slot] && m_inputs[slot] != dtype) {
    TESSERA_THROW(DTypeError, "ElementwiseProgram: input slot ", k, " used as ",
                  dtype_name(m_inputs[slot]), " and as ", dtype_name(dtype));
  }
  m_inputs[slot] = dtype;
  m_used[slot] = true;
}

int ElementwiseProgram::merge(const ElementwiseProgram& other) {
  std::vector<int> map(other.m_code.size());
  for (std::size_t i = 0; i < other.m_code.size(); ++i) {
    Ins ins = other.m_code[i];
    if (ins.code == Op::input) use_input(static_cast<int>(ins.ivalue), ins.dtype);
    if (ins.a >= 0) ins.a = map[static_cast<std::size_t>(ins.a)];
    if (ins.b >= 0) ins.b = map[static_cast<std::size_t>(ins.b)];
    if (ins.c >= 0) ins.c = map[static_cast<std::size_t>(ins.c)];
    map[i] = append(ins);
  }
  return map.back();
}

int ElementwiseProgram::cast_to(int index, DType dtype) {
  const Ins& src = m_code[static_cast<std::size_t>(index)];
  if (src.dtype == dtype) return index;
  Ins ins;
  if (src.code == Op::scalar_float || src.code == Op::scalar_int) {
    ins = src;  // constants are materialized in their instruction dtype
    ins.dtype = dtype;
    return append(ins);
  }
  ins.code = Op::astype;
  ins.dtype = dtype;
  ins.a = index;
  return append(ins);
}

void ElementwiseProgram::rebuild_used() {
  m_used.assign(m_inputs.size(), false);
  for (const Ins& ins : m_code) {
    if (ins.code == Op::input && static_cast<std::size_t>(ins.ivalue) < m_used.size()) {
      m_used[static_cast<std::size_t>(ins.ivalue)] = true;
    }
  }
}

bool ElementwiseProgram::is_weak_scalar() const noexcept {
  const Ins& r = m_code.back();
  return (r.code == Op::scalar_float && r.dtype == DType::float64) ||
         (r.code == Op::scalar_int && r.dtype == DType::int64);
}

ElementwiseProgram ElementwiseProgram::input(int k, DType dtype) {
  if (k < 0) TESSERA_THROW(ShapeError, "ElementwiseProgram::input: negative slot ", k);
  ElementwiseProgram p;
  p.m_code.clear();
  Ins ins;
  ins.code = Op::input;
  ins.dtype = dtype;
  ins.ivalue = k;
  p.use_input(k, dtype);
  p.m_code.push_back(ins);
  return p;
}

ElementwiseProgram ElementwiseProgram::scalar(Scalar value) {
  ElementwiseProgram p;
  p.m_code.clear();
  Ins ins;
  if (value.is_float) {
    ins.code = Op::scalar_float;
    ins.dtype = DType::float64;
    ins.fvalue = value.f;
  } else {
    ins.code = Op::scalar_int;
    ins.dtype = DType::int64;
    ins.ivalue = value.i;
  }
  p.m_code.push_back(ins);
  return p;
}

ElementwiseProgram ElementwiseProgram::unary(UnaryOp op, const ElementwiseProgram& p) {
  ElementwiseProgram out = p;
  const DType operand = unary_operand_dtype(op, p.dtype());
  const int a = out.cast_to(static_cast<int>(out.m_code.size()) - 1, operand);
  Ins ins;
  ins.code = Op::unary;
  ins.op = static_cast<std::uint8_t>(op);
  ins.dtype = result_dtype(op, p.dtype());
  ins.a = a;
  out.append(ins);
  if (out.m_code.back() != ins) out.m_code.push_back(ins);  // the root is always last
  return out;
}

namespace {
// NumPy's promotion between two operands, honouring weakly typed scalars.
DType operand_common(const ElementwiseProgram& a, const ElementwiseProgram& b) {
  const bool wa = a.is_weak_scalar();
  const bool wb = b.is_weak_scalar();
  if (wb && !wa) return promote_with_scalar(a.dtype(), b.dtype() == DType::float64);
  if (wa && !wb) return promote_with_scalar(b.dtype(), a.dtype() == DType::float64);
  return promote(a.dtype(), b.dtype());
}

// The value of a weakly typed integer scalar program.
std::optional<std::int64_t> weak_int(const ElementwiseProgram& p) {
  if (!p.is_weak_scalar() || p.instructions().back().code != Op::scalar_int) return std::nullopt;
  return p.instructions().back().ivalue;
}

std::int64_t lowest_of(DType t) {
  return t == DType::uint8 ? 0 : t == DType::int32 ? std::numeric_limits<std::int32_t>::min()
                                                   : std::numeric_limits<std::int64_t>::min();
}
std::int64_t highest_of(DType t) {
  return t == DType::uint8 ? 255 : t == DType::int32 ? std::numeric_limits<std::int32_t>::max()
                                                     : std::numeric_limits<std::int64_t>::max();
}

// True if the integer v is a value of dtype t (every int64 is a value of the floating dtypes,
// rounded; bool never takes an integer scalar: bool with an int promotes to int64).
bool fits(std::int64_t v, DType t) {
  if (!is_integer(t)) return true;
  return v >= lowest_of(t) && v <= highest_of(t);
}

// NEP 50 (NumPy 2): a Python-style integer scalar takes the dtype the operation computes in.
// If it is not a value of that dtype the operation is an error (NumPy's OverflowError), except
// for comparisons, which give the mathematically right answer (they compare in int64).
// Returns the operand dtype to use.
DType nep50_operand(std::string_view what, const ElementwiseProgram& a, const ElementwiseProgram& b,
                    DType operand, bool comparison) {
  std::optional<std::int64_t> v;
  if (!b.is_weak_scalar() || !a.is_weak_scalar()) v = a.is_weak_scalar() ? weak_int(a) : weak_int(b);
  if (!v || fits(*v, operand)) return operand;
  if (comparison) return DType::int64;
  TESSERA_THROW(DTypeError, what, ": Python integer ", *v, " out of bounds for ", dtype_name(operand),
                " (NEP 50: an integer scalar takes the array's dtype; cast the array first, e.g. "
                "astype(int64))");
}
}  // namespace

ElementwiseProgram ElementwiseProgram::binary(BinaryOp op, const ElementwiseProgram& p1,
                                              const ElementwiseProgram& p2) {
  const DType common = operand_common(p1, p2);
  const DType operand = nep50_operand(op_name(op), p1, p2, binary_operand_dtype(op, common), is_comparison(op));
  ElementwiseProgram out;
  out.m_code.clear();
  int a = out.merge(p1);
  int b = out.merge(p2);
  a = out.cast_to(a, operand);
  b = out.cast_to(b, operand);
  Ins ins;
  ins.code = Op::binary;
  ins.op = static_cast<std::uint8_t>(op);
  ins.dtype = is_comparison(op) ? DType::bool_ : operand;
  ins.a = a;
  ins.b = b;
  out.append(ins);
  if (out.m_code.back() != ins) out.m_code.push_back(ins);
  return out;
}

ElementwiseProgram ElementwiseProgram::where(const ElementwiseProgram& cond,
                                             const ElementwiseProgram& a,
                                             const ElementwiseProgram& b) {
  const DType common = nep50_operand("where", a, b, operand_common(a, b), false);
  ElementwiseProgram out;
  out.m_code.clear();
  int c = out.merge(cond);
  int x = out.merge(a);
  int y = out.merge(b);
  c = out.cast_to(c, DType::bool_);
  x = out.cast_to(x, common);
  y = out.cast_to(y, common);
  Ins ins;
  ins.code = Op::where;
  ins.dtype = common;
  ins.a = c;
  ins.b = x;
  ins.c = y;
  out.append(ins);
  if (out.m_code.back() != ins) out.m_code.push_back(ins);
  return out;
}

ElementwiseProgram ElementwiseProgram::astype(const ElementwiseProgram& p, DType dtype) {
  ElementwiseProgram out = p;
  if (p.dtype() == dtype && !p.is_weak_scalar()) return out;
  Ins ins;
  ins.code = Op::astype;
  ins.dtype = dtype;
  ins.a = static_cast<int>(out.m_code.size()) - 1;
  out.append(ins);
  if (out.m_code.back() != ins) out.m_code.push_back(ins);
  return out;
}

ElementwiseProgram ElementwiseProgram::clip(const ElementwiseProgram& p,
                                            const ElementwiseProgram& lo,
                                            const ElementwiseProgram& hi) {
  // An integer bound outside an integer array's dtype clips nothing on that side (NumPy >= 2.1:
  // clip(u8, -5, 300) is u8): it is saturated to the dtype's range.
  const auto bound = [&](const ElementwiseProgram& b) {
    const auto v = weak_int(b);
    if (!v || p.is_weak_scalar() || !is_integer(p.dtype()) || fits(*v, p.dtype())) return b;
    return scalar(Scalar(std::clamp(*v, lowest_of(p.dtype()), highest_of(p.dtype()))));
  };
  return binary(BinaryOp::minimum, binary(BinaryOp::maximum, p, bound(lo)), bound(hi));
}

ElementwiseProgram ElementwiseProgram::remap_inputs(const std::vector<int>& new_slots) const {
  if (new_slots.size() < m_inputs.size()) {
    TESSERA_THROW(ShapeError, "ElementwiseProgram::remap_inputs: ", new_slots.size(),
                  " new slots for ", m_inputs.size(), " inputs");
  }
  ElementwiseProgram out;
  out.m_code.clear();
  for (Ins ins : m_code) {
    if (ins.code == Op::input) {
      ins.ivalue = new_slots[static_cast<std::size_t>(ins.ivalue)];
      out.use_input(static_cast<int>(ins.ivalue), ins.dtype);
    }
    out.m_code.push_back(ins);
  }
  return out;
}

namespace {
void describe_rec(const std::vector<Ins>& code, int i, std::ostream& os) {
  const Ins& ins = code[static_cast<std::size_t>(i)];
  switch (ins.code) {
    case Op::input: os << 'x' << ins.ivalue << ':' << dtype_name(ins.dtype); return;
    case Op::scalar_float: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", ins.fvalue);
      os << buf;
      if (ins.dtype != DType::float64) os << ':' << dtype_name(ins.dtype);
      return;
    }
    case Op::scalar_int:
      os << ins.ivalue;
      if (ins.dtype != DType::int64) os << ':' << dtype_name(ins.dtype);
      return;
    case Op::unary:
      os << op_name(static_cast<UnaryOp>(ins.op)) << '(';
      describe_rec(code, ins.a, os);
      os << ')';
      return;
    case Op::binary:
      os << op_name(static_cast<BinaryOp>(ins.op)) << '(';
      describe_rec(code, ins.a, os);
      os << ", ";
      describe_rec(code, ins.b, os);
      os << ')';
      return;
    case Op::where:
      os << "where(";
      describe_rec(code, ins.a, os);
      os << ", ";
      describe_rec(code, ins.b, os);
      os << ", ";
      describe_rec(code, ins.c, os);
      os << ')';
      return;
    case Op::astype:
      os << "astype(";
      describe_rec(code, ins.a, os);
      os << ", " << dtype_name(ins.dtype) << ')';
      return;
  }
}

void names_rec(const std::vector<Ins>& code, int i, std::vector<std::string>& out) {
  const Ins& ins = code[static_cast<std::size_t>(i)];
  std::string n;
  if (ins.code == Op::unary) n = op_name(static_cast<UnaryOp>(ins.op));
  if (ins.code == Op::binary) n = op_name(static_cast<BinaryOp>(ins.op));
  if (ins.code == Op::where) n = "where";
  if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  for (int k : {ins.a, ins.b, ins.c}) {
    if (k >= 0) names_rec(code, k, out);
  }
}
}  // namespace

std::string ElementwiseProgram::describe() const {
  std::ostringstream os;
  describe_rec(m_code, static_cast<int>(m_code.size()) - 1, os);
  return os.str();
}

std::uint64_t ElementwiseProgram::hash() const {
  Hasher h;
  h.str(describe());
  return h.digest();
}

std::string ElementwiseProgram::token() const { return to_hex(hash()); }

std::string ElementwiseProgram::name() const {
  std::vector<std::string> names;
  names_rec(m_code, static_cast<int>(m_code.size()) - 1, names);
  if (names.empty()) return m_code.back().code == Op::astype ? "astype" : "identity";
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : "-") + n;
  return s;
}

}  // namespace tessera
