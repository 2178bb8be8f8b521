#pragma once

// Internal: a column expression as a postfix program (serializable, so that it travels inside a
// task to any rank and hashes into the task's pure key), and its evaluation on a Table.

#include <tessera/collections/dataframe/table.hpp>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::dataframe::detail {

enum class Op : std::uint8_t {
  column,    // push the column `text`
  lit_int,   // push int64 `i` (dtype: int64, datetime or timedelta)
  lit_float, // push float64 `f`
  lit_str,   // push the string `text`
  lit_bool,  // push bool `i`
  add, sub, mul, div, mod, neg, abs,
  lt, le, gt, ge, eq, ne,
  logical_and, logical_or, logical_not,
  isna, notna, fillna,  // fillna: pops the value, then the column
  // Methods of one operand (expr_methods.cpp); parameters in text (a pattern), i and j.
  str_contains, str_startswith, str_endswith,  // text: a literal pattern -> bool
  str_lower, str_upper, str_strip, str_len,
  str_slice,  // code points [i, j), Python's rules for negative and missing (j = INT64_MAX) ends
  dt_year, dt_month, dt_day, dt_hour, dt_minute, dt_second, dt_dayofweek, dt_dayofyear,
  td_days, td_seconds, td_microseconds, td_nanoseconds, td_total_seconds,  // of timedelta64[ns]
  to_timedelta,  // int64/float64 times `i` ns per unit, or a string parsed; text: the unit
  cat_codes,     // a category's codes (int64, -1 for null)
  astype,     // to the node's dtype; text: the operand, for messages
  where,      // pops `other`, then the condition, then the values
};

/// True for the methods of one operand (str_contains .. astype).
constexpr bool is_method(Op op) noexcept { return op >= Op::str_contains && op <= Op::astype; }

struct ExprNode {
  Op op = Op::column;
  DType dtype = DType::float64;  // the node's result dtype
  std::string text;
  double f = 0;
  std::int64_t i = 0;
  std::int64_t j = 0;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & op & dtype & text & f & i & j;
  }
};

struct Expr {
  std::vector<ExprNode> nodes;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & nodes;
  }
  [[nodiscard]] DType dtype() const { return nodes.back().dtype; }
};

/// The result dtype of a binary operation, or throws TypeError naming `what` and the dtypes.
DType binary_dtype(Op op, DType a, DType b, const std::string& what);
/// Evaluates `e` on `t` (one column of t.num_rows() rows).
Column eval(const Expr& e, const Table& t);
/// Human-readable form for messages: "(DepDelay <= 0)".
std::string describe(const Expr& e);

/// Applies the method `n` (is_method(n.op)) to `a`; nulls stay null. Throws: TypeError naming
/// the operand (an astype node's text), the row and the value astype cannot convert.
Column apply_method(const ExprNode& n, Column a);
/// `a` where `cond` is true, else `other` (null where the condition is null), as n.dtype.
Column apply_where(const ExprNode& n, const Column& a, const Column& cond, const Column& other);
/// "Name.str.lower()", "Date.dt.year", "x.astype(float64)".
std::string describe_method(const ExprNode& n, const std::string& operand);
/// The dtype of `method` on an operand of dtype `t`, or throws TypeError naming `what`.
DType method_dtype(Op method, DType t, DType to, const std::string& what);

}  // namespace tessera::dataframe::detail
