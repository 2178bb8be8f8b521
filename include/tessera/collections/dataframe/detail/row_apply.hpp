#pragma once

// Internal: the pieces of DataFrame::apply_rows (apply.hpp): a typed lambda's parameter and
// result types mapped to column dtypes, the build-time check of the columns against the
// parameters, and the task functor that calls the lambda on each row of a partition.

#include <tessera/collections/dataframe/schema.hpp>
#include <tessera/collections/dataframe/table.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tessera::dataframe::detail {

/// apply_rows' default result type: the lambda's own.
struct DeduceResult {};

/// The parameter list and result of a lambda with typed parameters (or a function pointer).
template <class F>
struct Signature : Signature<decltype(&F::operator())> {};
template <class R, class C, class... A>
struct Signature<R (C::*)(A...) const> {
  using result = std::remove_cvref_t<R>;
  using args = std::tuple<std::remove_cvref_t<A>...>;
};
template <class R, class... A>
struct Signature<R (*)(A...)> {
  using result = std::remove_cvref_t<R>;
  using args = std::tuple<std::remove_cvref_t<A>...>;
};

template <class F>
concept TypedCallable = requires { &F::operator(); } || std::is_function_v<std::remove_pointer_t<F>>;

/// How a parameter type reads a column: which dtypes it accepts (a bit per DType) and its
/// name for messages. std::optional<T> receives nulls as std::nullopt.
template <class T>
struct RowArg {
  static constexpr bool supported = false;
};
template <>
struct RowArg<std::int64_t> {
  static constexpr bool supported = true;
  static constexpr unsigned dtypes =
      (1u << unsigned(DType::int64)) | (1u << unsigned(DType::datetime)) | (1u << unsigned(DType::timedelta));
  static constexpr const char* name = "std::int64_t";
  static std::int64_t get(const Column& c, std::size_t i) { return c.i64[i]; }
};
template <>
struct RowArg<double> {
  static constexpr bool supported = true;
  static constexpr unsigned dtypes = 1u << unsigned(DType::float64);
  static constexpr const char* name = "double";
  static double get(const Column& c, std::size_t i) { return c.f64[i]; }
};
template <>
struct RowArg<bool> {
  static constexpr bool supported = true;
  static constexpr unsigned dtypes = 1u << unsigned(DType::boolean);
  static constexpr const char* name = "bool";
  static bool get(const Column& c, std::size_t i) { return c.b8[i] != 0; }
};
template <>
struct RowArg<std::string_view> {
  static constexpr bool supported = true;
  static constexpr unsigned dtypes = (1u << unsigned(DType::string)) | (1u << unsigned(DType::category));
  static constexpr const char* name = "std::string_view";
  static std::string_view get(const Column& c, std::size_t i) { return c.text(i); }
};
template <>
struct RowArg<std::string> {
  static constexpr bool supported = true;
  static constexpr unsigned dtypes = (1u << unsigned(DType::string)) | (1u << unsigned(DType::category));
  static constexpr const char* name = "std::string";
  static std::string get(const Column& c, std::size_t i) { return std::string(c.text(i)); }
};
template <class T>
struct RowArg<std::optional<T>> {
  static constexpr bool supported = RowArg<T>::supported;
  static constexpr unsigned dtypes = RowArg<T>::dtypes;
  static constexpr const char* name = RowArg<T>::name;
  static std::optional<T> get(const Column& c, std::size_t i) {
    if (c.is_null(i)) return std::nullopt;
    return RowArg<T>::get(c, i);
  }
};

template <class T>
constexpr bool is_optional_v = false;
template <class T>
constexpr bool is_optional_v<std::optional<T>> = true;

/// How a result type becomes a column: integers int64, floating point float64, bool, strings;
/// std::optional<T>: std::nullopt is null.
template <class R>
struct RowResult {
  static constexpr bool supported = std::is_arithmetic_v<R> || std::is_convertible_v<R, std::string_view>;
  static constexpr DType dtype = std::is_same_v<R, bool>       ? DType::boolean
                                 : std::is_floating_point_v<R> ? DType::float64
                                 : std::is_arithmetic_v<R>     ? DType::int64
                                                               : DType::string;
  static void push(Column& out, const R& v) {
    if constexpr (std::is_same_v<R, bool>) out.push_bool(v);
    else if constexpr (std::is_floating_point_v<R>) out.push_float(static_cast<double>(v));
    else if constexpr (std::is_arithmetic_v<R>) out.push_int(static_cast<std::int64_t>(v));
    else out.push_str(std::string_view(v));
  }
};
template <class T>
struct RowResult<std::optional<T>> {
  static constexpr bool supported = RowResult<T>::supported;
  static constexpr DType dtype = RowResult<T>::dtype;
  static void push(Column& out, const std::optional<T>& v) {
    if (v) RowResult<T>::push(out, *v);
    else out.push_null();
  }
};

/// A parameter as check_row_args sees it.
struct RowParam {
  unsigned dtypes;
  const char* name;
};
template <class... A>
std::vector<RowParam> row_params(std::tuple<A...>*) {
  return {RowParam{RowArg<A>::dtypes, RowArg<A>::name}...};
}

/// Throws: GraphError when there are not as many columns as parameters; ColumnError for an
/// unknown column; TypeError naming the column, its dtype and the parameter's type when they
/// do not fit.
void check_row_args(const Schema& schema, const std::vector<std::string>& columns, std::span<const RowParam> params);
/// Throws the error of the function failing on `row` of `part`: the row, its index label and
/// the original message.
[[noreturn]] void throw_row_error(const Table& part, std::size_t row, const std::string& name);
/// A table of `part`'s index and the one column `values` named `name`.
Table row_result(const Table& part, Column values, const std::string& name);

/// The task: the lambda on each row of a partition; a null in a column of a parameter that is
/// not std::optional gives a null without calling it.
template <class F, class R, class... A>
struct RowApply {
  [[no_unique_address]] F f;

  Table operator()(const Table& part, const std::vector<std::string>& columns, const std::string& name) const {
    std::array<const Column*, sizeof...(A)> cols{};
    for (std::size_t k = 0; k < cols.size(); ++k) cols[k] = &part.column(columns[k]);
    Column out(RowResult<R>::dtype);
    const std::size_t n = part.num_rows();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (skipped(cols, i, std::index_sequence_for<A...>{})) {
        out.push_null();
        continue;
      }
      try {
        push_call(out, cols, i, std::index_sequence_for<A...>{});
      } catch (...) {
        throw_row_error(part, i, name);
      }
    }
    return row_result(part, std::move(out), name);
  }

private:
  template <std::size_t... I>
  static bool skipped(const std::array<const Column*, sizeof...(A)>& cols, std::size_t i, std::index_sequence<I...>) {
    return ((!is_optional_v<A> && cols[I]->is_null(i)) || ...);
  }
  /// One full expression: a std::string_view result of a temporary string is pushed in time.
  template <std::size_t... I>
  void push_call(Column& out, const std::array<const Column*, sizeof...(A)>& cols, std::size_t i,
                 std::index_sequence<I...>) const {
    RowResult<R>::push(out, static_cast<R>(f(RowArg<A>::get(*cols[I], i)...)));
  }
};

}  // namespace tessera::dataframe::detail

namespace tessera {
/// A RowApply over a function pointer travels as the pointer's code reference (its bytes
/// would differ between ranks' address spaces).
template <class Fn, class R, class... A>
  requires std::is_pointer_v<Fn>
struct Codec<dataframe::detail::RowApply<Fn, R, A...>> {
  static void write(ByteWriter& w, const dataframe::detail::RowApply<Fn, R, A...>& r) { Codec<Fn>::write(w, r.f); }
  static dataframe::detail::RowApply<Fn, R, A...> read(ByteReader& r) { return {Codec<Fn>::read(r)}; }
};
}  // namespace tessera
