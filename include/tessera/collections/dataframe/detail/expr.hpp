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
  lit_int,   // push int64 `i` (dtype: int64 or datetime)
  lit_float, // push float64 `f`
  lit_str,   // push the string `text`
  lit_bool,  // push bool `i`
  add, sub, mul, div, mod, neg,
  lt, le, gt, ge, eq, ne,
  logical_and, logical_or, logical_not,
  isna, notna, fillna,  // fillna: pops the value, then the column
};

struct ExprNode {
  Op op = Op::column;
  DType dtype = DType::float64;  // the node's result dtype
  std::string text;
  double f = 0;
  std::int64_t i = 0;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & op & dtype & text & f & i;
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

}  // namespace tessera::dataframe::detail
