// Column expression methods of one operand: Series.str.*, Series.dt.*, astype; and where.
#include <tessera/collections/dataframe/detail/expr.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/expr_text.hpp"

#include <chrono>
#include <cmath>
#include <limits>

namespace tessera::dataframe::detail {
namespace {

bool is_str_method(Op op) { return op >= Op::str_contains && op <= Op::str_slice; }
bool is_dt_method(Op op) { return op >= Op::dt_year && op <= Op::dt_dayofyear; }
bool is_td_method(Op op) { return op >= Op::td_days && op <= Op::td_total_seconds; }

const char* method_name(Op op) {
  switch (op) {
    case Op::str_contains: return "contains";
    case Op::str_startswith: return "startswith";
    case Op::str_endswith: return "endswith";
    case Op::str_lower: return "lower";
    case Op::str_upper: return "upper";
    case Op::str_strip: return "strip";
    case Op::str_len: return "len";
    case Op::str_slice: return "slice";
    case Op::dt_year: return "year";
    case Op::dt_month: return "month";
    case Op::dt_day: return "day";
    case Op::dt_hour: return "hour";
    case Op::dt_minute: return "minute";
    case Op::dt_second: return "second";
    case Op::dt_dayofweek: return "dayofweek";
    case Op::dt_dayofyear: return "dayofyear";
    case Op::td_days: return "days";
    case Op::td_seconds: return "seconds";
    case Op::td_microseconds: return "microseconds";
    case Op::td_nanoseconds: return "nanoseconds";
    case Op::td_total_seconds: return "total_seconds";
    case Op::to_timedelta: return "to_timedelta";
    case Op::cat_codes: return "codes";
    default: return "astype";
  }
}

/// The conversions astype accepts (from, to), as pandas does for these dtypes.
bool castable(DType from, DType to) {
  if (from == to || to == DType::string) return true;
  if (to == DType::category) return from == DType::string;  // pandas keeps other dtypes' categories
  switch (from) {
    case DType::int64: return true;
    case DType::float64: return to == DType::int64 || to == DType::boolean;
    case DType::boolean: return to == DType::int64 || to == DType::float64;
    case DType::string:
      return to == DType::int64 || to == DType::float64 || to == DType::datetime || to == DType::timedelta;
    case DType::datetime:
    case DType::timedelta: return to == DType::int64;
    case DType::category: return false;
  }
  return false;
}

/// The same rows, nulls kept, each valid row mapped by `f(out, row)`; nulls get push_null.
template <class F>
Column map_rows(const Column& a, DType out_type, F&& f) {
  const std::size_t n = a.size();
  Column out(out_type);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (a.is_null(i)) out.push_null();
    else f(out, i);
  }
  return out;
}

Column string_method(const ExprNode& n, const Column& a) {
  switch (n.op) {
    case Op::str_contains:
    case Op::str_startswith:
    case Op::str_endswith:
      return map_rows(a, DType::boolean, [&](Column& out, std::size_t i) {
        const std::string_view s = a.str(i);
        const bool hit = n.op == Op::str_contains ? s.find(n.text) != std::string_view::npos
                         : n.op == Op::str_startswith ? s.starts_with(n.text)
                                                      : s.ends_with(n.text);
        out.push_bool(hit);
      });
    case Op::str_len:
      return map_rows(a, DType::int64, [&](Column& out, std::size_t i) {
        out.push_int(static_cast<std::int64_t>(text::code_points(a.str(i))));
      });
    default:
      return map_rows(a, DType::string, [&](Column& out, std::size_t i) {
        const std::string_view s = a.str(i);
        if (n.op == Op::str_lower || n.op == Op::str_upper) {
          out.push_str(text::ascii_case(s, n.op == Op::str_upper));
        } else if (n.op == Op::str_strip) {
          out.push_str(text::strip_ascii(s));
        } else {
          out.push_str(text::slice_code_points(s, n.i, n.j));
        }
      });
  }
}

Column datetime_method(Op op, const Column& a) {
  using namespace std::chrono;
  constexpr std::int64_t ns_per_day = 86'400'000'000'000;
  return map_rows(a, DType::int64, [&](Column& out, std::size_t i) {
    const std::int64_t ns = a.i64[i];
    std::int64_t day = ns / ns_per_day;
    if (ns % ns_per_day < 0) --day;  // floor: times before 1970 belong to the day before
    const std::int64_t in_day = ns - day * ns_per_day;
    const sys_days sd{days{day}};
    const year_month_day ymd{sd};
    std::int64_t v = 0;
    switch (op) {
      case Op::dt_year: v = static_cast<int>(ymd.year()); break;
      case Op::dt_month: v = static_cast<unsigned>(ymd.month()); break;
      case Op::dt_day: v = static_cast<unsigned>(ymd.day()); break;
      case Op::dt_hour: v = in_day / 3'600'000'000'000; break;
      case Op::dt_minute: v = in_day / 60'000'000'000 % 60; break;
      case Op::dt_second: v = in_day / 1'000'000'000 % 60; break;
      case Op::dt_dayofweek: v = weekday{sd}.iso_encoding() - 1; break;  // Monday = 0, as pandas
      default: v = (sd - sys_days{ymd.year() / January / 1}).count() + 1; break;
    }
    out.push_int(v);
  });
}

/// pandas' Timedelta components: whole days rounded down, the rest of the day positive.
Column timedelta_method(Op op, const Column& a) {
  constexpr std::int64_t ns_per_day = 86'400'000'000'000;
  if (op == Op::td_total_seconds) {
    return map_rows(a, DType::float64, [&](Column& out, std::size_t i) {
      out.push_float(static_cast<double>(a.i64[i]) / 1e9);  // pandas 1.5: asi8 / periods per second
    });
  }
  return map_rows(a, DType::int64, [&](Column& out, std::size_t i) {
    const std::int64_t ns = a.i64[i];
    std::int64_t day = ns / ns_per_day;
    if (ns % ns_per_day < 0) --day;
    const std::int64_t in_day = ns - day * ns_per_day;
    switch (op) {
      case Op::td_days: return out.push_int(day);
      case Op::td_seconds: return out.push_int(in_day / 1'000'000'000);
      case Op::td_microseconds: return out.push_int(in_day % 1'000'000'000 / 1000);
      default: return out.push_int(in_day % 1000);
    }
  });
}

[[noreturn]] void bad_value(const ExprNode& n, std::size_t row, const std::string& shown, const char* why) {
  const std::string op = n.op == Op::to_timedelta ? std::string("to_timedelta") : std::string("astype(") + dtype_name(n.dtype) + ")";
  TESSERA_THROW(TypeError, op, " of ", n.text, ": row ", row, " is ", shown, ", ",
                why);
}

std::int64_t float_to_int(const ExprNode& n, double v, std::size_t row) {
  // 2^63 is exactly representable; every double below it in magnitude fits an int64.
  if (!std::isfinite(v) || std::fabs(v) >= 9223372036854775808.0) {
    bad_value(n, row, text::python_float(v), "which does not fit an int64");
  }
  return static_cast<std::int64_t>(v);  // toward zero, as numpy
}

void push_string_as(const ExprNode& n, Column& out, std::string_view s, std::size_t row) {
  const std::string shown = "'" + std::string(s) + "'";
  if (n.dtype == DType::int64) {
    std::int64_t v = 0;
    if (!text::parse_int(s, v)) bad_value(n, row, shown, "not a whole number");
    out.push_int(v);
  } else if (n.dtype == DType::float64) {
    double v = 0;
    if (!text::parse_float(s, v)) bad_value(n, row, shown, "not a number");
    out.push_float(v);
  } else if (n.dtype == DType::timedelta) {
    std::int64_t ns = 0;
    if (!parse_timedelta(s, ns)) bad_value(n, row, shown, "not a duration ('1 days 02:03:04', '02:03:04', '1.5s')");
    out.push_int(ns);
  } else {
    std::int64_t ns = 0;
    if (!parse_datetime(text::strip_ascii(s), ns)) bad_value(n, row, shown, "not a date (YYYY-MM-DD[ HH:MM:SS])");
    out.push_int(ns);
  }
}

/// pd.to_timedelta(values, unit): numbers times `n.i` nanoseconds (floats toward zero, as
/// numpy's cast), strings parsed.
Column to_timedelta_column(const ExprNode& n, const Column& a) {
  return map_rows(a, DType::timedelta, [&](Column& out, std::size_t i) {
    switch (a.dtype) {
      case DType::string:
        if (text::strip_ascii(a.str(i)) == "NaT") return out.push_null();  // as pd.to_timedelta
        return push_string_as(n, out, a.str(i), i);
      case DType::float64: {
        const double v = a.f64[i] * static_cast<double>(n.i);
        if (std::isnan(v)) return out.push_null();
        if (!std::isfinite(v) || std::fabs(v) >= 9223372036854775808.0) {
          bad_value(n, i, text::python_float(a.f64[i]), "which does not fit timedelta64[ns]");
        }
        return out.push_int(static_cast<std::int64_t>(v));
      }
      default: {
        std::int64_t v = 0;
        if (__builtin_mul_overflow(a.i64[i], n.i, &v)) {
          bad_value(n, i, std::to_string(a.i64[i]), "which does not fit timedelta64[ns]");
        }
        return out.push_int(v);
      }
    }
  });
}

std::string as_string(const Column& a, std::size_t i, bool long_form) {
  switch (a.dtype) {
    case DType::int64: return std::to_string(a.i64[i]);
    case DType::float64: return text::python_float(a.f64[i]);
    case DType::boolean: return a.b8[i] ? "True" : "False";
    case DType::datetime: {
      constexpr std::int64_t ns_per_day = 86'400'000'000'000;
      return format_datetime(a.i64[i], a.i64[i] % ns_per_day == 0);
    }
    case DType::timedelta: return format_timedelta(a.i64[i], long_form);
    default: return std::string(a.str(i));
  }
}

/// True unless every non-null value is whole days (pandas then prints "2 days").
bool needs_long_form(const Column& a) {
  constexpr std::int64_t ns_per_day = 86'400'000'000'000;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a.is_null(i) && a.i64[i] % ns_per_day != 0) return true;
  }
  return false;
}

Column cast(const ExprNode& n, Column a) {
  if (a.dtype == n.dtype) return a;
  if (n.dtype == DType::category) return to_categorical(a);
  if (a.dtype == DType::category) return categorical_to_strings(a);  // castable: to string only
  const bool long_form = a.dtype == DType::timedelta && needs_long_form(a);
  return map_rows(a, n.dtype, [&](Column& out, std::size_t i) {
    switch (n.dtype) {
      case DType::string: out.push_str(as_string(a, i, long_form)); return;
      case DType::boolean: out.push_bool(a.as_double(i) != 0); return;  // NaN is true, as numpy
      case DType::float64:
        if (a.dtype == DType::string) push_string_as(n, out, a.str(i), i);
        else out.push_float(a.as_double(i));
        return;
      default:  // int64, datetime or timedelta
        if (a.dtype == DType::string) push_string_as(n, out, a.str(i), i);
        else if (a.dtype == DType::float64) out.push_int(float_to_int(n, a.f64[i], i));
        else if (a.dtype == DType::boolean) out.push_int(a.b8[i]);
        else out.push_int(a.i64[i]);
    }
  });
}

/// Appends row i of `src` (int64, float64, bool, string or datetime) converted to out's dtype
/// (int64 and bool widen to float64; otherwise the dtypes are equal).
void push_row(Column& out, const Column& src, std::size_t i) {
  if (src.is_null(i)) return out.push_null();
  switch (out.dtype) {
    case DType::float64: return out.push_float(src.as_double(i));
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return out.push_int(src.dtype == DType::boolean ? src.b8[i] : src.i64[i]);
    case DType::boolean: return out.push_bool(src.b8[i] != 0);
    case DType::string: return out.push_str(src.str(i));
    case DType::category: return out.append(src.slice(i, i + 1));  // the union of the categories
  }
}

}  // namespace

DType method_dtype(Op method, DType t, DType to, const std::string& what) {
  if (is_str_method(method) && t != DType::string) {
    TESSERA_THROW(TypeError, ".str.", method_name(method), " needs a string column; ", what, " is ", dtype_name(t));
  }
  if (is_dt_method(method) && t != DType::datetime) {
    TESSERA_THROW(TypeError, ".dt.", method_name(method), " needs a datetime64[ns] column; ", what, " is ",
                  dtype_name(t));
  }
  if (is_td_method(method) && t != DType::timedelta) {
    TESSERA_THROW(TypeError, ".dt.", method_name(method), " needs a timedelta64[ns] column; ", what, " is ",
                  dtype_name(t));
  }
  if (method == Op::cat_codes && t != DType::category) {
    TESSERA_THROW(TypeError, ".cat.codes needs a category column; ", what, " is ", dtype_name(t));
  }
  if (method == Op::to_timedelta && t != DType::int64 && t != DType::float64 && t != DType::string) {
    TESSERA_THROW(TypeError, "to_timedelta needs an int64, float64 or string column; ", what, " is ",
                  dtype_name(t));
  }
  switch (method) {
    case Op::str_contains:
    case Op::str_startswith:
    case Op::str_endswith: return DType::boolean;
    case Op::str_lower:
    case Op::str_upper:
    case Op::str_strip:
    case Op::str_slice: return DType::string;
    case Op::td_total_seconds: return DType::float64;
    case Op::to_timedelta: return DType::timedelta;
    case Op::astype:
      if (!castable(t, to)) {
        TESSERA_THROW(TypeError, "astype: ", what, " is ", dtype_name(t), " and cannot become ", dtype_name(to));
      }
      return to;
    default: return DType::int64;  // str.len and the dt fields
  }
}

Column apply_method(const ExprNode& n, Column a) {
  if (is_str_method(n.op)) return string_method(n, a);
  if (is_dt_method(n.op)) return datetime_method(n.op, a);
  if (is_td_method(n.op)) return timedelta_method(n.op, a);
  if (n.op == Op::to_timedelta) return to_timedelta_column(n, a);
  if (n.op == Op::cat_codes) return categorical_codes(a);
  return cast(n, std::move(a));
}

Column apply_where(const ExprNode& n, const Column& a, const Column& cond, const Column& other) {
  const std::size_t rows = a.size();
  Column out(n.dtype);
  out.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const bool keep = !cond.is_null(i) && cond.b8[i] != 0;
    if (keep) push_row(out, a, i);
    else if (n.i != 0) out.push_null();  // where(cond) without `other`
    else push_row(out, other, i);
  }
  return out;
}

std::string describe_method(const ExprNode& n, const std::string& operand) {
  if (n.op == Op::astype) return operand + ".astype(" + dtype_name(n.dtype) + ")";
  if (is_dt_method(n.op) || n.op == Op::td_days || n.op == Op::td_seconds || n.op == Op::td_microseconds ||
      n.op == Op::td_nanoseconds) {
    return operand + ".dt." + method_name(n.op);
  }
  if (n.op == Op::td_total_seconds) return operand + ".dt.total_seconds()";
  if (n.op == Op::cat_codes) return operand + ".cat.codes";
  if (n.op == Op::to_timedelta) return "to_timedelta(" + operand + ", " + std::to_string(n.i) + " ns)";
  std::string args;
  if (n.op <= Op::str_endswith) args = "'" + n.text + "'";
  if (n.op == Op::str_slice) {
    args = std::to_string(n.i);
    if (n.j != std::numeric_limits<std::int64_t>::max()) args += ", " + std::to_string(n.j);
  }
  return operand + ".str." + method_name(n.op) + "(" + args + ")";
}

}  // namespace tessera::dataframe::detail
