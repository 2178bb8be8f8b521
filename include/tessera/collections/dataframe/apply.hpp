#pragma once

/// @file
/// pandas' df.apply(f, axis=1) with a typed C++ lambda: DataFrame::apply_rows calls `f` on
/// each row with the values of the named columns as its arguments and gives a Series of the
/// results. Included by dataframe.hpp (after DataFrame and Series).
///
/// @code
/// namespace td = tessera::dataframe;
/// td::Series fare = df.apply_rows<double>({"Distance", "Passengers"},
///                                         [](double km, std::int64_t n) { return km * n; });
/// td::Series tag = df.apply_rows({"Origin", "Late"}, [](std::string_view o, bool late) {
///   return std::string(o) + (late ? "!" : "");
/// }, "tag");                                                    // a string Series named "tag"
/// td::Series filled = df.apply_rows({"DepDelay"}, [](std::optional<double> d) {
///   return d.value_or(0.0);                                     // nulls arrive as nullopt
/// });
/// auto with_fare = df.assign("fare", fare);                     // a Series of df's rows
/// @endcode
///
/// Parameters, one per named column, in order: std::int64_t for int64, datetime64[ns] and
/// timedelta64[ns] columns (nanoseconds, since the epoch for datetimes, as Table stores them),
/// double for float64, bool for
/// bool, std::string_view (or std::string) for string columns. A std::optional<T> parameter
/// receives a null as std::nullopt; a row with a null in the column of a plain parameter gives
/// a null result without calling f (NaN in a float64 column is a value, passed as NaN).
/// The result's dtype follows f's return type (or R when given): integers int64, floating
/// point float64, bool, strings (std::string, std::string_view, const char*) string;
/// std::optional<T> returns null for std::nullopt. The Series keeps the frame's rows, index
/// and divisions, so it can be assigned to or filter the frame.
///
/// Under MPI the task runs on a worker: f is sent as the tasks of tessera::delayed send a
/// lambda (the same binary on every rank; the task's code is found by its code reference), so
/// f may capture only trivially copyable or Boost-serializable values (no pointers to the
/// driver's memory). f runs concurrently on the threads scheduler: it must not change shared
/// state. Collective: build and compute on the driver (rank 0 under MPI). Thread safety: as
/// DataFrame.

#include <tessera/collections/dataframe/dataframe.hpp>  // DataFrame (included at its end)
#include <tessera/collections/dataframe/detail/row_apply.hpp>

#include <string>
#include <vector>

namespace tessera::dataframe {

template <class R, class F>
Series DataFrame::apply_rows(const std::vector<std::string>& columns, F f, std::string name) const {
  static_assert(detail::TypedCallable<F>,
                "apply_rows needs a lambda with typed parameters (not auto) or a function pointer");
  using Sig = detail::Signature<F>;
  using Out = std::conditional_t<std::is_same_v<R, detail::DeduceResult>, typename Sig::result, R>;
  static_assert(detail::RowResult<Out>::supported,
                "apply_rows: the result must be an integer, floating point, bool or string type, or "
                "std::optional of one");
  using Args = typename Sig::args;
  static_assert([]<class... A>(std::tuple<A...>*) { return (detail::RowArg<A>::supported && ...); }(
                    static_cast<Args*>(nullptr)),
                "apply_rows: parameters must be std::int64_t, double, bool, std::string_view or "
                "std::string, or std::optional of one");
  detail::check_row_args(m_schema, columns, detail::row_params(static_cast<Args*>(nullptr)));
  auto task = []<class... A>(F fn, std::tuple<A...>*) {
    return detail::RowApply<F, Out, A...>{std::move(fn)};
  }(std::move(f), static_cast<Args*>(nullptr));
  auto fn = tessera::delayed(std::move(task), {.name = "apply-rows", .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(m_parts.size());
  for (const auto& p : m_parts) out.push_back(fn(p, columns, name));
  Schema s;
  s.index = m_schema.index;
  s.columns = {{name, detail::RowResult<Out>::dtype}};
  return keeping_rows(DataFrame(std::move(s), std::move(out)))[name];
}

}  // namespace tessera::dataframe
