#pragma once

/// @file
/// pandas' Series.str and Series.dt accessors: column expressions like the operators of
/// dataframe.hpp (lazy, serializable, evaluated per partition on any rank). Nulls stay null:
/// a null string gives a null bool from contains (a filter drops it) and a null length.
/// Included by dataframe.hpp (after Series).
///
/// @code
/// namespace td = tessera::dataframe;
/// auto df = td::read_csv("flights/*.csv", {.parse_dates = {"Date"}});
/// auto east = df[df["Dest"].str().startswith("B") || df["City"].str().lower().str().contains("york")];
/// auto monthly = df.assign("month", df["Date"].dt().month()).groupby("month")["DepDelay"].mean();
/// auto weekend = df[df["Date"].dt().dayofweek() >= 5];          // Monday = 0, as pandas
/// auto code = df["Origin"].str().slice(0, 2);                    // code points, Python's rules
/// @endcode
///
/// Differences from pandas, on purpose: contains/startswith/endswith take a literal pattern
/// (pandas' contains(pat, regex=False)); lower/upper map ASCII letters only and strip removes
/// ASCII whitespace only (other characters are kept); len and slice count code points, as
/// Python does.
/// Collective: build on the driver (rank 0 under MPI). Thread safety: immutable handles.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <tessera/collections/dataframe/dataframe.hpp>  // Series (this file is included at its end)

namespace tessera::dataframe {

/// Series.str(): string methods of a string Series.
class StringMethods {
public:
  explicit StringMethods(Series s);
  /// True where the value contains `pattern` (a literal substring).
  [[nodiscard]] Series contains(std::string pattern) const;
  [[nodiscard]] Series startswith(std::string prefix) const;
  [[nodiscard]] Series endswith(std::string suffix) const;
  /// ASCII letters to lower / upper case.
  [[nodiscard]] Series lower() const;
  [[nodiscard]] Series upper() const;
  /// Without leading and trailing ASCII whitespace.
  [[nodiscard]] Series strip() const;
  /// Length in code points (int64).
  [[nodiscard]] Series len() const;
  /// Python's value[start:stop] on code points; negative ends count from the end.
  [[nodiscard]] Series slice(std::int64_t start,
                             std::int64_t stop = std::numeric_limits<std::int64_t>::max()) const;

private:
  [[nodiscard]] Series method(detail::Op op, std::string text = {}, std::int64_t i = 0, std::int64_t j = 0) const;
  Series m_series;
};

/// Series.dt(): fields of a datetime64[ns] Series, as int64 (UTC, proleptic Gregorian), and
/// the components of a timedelta64[ns] Series as pandas' TimedeltaProperties gives them
/// (days rounded down, the rest of the day positive: -1 s is days -1, seconds 86399).
/// Throws: TypeError naming the operand when a field does not fit its dtype (year of a
/// timedelta, days of a datetime).
/// @code
/// auto trip = df["Arr"] - df["Dep"];                          // timedelta64[ns]
/// auto long_trips = df[trip.dt().total_seconds() > 5400.0];
/// @endcode
class DatetimeMethods {
public:
  explicit DatetimeMethods(Series s);
  [[nodiscard]] Series year() const;
  [[nodiscard]] Series month() const;       ///< 1-12
  [[nodiscard]] Series day() const;         ///< 1-31
  [[nodiscard]] Series hour() const;
  [[nodiscard]] Series minute() const;
  [[nodiscard]] Series second() const;
  [[nodiscard]] Series dayofweek() const;   ///< Monday = 0 ... Sunday = 6
  [[nodiscard]] Series dayofyear() const;   ///< 1-366
  [[nodiscard]] Series days() const;          ///< timedelta: whole days, rounded down (int64)
  [[nodiscard]] Series seconds() const;       ///< timedelta: seconds of the day, 0-86399
  [[nodiscard]] Series microseconds() const;  ///< timedelta: 0-999999 within the second
  [[nodiscard]] Series nanoseconds() const;   ///< timedelta: 0-999 within the microsecond
  [[nodiscard]] Series total_seconds() const; ///< timedelta: float64 seconds (ns / 1e9, as pandas)

private:
  [[nodiscard]] Series field(detail::Op op) const;
  Series m_series;
};

/// Series.cat(): the codes of a category Series (categories: see table.hpp).
/// @code
/// auto df = td::read_csv("flights/*.csv", {.dtype = {{"Origin", td::DType::category}}});
/// auto codes = df["Origin"].cat().codes();   // int64, -1 for a null, as pandas
/// @endcode
/// Codes index the categories of their partition: each partition read or converted on its
/// own has the sorted distinct values it holds, so codes agree with pandas' when every
/// partition holds every category (one partition, or the output of a concat, which unions
/// them); compare categoricals with == / != against strings to select rows portably.
class CategoricalMethods {
public:
  explicit CategoricalMethods(Series s);
  /// The codes (int64; -1 for null rows, which are no longer null).
  [[nodiscard]] Series codes() const;

private:
  Series m_series;
};

}  // namespace tessera::dataframe
