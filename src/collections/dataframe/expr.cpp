// Column expressions: dtype rules (checked when built) and evaluation on a partition.
#include <tessera/collections/dataframe/detail/expr.hpp>

#include "collections/dataframe/categorical.hpp"

#include <cmath>
#include <sstream>

namespace tessera::dataframe::detail {
namespace {

bool int_like(DType t) { return t == DType::int64 || t == DType::boolean; }
bool number(DType t) { return t == DType::int64 || t == DType::float64 || t == DType::boolean; }

const char* op_symbol(Op op) {
  switch (op) {
    case Op::add: return "+";
    case Op::sub: return "-";
    case Op::mul: return "*";
    case Op::div: return "/";
    case Op::mod: return "%";
    case Op::lt: return "<";
    case Op::le: return "<=";
    case Op::gt: return ">";
    case Op::ge: return ">=";
    case Op::eq: return "==";
    case Op::ne: return "!=";
    case Op::logical_and: return "&&";
    case Op::logical_or: return "||";
    default: return "?";
  }
}

bool is_comparison(Op op) { return op >= Op::lt && op <= Op::ne; }

bool temporal(DType t) { return t == DType::datetime || t == DType::timedelta; }
bool plain_number(DType t) { return t == DType::int64 || t == DType::float64; }

/// pandas' arithmetic on datetime64[ns] and timedelta64[ns]; `fail` for the other pairs.
template <class Fail>
DType temporal_dtype(Op op, DType a, DType b, Fail fail) {
  const bool ta = a == DType::timedelta, tb = b == DType::timedelta;
  const bool da = a == DType::datetime, db = b == DType::datetime;
  switch (op) {
    case Op::add:
      if (ta && tb) return DType::timedelta;
      if ((da && tb) || (ta && db)) return DType::datetime;
      return fail();
    case Op::sub:
      if (da && db) return DType::timedelta;
      if (da && tb) return DType::datetime;
      if (ta && tb) return DType::timedelta;
      return fail();
    case Op::mul:
      if ((ta && plain_number(b)) || (plain_number(a) && tb)) return DType::timedelta;
      return fail();
    case Op::div:
      if (ta && tb) return DType::float64;
      if (ta && plain_number(b)) return DType::timedelta;
      return fail();
    default: return fail();
  }
}

}  // namespace

DType binary_dtype(Op op, DType a, DType b, const std::string& what) {
  auto fail = [&]() -> DType {
    TESSERA_THROW(TypeError, "unsupported operand dtypes for ", op_symbol(op), ": ", what, " (",
                  dtype_name(a), " ", op_symbol(op), " ", dtype_name(b), ")");
  };
  if (op == Op::logical_and || op == Op::logical_or) {
    return a == DType::boolean && b == DType::boolean ? DType::boolean : fail();
  }
  if (is_comparison(op) && (a == DType::category || b == DType::category)) {
    if (is_text(a) && is_text(b) && (op == Op::eq || op == Op::ne)) return DType::boolean;  // by string
    TESSERA_THROW(TypeError, "unsupported comparison ", op_symbol(op), ": ", what, " (", dtype_name(a), " ",
                  op_symbol(op), " ", dtype_name(b), "); a categorical (unordered, as pandas') compares "
                  "only with == and != against a string or another categorical");
  }
  if (is_comparison(op)) {
    if ((number(a) && number(b)) || a == b) return DType::boolean;
    return fail();
  }
  if (op == Op::add && a == DType::string && b == DType::string) return DType::string;
  if (temporal(a) || temporal(b)) return temporal_dtype(op, a, b, fail);
  if (!number(a) || !number(b)) return fail();
  if (op == Op::div) return DType::float64;
  return int_like(a) && int_like(b) ? DType::int64 : DType::float64;
}

namespace {

std::int64_t ival(const Column& c, std::size_t i) {
  return c.dtype == DType::boolean ? c.b8[i] : c.i64[i];
}

Column literal_column(const ExprNode& n, std::size_t rows) {
  Column c(n.dtype);
  c.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    switch (n.op) {
      case Op::lit_int: c.push_int(n.i); break;
      case Op::lit_float: c.push_float(n.f); break;
      case Op::lit_bool: c.push_bool(n.i != 0); break;
      default: c.push_str(n.text); break;
    }
  }
  return c;
}

void null_where_either(Column& out, const Column& a, const Column& b) {
  if (a.valid.empty() && b.valid.empty()) return;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (a.is_null(i) || b.is_null(i)) out.set_null(i);
  }
}

/// A double number of nanoseconds as numpy casts it (toward zero); null when not finite.
void push_ns(Column& out, double v) {
  if (std::isfinite(v) && std::fabs(v) < 9223372036854775808.0) out.push_int(static_cast<std::int64_t>(v));
  else out.push_null();
}

/// datetime/timedelta arithmetic (the pairs temporal_dtype accepts): sums and differences of
/// nanoseconds, a timedelta times or divided by a number, timedelta / timedelta as float64.
Column temporal_arithmetic(Op op, const Column& a, const Column& b, DType out_type) {
  const std::size_t n = a.size();
  Column out(out_type);
  out.reserve(n);
  const bool ints = a.dtype != DType::float64 && b.dtype != DType::float64;
  for (std::size_t i = 0; i < n; ++i) {
    if (a.is_null(i) || b.is_null(i)) {
      out.push_null();
      continue;
    }
    if (out_type == DType::float64) {  // timedelta / timedelta
      out.push_float(static_cast<double>(a.i64[i]) / static_cast<double>(b.i64[i]));
    } else if (op == Op::add || op == Op::sub) {
      out.push_int(op == Op::add ? a.i64[i] + b.i64[i] : a.i64[i] - b.i64[i]);
    } else if (op == Op::mul && ints) {
      out.push_int(a.i64[i] * b.i64[i]);
    } else if (op == Op::mul) {
      push_ns(out, a.as_double(i) * b.as_double(i));
    } else if (ints) {  // timedelta / int64: toward zero, NaT for 0 as pandas
      if (b.i64[i] == 0) out.push_null();
      else out.push_int(a.i64[i] / b.i64[i]);
    } else {
      push_ns(out, a.as_double(i) / b.as_double(i));
    }
  }
  return out;
}

Column arithmetic(Op op, const Column& a, const Column& b, DType out_type) {
  const std::size_t n = a.size();
  Column out(out_type);
  if (temporal(a.dtype) || temporal(b.dtype)) return temporal_arithmetic(op, a, b, out_type);
  if (out_type == DType::string) {
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(a.str(i));
      s.append(b.str(i));
      out.push_str(s);
    }
  } else if (out_type == DType::int64) {
    out.i64.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t x = ival(a, i), y = ival(b, i);
      std::int64_t v = 0;
      switch (op) {
        case Op::add: v = x + y; break;
        case Op::sub: v = x - y; break;
        case Op::mul: v = x * y; break;
        case Op::mod: v = y == 0 ? 0 : ((x % y) + y) % y; break;  // Python's sign rule
        default: break;
      }
      out.i64[i] = v;
    }
    null_where_either(out, a, b);
    if (op == Op::mod) {
      for (std::size_t i = 0; i < n; ++i) {
        if (ival(b, i) == 0) out.set_null(i);
      }
    }
    return out;
  } else {
    out.f64.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = a.as_double(i), y = b.as_double(i);
      double v = 0;
      switch (op) {
        case Op::add: v = x + y; break;
        case Op::sub: v = x - y; break;
        case Op::mul: v = x * y; break;
        case Op::div: v = x / y; break;
        case Op::mod: v = x - std::floor(x / y) * y; break;
        default: break;
      }
      out.f64[i] = v;
    }
  }
  null_where_either(out, a, b);
  return out;
}

template <class T>
bool compare(Op op, const T& x, const T& y) {
  switch (op) {
    case Op::lt: return x < y;
    case Op::le: return x <= y;
    case Op::gt: return x > y;
    case Op::ge: return x >= y;
    case Op::eq: return x == y;
    default: return x != y;
  }
}

Column comparison(Op op, const Column& a, const Column& b) {
  const std::size_t n = a.size();
  Column out(DType::boolean);
  out.b8.resize(n);
  const bool ints = (int_like(a.dtype) || temporal(a.dtype)) && (int_like(b.dtype) || temporal(b.dtype));
  for (std::size_t i = 0; i < n; ++i) {
    if (a.is_null(i) || b.is_null(i)) {
      out.b8[i] = op == Op::ne ? 1 : 0;
      continue;
    }
    bool v;
    if (is_text(a.dtype)) v = compare(op, a.text(i), b.text(i));  // category: by string, any categories
    else if (ints) v = compare(op, ival(a, i), ival(b, i));
    else v = compare(op, a.as_double(i), b.as_double(i));
    out.b8[i] = v ? 1 : 0;
  }
  return out;
}

Column logical(Op op, const Column& a, const Column& b) {
  const std::size_t n = a.size();
  Column out(DType::boolean);
  out.b8.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool x = !a.is_null(i) && a.b8[i];
    const bool y = !b.is_null(i) && b.b8[i];
    out.b8[i] = (op == Op::logical_and ? (x && y) : (x || y)) ? 1 : 0;
  }
  return out;
}

Column unary(Op op, Column a) {
  const std::size_t n = a.size();
  if (op == Op::isna || op == Op::notna) {
    Column out(DType::boolean);
    out.b8.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      bool na = a.is_null(i) || (a.dtype == DType::float64 && std::isnan(a.f64[i]));
      out.b8[i] = (op == Op::isna) == na ? 1 : 0;
    }
    return out;
  }
  if (op == Op::logical_not) {
    for (auto& b : a.b8) b = b ? 0 : 1;
    return a;
  }
  // neg or abs
  if (a.dtype == DType::float64) {
    for (auto& v : a.f64) v = op == Op::abs ? std::fabs(v) : -v;
  } else if (a.dtype == DType::int64 || a.dtype == DType::timedelta) {
    for (auto& v : a.i64) v = op == Op::abs && v >= 0 ? v : -v;
  }
  return a;
}

Column fill(Column a, const Column& value, DType out_type) {
  const std::size_t n = a.size();
  if (out_type == DType::category) return n == 0 ? a : fill_categorical(a, value.str(0));
  if (out_type == DType::float64 && a.dtype != DType::float64) {
    Column f(DType::float64);
    f.f64.resize(n);
    for (std::size_t i = 0; i < n; ++i) f.f64[i] = a.as_double(i);
    f.valid = a.valid;
    a = std::move(f);
  }
  Column out(out_type);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool na = a.is_null(i) || (a.dtype == DType::float64 && std::isnan(a.f64[i]));
    const Column& src = na ? value : a;
    switch (out_type) {
      case DType::int64:
      case DType::datetime:
      case DType::timedelta: out.push_int(ival(src, i)); break;
      case DType::float64: out.push_float(src.as_double(i)); break;
      case DType::boolean: out.push_bool(src.b8[i] != 0); break;
      case DType::string: out.push_str(src.str(i)); break;
      case DType::category: break;  // fill_categorical above
    }
  }
  return out;
}

}  // namespace

Column eval(const Expr& e, const Table& t) {
  std::vector<Column> stack;
  const std::size_t rows = t.num_rows();
  for (const auto& n : e.nodes) {
    switch (n.op) {
      case Op::column: stack.push_back(t.column(n.text)); break;
      case Op::lit_int:
      case Op::lit_float:
      case Op::lit_str:
      case Op::lit_bool: stack.push_back(literal_column(n, rows)); break;
      case Op::neg:
      case Op::abs:
      case Op::logical_not:
      case Op::isna:
      case Op::notna: stack.back() = unary(n.op, std::move(stack.back())); break;
      case Op::where: {
        if (stack.size() < 3) TESSERA_THROW(GraphError, "malformed column expression");
        const Column other = std::move(stack.back());
        stack.pop_back();
        const Column cond = std::move(stack.back());
        stack.pop_back();
        stack.back() = apply_where(n, stack.back(), cond, other);
        break;
      }
      default: {
        if (is_method(n.op)) {
          if (stack.empty()) TESSERA_THROW(GraphError, "malformed column expression");
          stack.back() = apply_method(n, std::move(stack.back()));
          break;
        }
        if (stack.size() < 2) TESSERA_THROW(GraphError, "malformed column expression");
        Column b = std::move(stack.back());
        stack.pop_back();
        Column a = std::move(stack.back());
        Column r;
        if (n.op == Op::fillna) r = fill(std::move(a), b, n.dtype);
        else if (is_comparison(n.op)) r = comparison(n.op, a, b);
        else if (n.op == Op::logical_and || n.op == Op::logical_or) r = logical(n.op, a, b);
        else r = arithmetic(n.op, a, b, n.dtype);
        stack.back() = std::move(r);
      }
    }
  }
  if (stack.size() != 1) TESSERA_THROW(GraphError, "malformed column expression");
  return std::move(stack.back());
}

std::string describe(const Expr& e) {
  std::vector<std::string> stack;
  for (const auto& n : e.nodes) {
    std::ostringstream os;
    switch (n.op) {
      case Op::column: os << n.text; break;
      case Op::lit_int: os << n.i; break;
      case Op::lit_float: os << n.f; break;
      case Op::lit_bool: os << (n.i ? "true" : "false"); break;
      case Op::lit_str: os << "'" << n.text << "'"; break;
      case Op::neg: os << "-" << stack.back(); break;
      case Op::abs: os << "abs(" << stack.back() << ")"; break;
      case Op::logical_not: os << "!" << stack.back(); break;
      case Op::isna: os << stack.back() << ".isna()"; break;
      case Op::notna: os << stack.back() << ".notna()"; break;
      default: break;
    }
    const bool unary_op = n.op == Op::neg || n.op == Op::abs || n.op == Op::logical_not || n.op == Op::isna || n.op == Op::notna;
    const bool leaf = n.op <= Op::lit_bool;
    if (is_method(n.op)) stack.back() = describe_method(n, stack.back());
    else if (n.op == Op::where) {
      const std::string other = stack.back();
      stack.pop_back();
      const std::string cond = stack.back();
      stack.pop_back();
      stack.back() = stack.back() + ".where(" + cond + (n.i != 0 ? std::string() : ", " + other) + ")";
    } else if (unary_op) stack.back() = os.str();
    else if (leaf) stack.push_back(os.str());
    else {
      const std::string b = stack.back();
      stack.pop_back();
      if (n.op == Op::fillna) stack.back() = stack.back() + ".fillna(" + b + ")";
      else stack.back() = "(" + stack.back() + " " + op_symbol(n.op) + " " + b + ")";
    }
  }
  return stack.empty() ? std::string() : stack.back();
}

}  // namespace tessera::dataframe::detail
