#pragma once

/// @file
/// CSV input and output of DataFrames.
///
/// @code
/// namespace td = tessera::dataframe;
/// auto df = td::read_csv("flights/*.csv", {.parse_dates = {"Date"}, .na_values = {"NA"},
///                                         .blocksize = 64 << 20});
/// auto files = td::to_csv(df[df["DepDelay"] > 0], "out/part-*.csv");   // runs; one file each
/// @endcode
///
/// read_csv, as pandas.read_csv / dask.dataframe.read_csv:
///  - files: a glob pattern (sorted matches) or a list; each file begins with a header record.
///  - dtypes are inferred on the driver from the first `sample` bytes of the first file: a
///    column is int64 if every non-NA value there parses as an integer and none is NA, float64
///    if they all parse as numbers (an int column with NA in the sample is float64, as pandas),
///    bool if they are all True/False/true/false/TRUE/FALSE, else string; a column without any
///    value is float64. `dtype` overrides per column (DType::category: the text as a
///    categorical, each partition's categories its sorted distinct values, as pandas'
///    dtype="category"; NA strings are null), `parse_dates` makes columns datetime64
///    (ISO "YYYY-MM-DD[ HH:MM[:SS[.f]]]"), `parse_timedeltas` makes columns timedelta64[ns]
///    (pandas' printed forms "1 days 02:03:04", "-1 days +23:59:59", "02:03:04.5", "2 days",
///    or a number with a unit, "1.5s"; see parse_timedelta in table.hpp; "NaT" is null). A value after the sample that does not fit its
///    column's dtype is a bad row (pass a `dtype` override).
///  - NA: empty fields and pandas' default NA strings ("NA", "N/A", "NaN", "nan", "null",
///    "NULL", "None", "#N/A", "<NA>", "n/a", "-NaN", "-nan", "#NA", "1.#QNAN", ...) unless
///    keep_default_na is false, plus `na_values`.
///  - RFC 4180: fields quoted with '"' may hold the separator, newlines and doubled quotes;
///    CRLF and a missing final newline are accepted; blank lines are skipped.
///  - a row with more fields than the header, or a value its column's dtype cannot hold, is an
///    error "file:line: column 'c': ..." (line: the row's first physical line, the header
///    is line 1), unless on_bad_lines is skip (the row is dropped). A row with fewer fields
///    gets nulls for the missing ones (pandas does the same).
///  - `.gz` (zlib) and `.zst` (zstd) files are decompressed whole, one partition per file.
///  - blocksize > 0 splits an uncompressed file into partitions of about blocksize bytes at
///    record boundaries. A newline inside a quoted field is NOT a boundary: a first task per
///    block counts the block's quote characters and newlines; the parse task of block k gets
///    the counts of blocks 0..k-1, so it knows whether its first byte lies inside quotes
///    (RFC 4180 quoting makes that the parity of the quotes before it) and which line it is
///    on. A block owns the records that begin inside it and reads past its end to finish
///    the last one.
/// Throws at build time: StorageError if no file matches or a file cannot be read; ColumnError
/// for unknown usecols/parse_dates/parse_timedeltas/dtype columns. At compute: ParseError (inside TaskError).
/// Collective: call on rank 0 (the driver); every rank must see the files at the same paths.

#include <tessera/collections/dataframe/table.hpp>
#include <tessera/graph/delayed.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tessera {
class Scheduler;
}

namespace tessera::dataframe {

class DataFrame;

enum class OnBadLines : std::uint8_t { error, skip };

/// Options of read_csv (designated initializers in this order).
struct CsvOptions {
  std::vector<std::string> parse_dates = {};
  std::vector<std::string> parse_timedeltas = {};
  std::vector<std::string> na_values = {};
  bool keep_default_na = true;
  std::vector<std::string> usecols = {};  ///< empty: all columns
  std::vector<std::pair<std::string, DType>> dtype = {};
  std::int64_t blocksize = std::int64_t{64} << 20;  ///< bytes per partition; 0: one per file
  char sep = ',';
  std::size_t sample = 256000;  ///< bytes of the first file that dtype inference reads
  OnBadLines on_bad_lines = OnBadLines::error;
};

DataFrame read_csv(const std::string& pattern, const CsvOptions& options = {});
DataFrame read_csv(const std::vector<std::string>& paths, const CsvOptions& options = {});
DataFrame read_csv(std::initializer_list<std::string> paths, const CsvOptions& options = {});

/// Options of to_csv.
struct CsvWriteOptions {
  bool index = true;  ///< write the index as the first column(s), as pandas
  char sep = ',';
};

/// The write tasks: partition i goes to `pattern` with its '*' replaced by i (a pattern
/// without '*' gets "-i" before its extension), written to a temporary name in the same
/// folder and renamed when complete; each task returns its file name.
/// Throws: StorageError at compute if a file cannot be written.
std::vector<Delayed<std::string>> to_csv_tasks(const DataFrame& df, const std::string& pattern,
                                               const CsvWriteOptions& options = {});
/// Runs to_csv_tasks on the default scheduler (or `scheduler`); returns the file names.
std::vector<std::string> to_csv(const DataFrame& df, const std::string& pattern,
                                const CsvWriteOptions& options = {});
std::vector<std::string> to_csv(const DataFrame& df, const std::string& pattern,
                                const CsvWriteOptions& options, Scheduler& scheduler);

/// One table as CSV text (what to_csv writes per partition).
std::string format_csv(const Table& t, const CsvWriteOptions& options = {});

}  // namespace tessera::dataframe
