#pragma once

/// @file
/// pandas' / Dask's resample of a DataFrame on a sorted datetime index, into fixed-frequency
/// bins. Included by dataframe.hpp (after DataFrame).
///
/// @code
/// namespace td = tessera::dataframe;
/// auto df = td::read_csv("trips/*.csv", {.parse_dates = {"When"}}).set_index("When");
/// auto daily = df.resample("1D").mean();                                  // one row per day
/// auto hourly = df[{"Fare"}].resample("6h").agg({{"Fare", {"sum", "max"}}});  // Fare_sum, Fare_max
/// td::Table t = tessera::compute(df.resample("15min").size());             // column "size"
/// @endcode
///
/// Rules: a count (default 1) and a unit: "s"/"S" (seconds), "min"/"T" (minutes), "h"/"H"
/// (hours), "D" (days). Bins are left-closed and left-labelled ([label, label + step)), as
/// pandas' default for these rules; they are anchored as pandas' origin="start_day": at
/// midnight of the first index value's day. For a step that divides a day (1h, 15min, 1D...)
/// that is the same as anchoring at the epoch, so the bins are known without the data; for
/// another step (7min, 2D...) a small task first finds the first index value.
///
/// The result is indexed by the bin labels (datetime, named as the input's index), sorted, one
/// row per bin from the first non-empty bin to the last, empty bins included as pandas does
/// (sum, count and size 0; the other functions null). Functions: sum, mean, count, size, min,
/// max, std, var (ddof 1), first, last, nulls and NaN skipped (skipna); as groupby().agg():
/// agg() names its columns "<column>_<function>", the one-function methods keep the names
/// and, as groupby's, leave out the columns the function does not apply to (string columns
/// but for count; datetime columns for sum, mean, std and var).
///
/// Across partitions: each partition's rows give partial aggregates per bin (groupby's
/// accumulators); a chain of small tasks carries the last open bin of the preceding
/// partitions (several short or empty ones if need be) to the next, so a bin that straddles
/// partition boundaries is combined once; the result has the input's number of partitions.
/// One small task also gathers every partition's first and last bin (so the output runs from
/// the first non-empty bin to the last): no output partition is computed before every input
/// partition has been aggregated (their partial bins, not their rows, are kept meanwhile).
/// With known divisions and a step that divides a day, output partition i holds the bins
/// whose labels lie in [bin(d_i), bin(d_i+1)) and the result keeps divisions (the bins of the
/// input's); otherwise each partition holds the bins its own rows close, and divisions are
/// unknown.
///
/// Differences from pandas, on purpose: an int64 column's min/max/first/last of an empty bin
/// is a null int64 (pandas makes the column float64 with NaN); rules with other units ("W",
/// "M", "ms") are refused; an index that is not sorted is an error (pandas sorts it): rows out
/// of order inside a partition fail its task naming the rule and the index; across partitions
/// disorder is caught where a partition starts in an earlier bin than the one before it ended.
/// Collective: build and compute on the driver (rank 0 under MPI). Thread safety: immutable
/// handles; const members may be called concurrently.

#include <tessera/collections/dataframe/dataframe.hpp>  // DataFrame (included at its end)

#include <cstdint>
#include <string>

namespace tessera::dataframe {

/// DataFrame.resample(rule): each aggregation gives a DataFrame indexed by the bin labels.
class Resampler {
public:
  /// Throws: GraphError naming the rule when it is not "<count><unit>" with a unit above or
  /// its count is below 1; TypeError when the frame's index is not one datetime column
  /// (naming the index and its dtype).
  Resampler(DataFrame frame, std::string rule);

  /// Columns "<column>_<function>" in spec order ({"", {"size"}}: a column "size").
  /// Throws: ColumnError for an unknown column or the index; TypeError for a function the
  /// column's dtype lacks (string sum, datetime mean, ...) or an unknown one, naming both.
  [[nodiscard]] DataFrame agg(const AggSpec& spec) const;
  /// One function on every column; the columns keep their names. Throws: as agg().
  [[nodiscard]] DataFrame sum() const { return one("sum"); }
  [[nodiscard]] DataFrame mean() const { return one("mean"); }
  [[nodiscard]] DataFrame count() const { return one("count"); }
  [[nodiscard]] DataFrame min() const { return one("min"); }
  [[nodiscard]] DataFrame max() const { return one("max"); }
  [[nodiscard]] DataFrame std() const { return one("std"); }
  [[nodiscard]] DataFrame var() const { return one("var"); }
  [[nodiscard]] DataFrame first() const { return one("first"); }
  [[nodiscard]] DataFrame last() const { return one("last"); }
  /// Rows per bin: one int64 column "size".
  [[nodiscard]] DataFrame size() const { return build({{"", {"size"}}}, false); }

  [[nodiscard]] const std::string& rule() const noexcept { return m_rule; }
  /// The bin width in nanoseconds.
  [[nodiscard]] std::int64_t step_ns() const noexcept { return m_step; }

private:
  [[nodiscard]] DataFrame one(const std::string& fn) const;
  [[nodiscard]] DataFrame build(const AggSpec& spec, bool flat_names) const;

  DataFrame m_frame;
  std::string m_rule;
  std::int64_t m_step;
};

}  // namespace tessera::dataframe
