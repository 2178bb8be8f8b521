#pragma once

/// @file
/// pandas' / Dask's rolling windows and quantiles of a DataFrame or Series. Included by
/// dataframe.hpp (after DataFrame and Series).
///
/// @code
/// namespace td = tessera::dataframe;
/// auto df = td::read_csv("flights/*.csv", {.na_values = {"NA"}});
/// auto smooth = df[{"DepDelay", "Distance"}].rolling(7).mean();          // one row per input row
/// auto spread = df["DepDelay"].rolling(30, {.min_periods = 5}).std();    // a Series
/// double median = tessera::compute(df["DepDelay"].quantile(0.5));        // exact, linear
/// td::Table qs = tessera::compute(df[{"DepDelay", "Distance"}].quantile({0.1, 0.9}));
/// @endcode
///
/// Rolling: a fixed window of `window` rows in partition order, as Dask builds it: a chain of
/// small tasks carries the last window - 1 rows of the preceding partition(s) (several short or
/// empty ones if need be) to each partition, which computes its rows locally; the result has
/// the input's partitions, index and row count, every column float64. A window's null and NaN
/// values are skipped; a row whose window holds fewer than min_periods values is NaN.
/// Quantile: exact, pandas' linear interpolation between order statistics of the non-null
/// values: each partition sorts its values, sorted runs are merged by tree reduction, and the
/// last task holds every non-null value (8 bytes each) of the columns asked for.
///
/// Differences from pandas, on purpose: count()'s min_periods defaults to window (pandas 2's
/// behaviour; pandas 1.5 counts with min_periods 0 and warns); rolling sums are running sums (Kahan
/// compensated) so results may differ from pandas' in the last bits; datetime columns are
/// refused by rolling, and their quantiles are nanoseconds as doubles.
/// Collective: build and compute on the driver (rank 0 under MPI). Thread safety: immutable
/// handles; const members may be called concurrently.

#include <tessera/collections/dataframe/dataframe.hpp>  // DataFrame, Series (included at its end)

#include <cstdint>
#include <optional>
#include <string>

namespace tessera::dataframe {

/// DataFrame.rolling(window): each statistic gives a DataFrame with the input's partitions,
/// index and columns (float64).
class Rolling {
public:
  /// Throws: GraphError for window < 1 or min_periods outside [0, window] (naming them);
  /// TypeError naming the first column that is not int64, float64 or bool.
  Rolling(DataFrame frame, std::int64_t window, RollingOptions options = {});

  [[nodiscard]] DataFrame sum() const { return apply(0); }
  [[nodiscard]] DataFrame mean() const { return apply(1); }
  [[nodiscard]] DataFrame min() const { return apply(2); }
  [[nodiscard]] DataFrame max() const { return apply(3); }
  /// Sample variance / standard deviation (ddof 1, as pandas; NaN below two values).
  [[nodiscard]] DataFrame var() const { return apply(4); }
  [[nodiscard]] DataFrame std() const { return apply(5); }
  /// Number of non-null values in the window; NaN where the window has fewer than
  /// min_periods rows (null or not), as pandas.
  [[nodiscard]] DataFrame count() const { return apply(6); }

  [[nodiscard]] std::int64_t window() const noexcept { return m_window; }
  [[nodiscard]] std::int64_t min_periods() const noexcept { return m_min_periods; }

private:
  [[nodiscard]] DataFrame apply(int stat) const;
  DataFrame m_frame;
  std::int64_t m_window;
  std::int64_t m_min_periods;
};

/// Series.rolling(window): the same statistics as a Series of the same name.
class SeriesRolling {
public:
  /// Throws: as Rolling's constructor.
  SeriesRolling(const Series& s, std::int64_t window, RollingOptions options = {});
  [[nodiscard]] Series sum() const { return one(m_rolling.sum()); }
  [[nodiscard]] Series mean() const { return one(m_rolling.mean()); }
  [[nodiscard]] Series min() const { return one(m_rolling.min()); }
  [[nodiscard]] Series max() const { return one(m_rolling.max()); }
  [[nodiscard]] Series var() const { return one(m_rolling.var()); }
  [[nodiscard]] Series std() const { return one(m_rolling.std()); }
  [[nodiscard]] Series count() const { return one(m_rolling.count()); }

private:
  [[nodiscard]] Series one(const DataFrame& f) const { return f[m_name]; }
  Rolling m_rolling;
  std::string m_name;
};

}  // namespace tessera::dataframe
