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
  (void)detail::method_dtype(Op::dt_year, m_series.dtype(), m_series.dtype(), detail::describe(m_series.expr()));
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

}  // namespace tessera::dataframe
