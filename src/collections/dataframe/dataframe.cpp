// DataFrame and Series: building the per-partition tasks of selection, filtering, assign,
// head/tail and column expressions.
#include <tessera/collections/dataframe/dataframe.hpp>

#include <sstream>

namespace tessera::dataframe {

using detail::Expr;
using detail::ExprNode;
using detail::Op;

// ---- schema ---------------------------------------------------------------------------------

namespace {
std::string list_columns(const std::vector<Field>& fs) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < fs.size(); ++i) os << (i ? ", " : "") << "'" << fs[i].name << "'";
  os << "]";
  return os.str();
}
}  // namespace

std::size_t Schema::find(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  TESSERA_THROW(ColumnError, "no column '", name, "'; the columns are ", list_columns(columns));
}

bool Schema::contains(std::string_view name) const noexcept {
  for (const auto& f : columns) {
    if (f.name == name) return true;
  }
  return false;
}

std::vector<std::string> Schema::column_names() const {
  std::vector<std::string> out;
  for (const auto& f : columns) out.push_back(f.name);
  return out;
}

Table empty_table(const Schema& s) {
  Table t;
  std::vector<std::string> names;
  std::vector<Column> cols;
  for (const auto& f : s.index) {
    names.push_back(f.name);
    cols.emplace_back(f.dtype);
  }
  t.set_index(std::move(names), std::move(cols));
  for (const auto& f : s.columns) t.add_column(f.name, Column(f.dtype));
  return t;
}

Schema schema_of(const Table& t) {
  Schema s;
  for (std::size_t i = 0; i < t.num_columns(); ++i) s.columns.push_back({t.column_names()[i], t.column(i).dtype});
  for (std::size_t i = 0; i < t.index_columns().size(); ++i) {
    s.index.push_back({t.index_names()[i], t.index_columns()[i].dtype});
  }
  return s;
}

// ---- partition tasks ------------------------------------------------------------------------

namespace {

std::vector<std::uint32_t> true_rows(const Column& mask) {
  std::vector<std::uint32_t> rows;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask.b8[i] && !mask.is_null(i)) rows.push_back(static_cast<std::uint32_t>(i));
  }
  return rows;
}

Table filter_part(const Table& t, const Expr& mask) {
  const Column m = detail::eval(mask, t);
  const auto rows = true_rows(m);
  return t.take(rows);
}

Table project_part(const Table& t, const std::vector<std::string>& cols) {
  Table out;
  out.set_index(t.index_names(), t.index_columns());
  for (const auto& c : cols) out.add_column(c, t.column(c));
  return out;
}

Table assign_part(const Table& t, const Expr& e, const std::string& name) {
  Table out = t;
  out.add_column(name, detail::eval(e, t));
  return out;
}

/// assign of a Series of another DataFrame with the same rows: evaluated on its partition.
Table assign_from(const Table& t, const Table& src, const Expr& e, const std::string& name) {
  Table out = t;
  out.add_column(name, detail::eval(e, src));
  return out;
}

Table filter_from(const Table& t, const Table& src, const Expr& mask) {
  return t.take(true_rows(detail::eval(mask, src)));
}

Table series_part(const Table& t, const Expr& e, const std::string& name) {
  Table out;
  out.set_index(t.index_names(), t.index_columns());
  out.add_column(name, detail::eval(e, t));
  return out;
}

Table head_parts(const std::vector<Table>& parts, std::int64_t n) {
  std::vector<Table> kept;
  std::int64_t have = 0;
  for (const auto& p : parts) {
    if (have >= n) break;
    kept.push_back(p.slice(0, static_cast<std::size_t>(n - have)));
    have += static_cast<std::int64_t>(kept.back().num_rows());
  }
  if (kept.empty() && !parts.empty()) return parts[0].slice(0, 0);
  return Table::concat(kept);
}

/// The first n rows of acc then next (an ordered frame's head, one partition at a time).
Table head_more(const Table& acc, const Table& next, std::int64_t n) {
  if (static_cast<std::int64_t>(acc.num_rows()) >= n) return acc;
  return head_parts({acc, next}, n);
}

Table tail_part(const Table& t, std::int64_t n) {
  const std::size_t rows = t.num_rows();
  const std::size_t k = std::min<std::size_t>(rows, static_cast<std::size_t>(n));
  return t.slice(rows - k, rows);
}

std::int64_t length_part(const Table& t) { return static_cast<std::int64_t>(t.num_rows()); }
std::int64_t sum_lengths(const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

bool same_partitions(const DataFrame& a, const DataFrame& b) {
  if (a.npartitions() != b.npartitions()) return false;
  for (std::size_t i = 0; i < a.npartitions(); ++i) {
    if (a.partitions()[i].key() != b.partitions()[i].key()) return false;
  }
  return true;
}

void require_same(const DataFrame& a, const DataFrame& b, const char* what) {
  if (!same_partitions(a, b)) {
    TESSERA_THROW(GraphError, what, ": the Series belong to different DataFrames (combining "
                  "DataFrames by index alignment waits for the shuffle)");
  }
}

/// a and b have the same rows (b is a or derived from it by assign / column selection).
void require_same_rows(const DataFrame& a, const DataFrame& b, const char* what) {
  if (a.row_keys() != b.row_keys()) {
    TESSERA_THROW(GraphError, what, ": the Series belongs to another DataFrame (combining "
                  "DataFrames by index alignment waits for the shuffle)");
  }
}

}  // namespace

// ---- DataFrame ------------------------------------------------------------------------------

DataFrame::DataFrame(Schema schema, std::vector<Delayed<Table>> partitions)
    : m_schema(std::move(schema)), m_parts(std::move(partitions)) {
  if (m_parts.empty()) TESSERA_THROW(GraphError, "a DataFrame needs at least one partition");
  for (const auto& p : m_parts) m_row_keys.push_back(p.key());
}

Series DataFrame::operator[](std::string_view column) const {
  const DType t = m_schema.dtype(column);
  Expr e;
  e.nodes.push_back(ExprNode{Op::column, t, std::string(column), 0, 0});
  return Series(*this, std::move(e), std::string(column));
}

DataFrame DataFrame::operator[](std::initializer_list<std::string> columns) const {
  return (*this)[std::vector<std::string>(columns)];
}

DataFrame DataFrame::operator[](const std::vector<std::string>& columns) const {
  Schema s;
  s.index = m_schema.index;
  for (const auto& c : columns) s.columns.push_back(m_schema.columns[m_schema.find(c)]);
  auto fn = delayed(project_part, {.name = "getitem", .pure = true});
  std::vector<Delayed<Table>> out;
  for (const auto& p : m_parts) out.push_back(fn(p, columns));
  return keeping_rows(DataFrame(std::move(s), std::move(out)));
}

DataFrame DataFrame::operator[](const Series& mask) const {
  if (mask.dtype() != DType::boolean) {
    TESSERA_THROW(TypeError, "a filter needs a bool Series; ", detail::describe(mask.expr()), " is ",
                  dtype_name(mask.dtype()));
  }
  require_same_rows(*this, mask.frame(), "filter");
  std::vector<Delayed<Table>> out;
  if (same_partitions(*this, mask.frame())) {
    auto fn = delayed(filter_part, {.name = "filter", .pure = true});
    for (const auto& p : m_parts) out.push_back(fn(p, mask.expr()));
  } else {
    auto fn = delayed(filter_from, {.name = "filter", .pure = true});
    for (std::size_t i = 0; i < m_parts.size(); ++i) {
      out.push_back(fn(m_parts[i], mask.frame().partitions()[i], mask.expr()));
    }
  }
  return keeping_order(DataFrame(m_schema, std::move(out)));
}

DataFrame DataFrame::head(std::int64_t n, int npartitions) const {
  const std::size_t k = npartitions < 0 ? m_parts.size()
                                        : std::min<std::size_t>(m_parts.size(), static_cast<std::size_t>(std::max(1, npartitions)));
  std::vector<Delayed<Table>> first(m_parts.begin(), m_parts.begin() + static_cast<std::ptrdiff_t>(k));
  auto fn = delayed(head_parts, {.name = "head", .pure = true});
  Delayed<Table> out = fn(first, n);
  if (m_ordered && npartitions >= 0) {  // sorted: the global first n, from as many as it takes
    auto more = delayed(head_more, {.name = "head", .pure = true});
    for (std::size_t i = k; i < m_parts.size(); ++i) out = more(out, m_parts[i], n);
  }
  return DataFrame(m_schema, {out});
}

DataFrame DataFrame::tail(std::int64_t n) const {
  auto fn = delayed(tail_part, {.name = "tail", .pure = true});
  return DataFrame(m_schema, {fn(m_parts.back(), n)});
}

DataFrame DataFrame::assign(std::string column, const Series& values) const {
  require_same_rows(*this, values.frame(), "assign");
  Schema s = m_schema;
  if (s.contains(column)) s.columns[s.find(column)].dtype = values.dtype();
  else s.columns.push_back({column, values.dtype()});
  std::vector<Delayed<Table>> out;
  if (same_partitions(*this, values.frame())) {
    auto fn = delayed(assign_part, {.name = "assign", .pure = true});
    for (const auto& p : m_parts) out.push_back(fn(p, values.expr(), column));
  } else {
    auto fn = delayed(assign_from, {.name = "assign", .pure = true});
    for (std::size_t i = 0; i < m_parts.size(); ++i) {
      out.push_back(fn(m_parts[i], values.frame().partitions()[i], values.expr(), column));
    }
  }
  return keeping_rows(DataFrame(std::move(s), std::move(out)));
}

DataFrame DataFrame::assign(std::string column, const Scalar& value) const {
  Expr e;
  e.nodes.push_back(value.node);
  return assign(std::move(column), Series(*this, std::move(e), column));
}

GroupBy DataFrame::groupby(std::string_view key, const GroupByOptions& options) const {
  return GroupBy(*this, {std::string(key)}, {}, options);
}
GroupBy DataFrame::groupby(std::initializer_list<std::string> keys, const GroupByOptions& options) const {
  return GroupBy(*this, std::vector<std::string>(keys), {}, options);
}
GroupBy DataFrame::groupby(const std::vector<std::string>& keys, const GroupByOptions& options) const {
  return GroupBy(*this, keys, {}, options);
}

Delayed<std::int64_t> DataFrame::length() const {
  auto part = delayed(length_part, {.name = "len-partial", .pure = true});
  auto total = delayed(sum_lengths, {.name = "len-aggregate", .pure = true});
  std::vector<Delayed<std::int64_t>> lens;
  for (const auto& p : m_parts) lens.push_back(part(p));
  return total(lens);
}

// ---- Scalar and Series ----------------------------------------------------------------------

Scalar::Scalar(int v) : node{Op::lit_int, DType::int64, {}, 0, v} {}
Scalar::Scalar(std::int64_t v) : node{Op::lit_int, DType::int64, {}, 0, v} {}
Scalar::Scalar(double v) : node{Op::lit_float, DType::float64, {}, v, 0} {}
Scalar::Scalar(bool v) : node{Op::lit_bool, DType::boolean, {}, 0, v ? 1 : 0} {}
Scalar::Scalar(const char* v) : node{Op::lit_str, DType::string, v, 0, 0} {}
Scalar::Scalar(std::string v) : node{Op::lit_str, DType::string, std::move(v), 0, 0} {}
Scalar::Scalar(Timedelta v) : node{Op::lit_int, DType::timedelta, {}, 0, v.ns} {}

Series::Series(DataFrame frame, Expr expr, std::string name)
    : m_frame(std::move(frame)), m_expr(std::move(expr)), m_name(std::move(name)) {}

Series Series::rename(std::string name) const { return Series(m_frame, m_expr, std::move(name)); }

namespace {

Series unary_series(const Series& a, Op op, DType out) {
  Expr e = a.expr();
  e.nodes.push_back(ExprNode{op, out, {}, 0, 0});
  return Series(a.frame(), std::move(e), a.name());
}

/// A string literal next to a datetime (timedelta) operand becomes a datetime (timedelta) literal.
ExprNode coerce_literal(ExprNode lit, DType other, const std::string& what) {
  if (lit.op == Op::lit_str && other == DType::timedelta) {
    std::int64_t ns = 0;
    if (!parse_timedelta(lit.text, ns)) {
      TESSERA_THROW(TypeError, what, ": '", lit.text, "' is not a duration ('1 days 02:03:04', '02:03:04', '90min')");
    }
    return ExprNode{Op::lit_int, DType::timedelta, {}, 0, ns};
  }
  if (lit.op == Op::lit_str && other == DType::datetime) {
    std::int64_t ns = 0;
    if (!parse_datetime(lit.text, ns)) {
      TESSERA_THROW(TypeError, what, ": '", lit.text, "' is not a date (YYYY-MM-DD[ HH:MM:SS])");
    }
    return ExprNode{Op::lit_int, DType::datetime, {}, 0, ns};
  }
  return lit;
}

Series combine(const Series& a, const Series& b, Op op) {
  require_same(a.frame(), b.frame(), detail::describe(a.expr()).c_str());
  const std::string what = detail::describe(a.expr()) + " and " + detail::describe(b.expr());
  const DType t = detail::binary_dtype(op, a.dtype(), b.dtype(), what);
  Expr e = a.expr();
  e.nodes.insert(e.nodes.end(), b.expr().nodes.begin(), b.expr().nodes.end());
  e.nodes.push_back(ExprNode{op, t, {}, 0, 0});
  return Series(a.frame(), std::move(e), a.name());
}

Series with_scalar(const Series& a, const Scalar& s, Op op, bool scalar_first) {
  const std::string what = detail::describe(a.expr());
  const ExprNode lit = coerce_literal(s.node, a.dtype(), what);
  Expr le;
  le.nodes.push_back(lit);
  const Series ls(a.frame(), std::move(le), a.name());
  return scalar_first ? combine(ls, a, op) : combine(a, ls, op);
}

}  // namespace

Series Series::isna() const { return unary_series(*this, Op::isna, DType::boolean); }
Series Series::notna() const { return unary_series(*this, Op::notna, DType::boolean); }

Series Series::fillna(const Scalar& value) const {
  const ExprNode lit = coerce_literal(value.node, dtype(), detail::describe(m_expr));
  DType out = dtype();
  const bool num_ok = is_numeric(dtype()) && dtype() != DType::datetime && dtype() != DType::timedelta &&
                      dtype() != DType::boolean &&
                      (lit.dtype == DType::int64 || lit.dtype == DType::float64);
  if (num_ok && lit.op == Op::lit_float) out = DType::float64;
  const bool category_ok = dtype() == DType::category && lit.op == Op::lit_str;  // joins the categories
  if (!num_ok && !category_ok && lit.dtype != dtype()) {
    TESSERA_THROW(TypeError, "fillna: ", detail::describe(m_expr), " is ", dtype_name(dtype()),
                  ", the value is ", dtype_name(lit.dtype));
  }
  Expr e = m_expr;
  e.nodes.push_back(lit);
  e.nodes.push_back(ExprNode{Op::fillna, out, {}, 0, 0});
  return Series(m_frame, std::move(e), m_name);
}

Series Series::astype(DType to) const {
  const std::string what = detail::describe(m_expr);
  const DType out = detail::method_dtype(Op::astype, dtype(), to, what);
  Expr e = m_expr;
  e.nodes.push_back(ExprNode{Op::astype, out, what, 0, 0});
  return Series(m_frame, std::move(e), m_name);
}

namespace {

/// values.where(cond, other): the program values, cond, other, where (no_other: null instead).
Series where_series(const Series& values, const Series& cond, ExprNode other, bool no_other) {
  require_same(values.frame(), cond.frame(), "where");
  const std::string what = detail::describe(values.expr());
  if (cond.dtype() != DType::boolean) {
    TESSERA_THROW(TypeError, "where: the condition ", detail::describe(cond.expr()), " is ",
                  dtype_name(cond.dtype()), ", not bool");
  }
  DType out = values.dtype();
  if (!no_other) {
    other = coerce_literal(std::move(other), out, what);
    const bool widen = out == DType::int64 && other.op == Op::lit_float;
    const bool int_into_float = out == DType::float64 && other.op == Op::lit_int && other.dtype == DType::int64;
    if (widen) out = DType::float64;
    else if (!int_into_float && other.dtype != out) {
      TESSERA_THROW(TypeError, "where: ", what, " is ", dtype_name(out), ", other is ", dtype_name(other.dtype));
    }
  }
  Expr e = values.expr();
  e.nodes.insert(e.nodes.end(), cond.expr().nodes.begin(), cond.expr().nodes.end());
  e.nodes.push_back(other);
  e.nodes.push_back(ExprNode{Op::where, out, {}, 0, no_other ? 1 : 0});
  return Series(values.frame(), std::move(e), values.name());
}

}  // namespace

Series Series::where(const Series& cond) const {
  return where_series(*this, cond, ExprNode{Op::lit_int, DType::int64, {}, 0, 0}, true);
}

Series Series::where(const Series& cond, const Scalar& other) const {
  return where_series(*this, cond, other.node, false);
}

DataFrame Series::to_frame() const {
  Schema s;
  s.index = m_frame.schema().index;
  s.columns.push_back({m_name, dtype()});
  auto fn = delayed(series_part, {.name = "series", .pure = true});
  std::vector<Delayed<Table>> out;
  for (const auto& p : m_frame.partitions()) out.push_back(fn(p, m_expr, m_name));
  return DataFrame(std::move(s), std::move(out));
}

#define TESSERA_DF_BINARY(OP, CODE)                                                              \
  Series operator OP(const Series& a, const Series& b) { return combine(a, b, Op::CODE); }        \
  Series operator OP(const Series& a, const Scalar& b) { return with_scalar(a, b, Op::CODE, false); } \
  Series operator OP(const Scalar& a, const Series& b) { return with_scalar(b, a, Op::CODE, true); }
TESSERA_DF_BINARY(+, add)
TESSERA_DF_BINARY(-, sub)
TESSERA_DF_BINARY(*, mul)
TESSERA_DF_BINARY(/, div)
TESSERA_DF_BINARY(%, mod)
TESSERA_DF_BINARY(<, lt)
TESSERA_DF_BINARY(<=, le)
TESSERA_DF_BINARY(>, gt)
TESSERA_DF_BINARY(>=, ge)
TESSERA_DF_BINARY(==, eq)
TESSERA_DF_BINARY(!=, ne)
#undef TESSERA_DF_BINARY

Series operator&&(const Series& a, const Series& b) { return combine(a, b, Op::logical_and); }
Series operator||(const Series& a, const Series& b) { return combine(a, b, Op::logical_or); }

Series operator!(const Series& a) {
  if (a.dtype() != DType::boolean) {
    TESSERA_THROW(TypeError, "! needs a bool Series; ", detail::describe(a.expr()), " is ",
                  dtype_name(a.dtype()));
  }
  return unary_series(a, Op::logical_not, DType::boolean);
}

Series operator-(const Series& a) {
  if (a.dtype() != DType::int64 && a.dtype() != DType::float64 && a.dtype() != DType::timedelta) {
    TESSERA_THROW(TypeError, "unary - needs an int64, float64 or timedelta64[ns] Series; ",
                  detail::describe(a.expr()), " is ", dtype_name(a.dtype()));
  }
  return unary_series(a, Op::neg, a.dtype());
}

Series Series::abs() const {
  if (dtype() != DType::int64 && dtype() != DType::float64 && dtype() != DType::timedelta) {
    TESSERA_THROW(TypeError, "abs needs an int64, float64 or timedelta64[ns] Series; ", detail::describe(m_expr),
                  " is ", dtype_name(dtype()));
  }
  return unary_series(*this, Op::abs, dtype());
}

}  // namespace tessera::dataframe

namespace tessera {
dataframe::Table Collection<dataframe::DataFrame>::finalize(const dataframe::DataFrame& d,
                                                            std::span<const Value> v) {
  std::vector<dataframe::Table> parts;
  parts.reserve(v.size());
  for (const auto& x : v) parts.push_back(detail::extract<dataframe::Table>(x));
  if (parts.empty()) return dataframe::empty_table(d.schema());
  return dataframe::Table::concat(parts);
}
}  // namespace tessera
