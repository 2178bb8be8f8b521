// Series.str() and Series.dt(): method nodes appended to the Series' column expression.
#include <tessera/collections/dataframe/dataframe.hpp>

namespace tessera::dataframe {

using detail::Expr;
using detail::ExprNode;
using detail::Op;

namespace {

/// `s` with the method `op` appended (text/i/j: its parameters); the dtype is checked now.
Series with_method(const Series& s, Op op, std::string text, std::int64_t i, std::int64_t j) {
  const DType out = detail::method_dtype(op, s.dtype(), s.dtype(), detail::describe(s.expr()));
  Expr e = s.expr();
  e.nodes.push_back(ExprNode{op, out, std::move(text), 0, i, j});
  return Series(s.frame(), std::move(e), s.name());
}

}  // namespace

StringMethods Series::str() const { return StringMethods(*this); }
DatetimeMethods Series::dt() const { return DatetimeMethods(*this); }
CategoricalMethods Series::cat() const { return CategoricalMethods(*this); }

CategoricalMethods::CategoricalMethods(Series s) : m_series(std::move(s)) {
  (void)detail::method_dtype(Op::cat_codes, m_series.dtype(), m_series.dtype(), detail::describe(m_series.expr()));
}

Series CategoricalMethods::codes() const { return with_method(m_series, Op::cat_codes, {}, 0, 0); }

StringMethods::StringMethods(Series s) : m_series(std::move(s)) {
  (void)detail::method_dtype(Op::str_len, m_series.dtype(), m_series.dtype(), detail::describe(m_series.expr()));
}

Series StringMethods::method(Op op, std::string text, std::int64_t i, std::int64_t j) const {
  return with_method(m_series, op, std::move(text), i, j);
}

Series StringMethods::contains(std::string pattern) const { return method(Op::str_contains, std::move(pattern)); }
Series StringMethods::startswith(std::string prefix) const { return method(Op::str_startswith, std::move(prefix)); }
Series StringMethods::endswith(std::string suffix) const { return method(Op::str_endswith, std::move(suffix)); }
Series StringMethods::lower() const { return method(Op::str_lower); }
Series StringMethods::upper() const { return method(Op::str_upper); }
Series StringMethods::strip() const { return method(Op::str_strip); }
Series StringMethods::len() const { return method(Op::str_len); }
Series StringMethods::slice(std::int64_t start, std::int64_t stop) const {
  return method(Op::str_slice, {}, start, stop);
}

DatetimeMethods::DatetimeMethods(Series s) : m_series(std::move(s)) {
  const DType t = m_series.dtype();
  if (t != DType::datetime && t != DType::timedelta) {
    TESSERA_THROW(TypeError, ".dt needs a datetime64[ns] column or a timedelta64[ns] column; ",
                  detail::describe(m_series.expr()), " is ", dtype_name(t));
  }
}

Series DatetimeMethods::field(Op op) const { return with_method(m_series, op, {}, 0, 0); }

Series DatetimeMethods::year() const { return field(Op::dt_year); }
Series DatetimeMethods::month() const { return field(Op::dt_month); }
Series DatetimeMethods::day() const { return field(Op::dt_day); }
Series DatetimeMethods::hour() const { return field(Op::dt_hour); }
Series DatetimeMethods::minute() const { return field(Op::dt_minute); }
Series DatetimeMethods::second() const { return field(Op::dt_second); }
Series DatetimeMethods::dayofweek() const { return field(Op::dt_dayofweek); }
Series DatetimeMethods::dayofyear() const { return field(Op::dt_dayofyear); }
Series DatetimeMethods::days() const { return field(Op::td_days); }
Series DatetimeMethods::seconds() const { return field(Op::td_seconds); }
Series DatetimeMethods::microseconds() const { return field(Op::td_microseconds); }
Series DatetimeMethods::nanoseconds() const { return field(Op::td_nanoseconds); }
Series DatetimeMethods::total_seconds() const { return field(Op::td_total_seconds); }

namespace {

/// Nanoseconds per unit of pd.to_timedelta's unit names; 0 for an unknown unit.
std::int64_t unit_nanoseconds(std::string_view u) {
  if (u == "D" || u == "d" || u == "days" || u == "day") return Timedelta::days(1).ns;
  if (u == "h" || u == "hours") return Timedelta::hours(1).ns;
  if (u == "m" || u == "min" || u == "minutes") return Timedelta::minutes(1).ns;
  if (u == "s" || u == "seconds") return Timedelta::seconds(1).ns;
  if (u == "ms" || u == "milliseconds") return Timedelta::milliseconds(1).ns;
  if (u == "us" || u == "microseconds") return Timedelta::microseconds(1).ns;
  if (u == "ns" || u == "nanoseconds") return 1;
  return 0;
}

}  // namespace

Series to_timedelta(const Series& s, std::string_view unit) {
  const std::string what = detail::describe(s.expr());
  const std::int64_t per = unit_nanoseconds(unit);
  if (per == 0) {
    TESSERA_THROW(TypeError, "to_timedelta of ", what, ": unknown unit '", unit, "' (D, h, m, s, ms, us, ns)");
  }
  if (s.dtype() == DType::string && per != 1) {
    TESSERA_THROW(TypeError, "to_timedelta of ", what, ": a unit must not be given with strings (as pandas)");
  }
  const DType out = detail::method_dtype(Op::to_timedelta, s.dtype(), DType::timedelta, what);
  Expr e = s.expr();
  e.nodes.push_back(ExprNode{Op::to_timedelta, out, what, 0, per, 0});
  return Series(s.frame(), std::move(e), s.name());
}

}  // namespace tessera::dataframe
