#pragma once

/// @file
/// tessera::dataframe: Dask DataFrame in C++. A DataFrame is a list of partitions, each a
/// `Delayed<Table>` task, with a schema (column names and dtypes) known when the expression is
/// built, so unknown columns and dtype errors are thrown at build time. All tasks are pure
/// (keys from function and arguments), so the same graph runs on the sync, threads and MPI
/// schedulers, and equal expressions share their tasks.
///
/// @code
/// namespace td = tessera::dataframe;
/// auto df = td::read_csv("flights/*.csv", {.parse_dates = {"Date"}, .na_values = {"NA"}});
/// double worst = tessera::compute(df["DepDelay"].max());                 // skips nulls
/// auto on_time = df[df["DepDelay"] <= 0 && !df["Cancelled"]];            // lazy filter
/// td::Table by_origin = tessera::compute(df.groupby("Origin")["DepDelay"].mean());
/// td::Table stats = tessera::compute(df.groupby({"Origin", "Dest"}).agg(
///     {{"DepDelay", {"mean", "max", "count"}}, {"Distance", {"sum"}}}));   // DepDelay_mean, ...
/// td::to_csv(on_time, "out/part-*.csv");
/// td::to_hdf5(df, "flights.h5", "/flights");                            // h5py / pandas read it
/// std::cout << tessera::compute(df.describe()) << "\n";
/// std::int64_t kept = tessera::compute(on_time["DepDelay"].count());
/// @endcode
///
/// What is here: column selection, boolean filtering with column expressions (operators,
/// pandas' datetime/timedelta arithmetic, isna/fillna, astype, where, .str() and .dt() of
/// series_methods.hpp, to_timedelta), assign, dropna,
/// drop_duplicates, nlargest/nsmallest, repartition, concat, from_delayed/to_delayed,
/// map_partitions, apply_rows (typed row lambdas, apply.hpp), head/tail, Series reductions (sum,
/// mean, min, max, count, std, var; nulls skipped as pandas' skipna), exact quantile, rolling
/// windows (rolling.hpp), resample on a datetime index (resample.hpp), describe, value_counts,
/// groupby on one or several keys with agg (sum, mean, count, size, min, max, std, var, first,
/// last) by tree reduction (suited to groups that fit in one task's memory), compute() to a Table;
/// through the shuffle: merge (hash join, or broadcast of a one-partition side), sort_values (range
/// partitioning), set_index with known divisions and loc on it. I/O: read_csv/to_csv (csv.hpp),
/// read_hdf5/to_hdf5 in a documented columnar layout (hdf5.hpp). High-cardinality groupby:
/// GroupByOptions::split_out.
///
/// Differences from pandas, on purpose: integer columns with nulls stay int64 (nullable, shown
/// "<NA>") instead of becoming float64; the default index is positional: a computed result's
/// range index counts 0..n-1 over the whole result (after a filter too); groupby().agg() with a
/// list of functions names its columns "<column>_<function>" (pandas' MultiIndex columns,
/// flattened); a multi-key index prints every level on every row.
///
/// Collective: with the MPI scheduler build and compute on rank 0 only (the driver).
/// Thread safety: DataFrame, Series and GroupBy are immutable handles; const members may be
/// called concurrently.

#include <tessera/collections/dataframe/csv.hpp>
#include <tessera/collections/dataframe/detail/expr.hpp>
#include <tessera/collections/dataframe/detail/row_apply.hpp>  // apply_rows()'s DeduceResult
#if defined(TESSERA_HAVE_HDF5_IO)
#include <tessera/collections/dataframe/hdf5.hpp>  // to_hdf5, read_hdf5
#endif
#include <tessera/collections/dataframe/schema.hpp>
#include <tessera/collections/dataframe/table.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/compute.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::dataframe {

class Series;
class GroupBy;
class StringMethods;    // series_methods.hpp
class DatetimeMethods;  // series_methods.hpp
class CategoricalMethods;  // series_methods.hpp
class Rolling;          // rolling.hpp
class SeriesRolling;    // rolling.hpp
class Resampler;        // resample.hpp

/// A duration literal (pandas' Timedelta) for column expressions, in nanoseconds:
/// `df["Arr"] - df["Dep"] > td::Timedelta::minutes(90)`, `df["Date"] + td::Timedelta::days(1)`.
struct Timedelta {
  std::int64_t ns = 0;
  static constexpr Timedelta nanoseconds(std::int64_t n) { return {n}; }
  static constexpr Timedelta microseconds(std::int64_t n) { return {n * 1'000}; }
  static constexpr Timedelta milliseconds(std::int64_t n) { return {n * 1'000'000}; }
  static constexpr Timedelta seconds(std::int64_t n) { return {n * 1'000'000'000}; }
  static constexpr Timedelta minutes(std::int64_t n) { return {n * 60'000'000'000}; }
  static constexpr Timedelta hours(std::int64_t n) { return {n * 3'600'000'000'000}; }
  static constexpr Timedelta days(std::int64_t n) { return {n * 86'400'000'000'000}; }
};

/// A scalar operand of a column expression: int, double, bool, string or Timedelta (a string
/// next to a datetime column is parsed as a date, "1990-01-31"; next to a timedelta column as a
/// duration, "0 days 01:30:00" or "90min", see parse_timedelta).
struct Scalar {
  detail::ExprNode node;
  Scalar(int v);
  Scalar(std::int64_t v);
  Scalar(double v);
  Scalar(bool v);
  Scalar(const char* v);
  Scalar(std::string v);
  Scalar(Timedelta v);
};

/// merge() options, as pandas' merge: key columns (`on` both sides, or `left_on` with
/// `right_on`; none: the columns both sides have), the join type, and the suffixes of other
/// column names both sides have; as Dask's merge, `npartitions`: the output partitions of a
/// hash join (0: the larger side's count). More, smaller ones bound the memory one join task
/// needs (its two inputs, an index of the right one, its output: about 4 times a side's
/// partition for tables of a few numeric columns); a broadcast join keeps the other side's.
struct MergeOptions {
  std::vector<std::string> on = {};
  std::vector<std::string> left_on = {};
  std::vector<std::string> right_on = {};
  std::string how = "inner";  // "inner", "left", "right" or "outer"
  std::pair<std::string, std::string> suffixes{"_x", "_y"};
  std::size_t npartitions = 0;
};

/// join() options, as pandas' DataFrame.join on the index: the join type (default "left", as
/// pandas) and the suffixes of column names both sides have (none given: such names are an
/// error, as in pandas).
struct JoinOptions {
  std::string how = "left";  // "inner", "left", "right" or "outer"
  std::string lsuffix = {};
  std::string rsuffix = {};
};

/// sort_values() options: ascending for every sort column, or `ascending_each` per column; as
/// Dask's sort_values, `npartitions`: the output partitions (0: as many as the input has). More,
/// smaller ones bound the memory one sort task needs (its pieces, the row order at 12 B a row,
/// its output: about twice its partition).
struct SortOptions {
  bool ascending = true;
  std::vector<bool> ascending_each = {};
  std::size_t npartitions = 0;
};

/// set_index() options: the scheduler that computes the divisions (null: the default one).
struct SetIndexOptions {
  std::shared_ptr<Scheduler> scheduler = nullptr;
};

/// rolling() options (rolling.hpp): the fewest non-null values a window needs for a value
/// (default: window; 0 allowed: a window of no values sums to 0, its other statistics are NaN).
struct RollingOptions {
  std::optional<std::int64_t> min_periods = std::nullopt;
};

/// groupby().agg() specification: per column, the functions, in output order.
using AggSpec = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// groupby() options: how many partitions agg() (and sum(), mean(), ...) give, as Dask's
/// split_out. 1: a tree reduction into one partition (its last task holds every group). n > 1:
/// each partition's partial groups are range-partitioned by key through the shuffle into n
/// partitions (boundaries sampled as sort_values samples rows), so no task holds all groups;
/// each partition is sorted by key and they follow one another in key order, so the computed
/// Table equals the one-partition result. 0 (the default): chosen automatically: the tree
/// below 16 partitions; else the shuffle into npartitions outputs, where the groups all go to
/// the first output when the partial groups hold under `collapse_below` bytes in total.
struct GroupByOptions {
  std::size_t split_out = 0;
  std::uint64_t collapse_below = std::uint64_t{32} << 20;
};

/// A lazy partitioned table; see the file comment.
class DataFrame {
public:
  /// Partitions that each compute to a Table of `schema` (not checked until computed).
  DataFrame(Schema schema, std::vector<Delayed<Table>> partitions);

  [[nodiscard]] const Schema& schema() const noexcept { return m_schema; }
  [[nodiscard]] std::vector<std::string> columns() const { return m_schema.column_names(); }
  [[nodiscard]] std::size_t npartitions() const noexcept { return m_parts.size(); }
  [[nodiscard]] const std::vector<Delayed<Table>>& partitions() const noexcept { return m_parts; }
  /// Identity of the rows: keys of the partitions that fixed them. Operations that keep the
  /// rows (assign, column selection) keep it, so a Series of `df` may filter or be assigned to
  /// `df.assign(...)` too.
  [[nodiscard]] const std::vector<Key>& row_keys() const noexcept { return m_row_keys; }

  /// One column as a Series. Throws: ColumnError naming it and listing the columns.
  [[nodiscard]] Series operator[](std::string_view column) const;
  /// Only these columns, in this order. Throws: ColumnError.
  [[nodiscard]] DataFrame operator[](std::initializer_list<std::string> columns) const;
  [[nodiscard]] DataFrame operator[](const std::vector<std::string>& columns) const;
  /// Rows where `mask` (a bool Series of this DataFrame) is true; null counts as false.
  /// Throws: TypeError if mask is not bool; GraphError if it belongs to another DataFrame.
  [[nodiscard]] DataFrame operator[](const Series& mask) const;

  /// First n rows, taken from the first `npartitions` partitions (as Dask: 1 by default;
  /// -1: all; a sorted frame (sort_values, set_index) reads on until it has n). One partition.
  [[nodiscard]] DataFrame head(std::int64_t n = 5, int npartitions = 1) const;
  /// Last n rows of the last partition.
  [[nodiscard]] DataFrame tail(std::int64_t n = 5) const;
  /// A new or replaced column computed from `values` (a Series of this DataFrame).
  /// Throws: GraphError if values belongs to another DataFrame.
  [[nodiscard]] DataFrame assign(std::string column, const Series& values) const;
  /// A column of one value on every row.
  [[nodiscard]] DataFrame assign(std::string column, const Scalar& value) const;
  /// f(Table) -> Table on every partition. The output schema is what f returns for an empty
  /// Table of this schema (Dask's meta); f must be serializable for MPI (see tessera::delayed).
  template <class F>
  [[nodiscard]] DataFrame map_partitions(F f, std::string name = "map_partitions") const;

  /// pandas' apply(f, axis=1): f called on each row with the values of `columns` as its typed
  /// arguments, giving a Series `name` of this frame's rows (apply.hpp: parameter and result
  /// types, nulls). R: the result type (default: f's). Throws: GraphError when `columns` has
  /// not one name per parameter; ColumnError for an unknown column; TypeError naming a column
  /// whose dtype does not fit its parameter's type. f throwing fails the task, naming the row.
  template <class R = detail::DeduceResult, class F>
  [[nodiscard]] Series apply_rows(const std::vector<std::string>& columns, F f, std::string name = "apply") const;

  /// Groups by one or several columns. Throws: ColumnError.
  [[nodiscard]] GroupBy groupby(std::string_view key, const GroupByOptions& options = {}) const;
  [[nodiscard]] GroupBy groupby(std::initializer_list<std::string> keys, const GroupByOptions& options = {}) const;
  [[nodiscard]] GroupBy groupby(const std::vector<std::string>& keys, const GroupByOptions& options = {}) const;

  /// Rows without a null (or NaN) in `subset` (every column when empty), as pandas' dropna().
  /// Throws: ColumnError.
  [[nodiscard]] DataFrame dropna(const std::vector<std::string>& subset = {}) const;
  /// Rows whose values in `subset` (every column when empty) came before, dropped, as pandas'
  /// drop_duplicates(keep="first"); nulls equal nulls. Several partitions are hash-shuffled on
  /// those columns first (as Dask: rows come out grouped by hash, each key's first occurrence
  /// kept). Throws: ColumnError.
  [[nodiscard]] DataFrame drop_duplicates(const std::vector<std::string>& subset = {}) const;
  /// The n rows with the largest (smallest) values of `column`, in that order, ties in frame
  /// order (pandas' keep="first"), nulls and NaN never chosen; one partition, from a top n per
  /// partition. Throws: ColumnError; TypeError for string and bool columns; GraphError for n < 0.
  [[nodiscard]] DataFrame nlargest(std::int64_t n, const std::string& column) const;
  [[nodiscard]] DataFrame nsmallest(std::int64_t n, const std::string& column) const;
  /// The same rows in `npartitions` partitions, in order, as Dask's repartition(npartitions=):
  /// adjacent partitions concatenated (fewer) or each cut into equal row ranges (more). Known
  /// divisions are dropped. Throws: GraphError for 0.
  [[nodiscard]] DataFrame repartition(std::size_t npartitions) const;
  /// The partitions (Dask's to_delayed()).
  [[nodiscard]] std::vector<Delayed<Table>> to_delayed() const { return m_parts; }

  /// pandas' describe(): count, mean, std, min, 25%, 50%, 75%, max of the numeric (non-bool)
  /// columns. Quantiles are exact while a partition has at most 10000 non-null values, and
  /// drawn from 10000 evenly spaced order statistics per partition above that (approximate).
  [[nodiscard]] DataFrame describe() const;
  /// Number of rows.
  [[nodiscard]] Delayed<std::int64_t> length() const;
  /// Rolling windows of `window` rows over every column (rolling.hpp). Throws: GraphError for
  /// window < 1 or a bad min_periods; TypeError naming a column that is not int64/float64/bool.
  [[nodiscard]] Rolling rolling(std::int64_t window, const RollingOptions& options = {}) const;
  /// pandas' resample(rule) on a sorted datetime index: fixed-frequency bins ("30s", "15min",
  /// "1h", "1D"; resample.hpp). Throws: GraphError naming a bad rule; TypeError when the index
  /// is not one datetime column.
  [[nodiscard]] Resampler resample(std::string rule) const;
  /// pandas' quantile(qs) of the int64 and float64 columns (bool and others left out): one
  /// partition, index = the qs (float64), exact (rolling.hpp). Throws: GraphError naming a q
  /// outside [0, 1] (or NaN) or for no qs; TypeError when there is no such column.
  [[nodiscard]] DataFrame quantile(const std::vector<double>& qs) const;

  /// pandas' merge with `right` (see MergeOptions). Both sides are hash-shuffled on their key
  /// columns into options.npartitions partitions (0: max(npartitions)), worker to worker under
  /// MPI, and joined there; a
  /// side of one partition is broadcast instead (the other side is not shuffled) for inner
  /// joins and when it is the right side of a left join or the left side of a right join.
  /// Null (and NaN) keys match each other, as in pandas. Columns: the left ones, then the right
  /// ones without the keys both sides name alike (those hold the left value, or the right one
  /// on right-only rows); other names both sides have get the suffixes. Rows a side lacks are
  /// null there; int64 columns stay int64 (nullable) where pandas makes them float64. Row
  /// order within a partition: left rows in order, each with its matches in right order, then
  /// the right-only rows (pandas' outer join sorts by key; compare sorted).
  /// Throws: ColumnError for an unknown key column (naming it and listing that side's
  /// columns) or suffixes that still clash; TypeError for key columns of different dtypes
  /// (naming both and their dtypes); GraphError for a bad `how` or key lists of unequal length.
  [[nodiscard]] DataFrame merge(const DataFrame& right, const MergeOptions& options = {}) const;

  /// pandas' join of `other` on the index: rows whose index labels are equal are joined (both
  /// frames indexed by one column of the same dtype, e.g. by set_index), through merge's hash
  /// shuffle. The result is indexed by the labels, named as this frame's index; columns are this
  /// frame's, then the other's, names both have taking lsuffix / rsuffix. Known divisions are
  /// not used (Dask aligns partitions when both sides have them) and the result has none; row
  /// order as merge's (compare sorted). Throws: GraphError when a side has no single index
  /// column or for a bad `how`; TypeError for index columns of different dtypes, naming both;
  /// ColumnError naming the shared columns when no suffix is given.
  [[nodiscard]] DataFrame join(const DataFrame& other, const JoinOptions& options = {}) const;

  /// Rows sorted by one or several columns (pandas' sort_values, stable: ties keep their
  /// order), nulls and NaN last whatever the direction. Sample-based range partitioning through
  /// the shuffle: up to 256 rows sampled per partition (weighted by its size) give
  /// npartitions - 1 boundaries, each row goes to its range's output partition (equal keys to
  /// the same one), each output is sorted. options.npartitions partitions (0: the same number);
  /// partition i holds rows before partition i + 1's, so head(n) gives the global first n.
  /// Throws: ColumnError for an unknown column; GraphError when ascending_each has another
  /// length than the columns.
  [[nodiscard]] DataFrame sort_values(const std::string& column, const SortOptions& options = {}) const;
  [[nodiscard]] DataFrame sort_values(const std::vector<std::string>& columns, const SortOptions& options = {}) const;
  [[nodiscard]] DataFrame sort_values(std::initializer_list<std::string> columns, const SortOptions& options = {}) const {
    return sort_values(std::vector<std::string>(columns), options);
  }

  /// The column as a sorted index (removed from the columns) with known divisions: its
  /// boundaries are computed now (as Dask computes set_index's divisions), on
  /// options.scheduler, then the rows are range-partitioned as sort_values does. Nulls go last
  /// and lie outside every division. Collective: like compute(), on the driver only.
  /// Throws: ColumnError for an unknown column.
  [[nodiscard]] DataFrame set_index(const std::string& column, const SetIndexOptions& options = {}) const;
  /// Rows whose index lies in [lo, hi] (both ends included, as pandas' .loc) of a DataFrame
  /// with known divisions; only partitions whose divisions overlap [lo, hi] are read. A string
  /// bound of a datetime index is a date ("1990-01-31", "1990-01-31 12:00").
  /// Throws: GraphError without known divisions; TypeError for a bound that does not fit the
  /// index dtype (naming the bound, the index and its dtype).
  [[nodiscard]] DataFrame loc(const Scalar& lo, const Scalar& hi) const;
  /// Dask's divisions: npartitions + 1 index values (each partition's first bound, then the
  /// last partition's last value) as a one-column Table; no columns when unknown.
  [[nodiscard]] const Table& divisions() const noexcept { return m_divisions; }
  [[nodiscard]] bool known_divisions() const noexcept { return m_divisions.num_columns() == 1; }

private:
  friend class Resampler;  // keeps known divisions (with_order)

  [[nodiscard]] DataFrame keeping_rows(DataFrame out) const {
    out.m_row_keys = m_row_keys;
    return keeping_order(std::move(out));
  }
  /// out (the same index, fewer or the same rows) with this frame's divisions and order.
  [[nodiscard]] DataFrame keeping_order(DataFrame out) const {
    out.m_divisions = m_divisions;
    out.m_ordered = m_ordered;
    return out;
  }

  /// nlargest (largest) or nsmallest.
  [[nodiscard]] DataFrame top(std::int64_t n, const std::string& column, bool largest) const;
  /// This frame's schema and order flags over other partitions (no divisions).
  [[nodiscard]] DataFrame with_parts(std::vector<Delayed<Table>> parts) const {
    DataFrame out(m_schema, std::move(parts));
    out.m_ordered = m_ordered;
    return out;
  }
  /// The same frame with known divisions (set_index, loc) or globally ordered partitions.
  [[nodiscard]] DataFrame with_order(Table divisions, bool ordered) const {
    DataFrame out = *this;
    out.m_divisions = std::move(divisions);
    out.m_ordered = ordered;
    return out;
  }

  Schema m_schema;
  std::vector<Delayed<Table>> m_parts;
  std::vector<Key> m_row_keys;
  Table m_divisions;
  bool m_ordered = false;  // partition i's rows come before partition i + 1's
};

/// One column (or a column expression) of a DataFrame.
class Series {
public:
  Series(DataFrame frame, detail::Expr expr, std::string name);

  [[nodiscard]] DType dtype() const { return m_expr.dtype(); }
  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  [[nodiscard]] const DataFrame& frame() const noexcept { return m_frame; }
  [[nodiscard]] const detail::Expr& expr() const noexcept { return m_expr; }
  /// The same values under another name.
  [[nodiscard]] Series rename(std::string name) const;

  [[nodiscard]] Series isna() const;
  [[nodiscard]] Series notna() const;
  /// Nulls replaced by `value`. Throws: TypeError if value does not fit the dtype.
  [[nodiscard]] Series fillna(const Scalar& value) const;
  /// The values as dtype `to`, as pandas' astype; nulls stay null. Accepted: int64 to any;
  /// float64 to int64 (toward zero) and bool; bool to int64 and float64; string to int64,
  /// float64 (as Python's int()/float()) and datetime ("YYYY-MM-DD[ HH:MM:SS]"); datetime to
  /// int64 (nanoseconds); anything to string (floats as Python's repr, bools "True"/"False",
  /// datetimes "YYYY-MM-DD" at midnight, else with the time); string to category (categories:
  /// the partition's distinct values, sorted, see table.hpp) and category back to string.
  /// Other dtypes to category are refused (pandas would keep their dtype as the categories'
  /// dtype, which tessera's string categories cannot). Throws: TypeError for another
  /// pair at build time; a value that does not convert (NaN to int64, "abc" to float64) fails
  /// its task with a TypeError naming the expression, the row and the value.
  [[nodiscard]] Series astype(DType to) const;
  /// pandas' where: each value where `cond` (a bool Series of the same DataFrame) is true,
  /// null where it is false or null. Throws: TypeError if cond is not bool, GraphError if it is
  /// of another DataFrame.
  [[nodiscard]] Series where(const Series& cond) const;
  /// The same, with `other` where cond is not true (an int64 Series with a float `other`
  /// becomes float64). Throws: also TypeError if `other` does not fit the dtype.
  [[nodiscard]] Series where(const Series& cond, const Scalar& other) const;
  /// pandas' .str: string methods. Throws: TypeError if the Series is not a string column.
  [[nodiscard]] StringMethods str() const;
  /// pandas' .dt: datetime fields, or timedelta components (days, seconds, total_seconds).
  /// Throws: TypeError if the Series is neither datetime64[ns] nor timedelta64[ns].
  [[nodiscard]] DatetimeMethods dt() const;
  /// pandas' .cat: a categorical's codes. Throws: TypeError if the Series is not a category.
  [[nodiscard]] CategoricalMethods cat() const;
  /// Absolute values of an int64, float64 or timedelta64[ns] Series. Throws: TypeError otherwise.
  [[nodiscard]] Series abs() const;

  /// Reductions over the non-null values (pandas skipna). sum of no values is 0; mean, min,
  /// max, std, var of no values are NaN; std/var with `ddof` (1, as pandas). datetime min/max
  /// and timedelta sum/mean/min/max/std are nanoseconds (pandas gives a Timedelta: truncate
  /// toward zero for its value; a double holds nanoseconds exactly up to 2^53, about 104 days;
  /// format_timedelta prints one). Throws: TypeError for string columns and timedelta var.
  [[nodiscard]] Delayed<double> sum() const;
  [[nodiscard]] Delayed<double> mean() const;
  [[nodiscard]] Delayed<double> min() const;
  [[nodiscard]] Delayed<double> max() const;
  [[nodiscard]] Delayed<double> std(double ddof = 1) const;
  [[nodiscard]] Delayed<double> var(double ddof = 1) const;
  /// Number of non-null values.
  [[nodiscard]] Delayed<std::int64_t> count() const;
  /// pandas' quantile with linear interpolation over the non-null values, exact (NaN when
  /// there are none); qs: a one-column DataFrame (this name) indexed by the qs. quantile({0.5})
  /// picks the scalar overload: write quantile(std::vector<double>{0.5}) for the table.
  /// Throws: GraphError naming a q outside [0, 1] (or NaN); TypeError for string columns.
  [[nodiscard]] Delayed<double> quantile(double q) const;
  [[nodiscard]] DataFrame quantile(const std::vector<double>& qs) const;
  /// Rolling windows (rolling.hpp). Throws: as DataFrame::rolling.
  [[nodiscard]] SeriesRolling rolling(std::int64_t window, const RollingOptions& options = {}) const;
  /// The non-null values, as a Series of a new DataFrame.
  [[nodiscard]] Series dropna() const;
  /// The distinct non-null values, sorted, as a one-column DataFrame (Dask's unique(); in
  /// several partitions, in key order, for many partitions: see GroupByOptions).
  [[nodiscard]] DataFrame unique() const;
  /// Number of distinct non-null values.
  [[nodiscard]] Delayed<std::int64_t> nunique() const;
  /// Counts of each distinct non-null value: index = the values, column "count", by count
  /// descending (ties: by value).
  [[nodiscard]] DataFrame value_counts() const;
  /// The series as a one-column DataFrame.
  [[nodiscard]] DataFrame to_frame() const;

private:
  DataFrame m_frame;
  detail::Expr m_expr;
  std::string m_name;
};

// Column expressions: arithmetic (int64 op int64 is int64, / is float64), comparisons (false
// where either side is null, != true), logical (on bool; null is false). With pandas' rules
// for durations: datetime - datetime is timedelta64[ns]; datetime +/- timedelta is datetime;
// timedelta +/- timedelta, timedelta * int64/float64 and timedelta / int64/float64 are
// timedelta (fractions of a nanosecond toward zero; / 0 is NaT); timedelta / timedelta is
// float64; timedelta compares with timedelta, and unary - negates it. Throws: TypeError
// naming both operands and dtypes (any other pair with a datetime or timedelta, e.g.
// datetime + datetime or timedelta + int64); GraphError for Series of different DataFrames.
Series operator+(const Series& a, const Series& b);
Series operator-(const Series& a, const Series& b);
Series operator*(const Series& a, const Series& b);
Series operator/(const Series& a, const Series& b);
Series operator%(const Series& a, const Series& b);
Series operator-(const Series& a);
Series operator<(const Series& a, const Series& b);
Series operator<=(const Series& a, const Series& b);
Series operator>(const Series& a, const Series& b);
Series operator>=(const Series& a, const Series& b);
Series operator==(const Series& a, const Series& b);
Series operator!=(const Series& a, const Series& b);
Series operator&&(const Series& a, const Series& b);
Series operator||(const Series& a, const Series& b);
Series operator!(const Series& a);
#define TESSERA_DF_SCALAR_OP(OP)                     \
  Series operator OP(const Series& a, const Scalar& b); \
  Series operator OP(const Scalar& a, const Series& b);
TESSERA_DF_SCALAR_OP(+)
TESSERA_DF_SCALAR_OP(-)
TESSERA_DF_SCALAR_OP(*)
TESSERA_DF_SCALAR_OP(/)
TESSERA_DF_SCALAR_OP(%)
TESSERA_DF_SCALAR_OP(<)
TESSERA_DF_SCALAR_OP(<=)
TESSERA_DF_SCALAR_OP(>)
TESSERA_DF_SCALAR_OP(>=)
TESSERA_DF_SCALAR_OP(==)
TESSERA_DF_SCALAR_OP(!=)
#undef TESSERA_DF_SCALAR_OP

/// pd.to_timedelta: an int64 or float64 Series as durations of `unit` ("D"/"days", "h",
/// "m"/"min", "s", "ms", "us", "ns"; floats toward zero, NaN to NaT), or a string Series parsed
/// (parse_timedelta; unit must be "ns"). Throws: TypeError for another dtype, an unknown unit
/// or a unit with strings; at compute a TypeError naming the row of a string that does not
/// parse or a number that overflows.
Series to_timedelta(const Series& s, std::string_view unit = "ns");

/// Grouped rows of a DataFrame, optionally restricted to some value columns.
class GroupBy {
public:
  GroupBy(DataFrame frame, std::vector<std::string> keys, std::vector<std::string> selected = {},
          GroupByOptions options = {});

  /// Only these value columns. Throws: ColumnError.
  [[nodiscard]] GroupBy operator[](std::string_view column) const;
  [[nodiscard]] GroupBy operator[](std::initializer_list<std::string> columns) const;

  /// One partition: index = the keys (sorted; rows with a null key dropped, as pandas),
  /// columns "<column>_<function>" in spec order. Functions: sum, mean, count, size, min,
  /// max, std, var, first, last. Throws: ColumnError; TypeError for a function the column's
  /// dtype lacks (sum/mean/std/var/min/max/first/last of strings) or an unknown function.
  [[nodiscard]] DataFrame agg(const AggSpec& spec) const;
  /// One function on every selected column (all non-key columns when none were selected);
  /// the columns keep their names. size(): one column "size".
  [[nodiscard]] DataFrame sum() const { return one("sum"); }
  [[nodiscard]] DataFrame mean() const { return one("mean"); }
  [[nodiscard]] DataFrame count() const { return one("count"); }
  [[nodiscard]] DataFrame min() const { return one("min"); }
  [[nodiscard]] DataFrame max() const { return one("max"); }
  [[nodiscard]] DataFrame std() const { return one("std"); }
  [[nodiscard]] DataFrame var() const { return one("var"); }
  [[nodiscard]] DataFrame first() const { return one("first"); }
  [[nodiscard]] DataFrame last() const { return one("last"); }
  [[nodiscard]] DataFrame size() const;

private:
  [[nodiscard]] DataFrame one(const std::string& fn) const;
  [[nodiscard]] DataFrame build(const AggSpec& spec, bool flat_names) const;

  DataFrame m_frame;
  std::vector<std::string> m_keys;
  std::vector<std::string> m_selected;
  GroupByOptions m_options;
};

/// The rows of `frames` one after another (pandas' and Dask's concat), their partitions in
/// turn. Throws: TypeError naming the first column (name or dtype) that differs; GraphError
/// for no frames.
DataFrame concat(const std::vector<DataFrame>& frames);
/// A DataFrame of delayed tables (Dask's from_delayed) with the schema `meta`; a partition of
/// other columns fails its task with a TypeError naming the partition and both column lists.
/// Throws: GraphError for no partitions.
DataFrame from_delayed(const std::vector<Delayed<Table>>& parts, const Schema& meta);

template <class F>
DataFrame DataFrame::map_partitions(F f, std::string name) const {
  const Table meta = f(empty_table(m_schema));
  auto fn = tessera::delayed(std::move(f), {.name = std::move(name), .pure = true});
  std::vector<Delayed<Table>> out;
  out.reserve(m_parts.size());
  for (const auto& p : m_parts) out.push_back(fn(p));
  return DataFrame(schema_of(meta), std::move(out));
}

}  // namespace tessera::dataframe

namespace tessera {

/// compute(DataFrame) gives the Table of all partitions, one after another.
template <>
struct Collection<dataframe::DataFrame> {
  using result_type = dataframe::Table;
  static void roots(const dataframe::DataFrame& d, std::vector<detail::NodePtr>& out) {
    for (const auto& p : d.partitions()) Collection<Delayed<dataframe::Table>>::roots(p, out);
  }
  static dataframe::Table finalize(const dataframe::DataFrame& d, std::span<const Value> v);
  static dataframe::DataFrame rebuild(const dataframe::DataFrame& d, std::span<const detail::NodePtr> n) {
    std::vector<Delayed<dataframe::Table>> parts;
    for (const auto& x : n) parts.emplace_back(x);
    return dataframe::DataFrame(d.schema(), std::move(parts));
  }
};

/// compute(Series) gives a one-column Table.
template <>
struct Collection<dataframe::Series> {
  using result_type = dataframe::Table;
  static void roots(const dataframe::Series& s, std::vector<detail::NodePtr>& out) {
    Collection<dataframe::DataFrame>::roots(s.to_frame(), out);
  }
  static dataframe::Table finalize(const dataframe::Series& s, std::span<const Value> v) {
    return Collection<dataframe::DataFrame>::finalize(s.to_frame(), v);
  }
  static dataframe::DataFrame rebuild(const dataframe::Series& s, std::span<const detail::NodePtr> n) {
    return Collection<dataframe::DataFrame>::rebuild(s.to_frame(), n);
  }
};

}  // namespace tessera

#include <tessera/collections/dataframe/series_methods.hpp>  // Series::str(), Series::dt()
#include <tessera/collections/dataframe/rolling.hpp>         // rolling(), quantile()
#include <tessera/collections/dataframe/resample.hpp>        // resample()
#include <tessera/collections/dataframe/apply.hpp>           // apply_rows()
