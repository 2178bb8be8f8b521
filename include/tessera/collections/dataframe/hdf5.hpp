#pragma once

/// @file
/// HDF5 input and output of DataFrames in a columnar layout that h5py reads and pandas loads
/// (no <hdf5.h> here; pandas.read_hdf wants PyTables' own layout, so load through h5py).
///
/// @code
/// namespace td = tessera::dataframe;
/// td::to_hdf5(df, "flights.h5", "/flights");                      // runs; one group
/// auto back = td::read_hdf5("flights.h5", "/flights", {.partition_rows = 1 << 20});
/// @endcode
///
/// Layout of the group `group` (format "tessera.dataframe/1"):
///  - attributes of the group: `tessera_layout` = "tessera.dataframe/1"; `nrows` (int64);
///    `columns` and `dtypes`: the column names in order and their pandas dtype names ("int64",
///    "float64", "bool", "object", "datetime64[ns]", "timedelta64[ns]", "category"), as arrays of UTF-8 strings (absent when
///    there are no columns); `index_type`: "range" (pandas' RangeIndex 0..nrows-1) or
///    "columns", then `index` and `index_dtypes` name the index columns and their dtypes.
///  - `columns/<name>`: one 1-D dataset of nrows values per column: int64 as little-endian
///    int64; float64 as double (nulls are NaN); bool as h5py's int8 enum FALSE/TRUE (numpy
///    bool in h5py); strings as variable-length UTF-8 strings (h5py gives bytes: `.asstr()[:]`
///    gives str); datetime64[ns] as int64 nanoseconds since 1970-01-01 UTC with the attribute
///    `unit` = "ns" (nulls stored as INT64_MIN, numpy's NaT), so `pd.to_datetime(x, unit="ns")`
///    restores it; timedelta64[ns] likewise as int64 nanoseconds with `unit` = "ns" and NaT
///    for nulls, restored by `pd.to_timedelta(x, unit="ns")`; category as its values, variable-length
///    UTF-8 strings as object columns are (the partitions' categories differ, so no codes are
///    stored), restored by `pd.Categorical(x.asstr()[:])` and read back by read_hdf5 as a
///    category (categories: each partition's sorted values). Every dataset has the attribute
///    `dtype`, its pandas dtype name.
///  - `valid/<name>`: present only for a column with nulls: uint8, 1 where the row holds a
///    value, 0 where it is null (int64 and bool nulls hold 0 and FALSE in the data). read_hdf5
///    also takes an h5py bool mask, and NaT in a datetime or timedelta dataset as null without a mask; a
///    float64 NaN without a mask reads as a NaN value, not a null.
///  - `index/<name>` and `index_valid/<name>`: the index columns, stored as columns are.
/// Datasets are HDF5-chunked (Hdf5WriteOptions::chunk_rows rows) and extendible, optionally
/// gzip-compressed. Loading with h5py and pandas:
/// @code{.py}
/// g = h5py.File("flights.h5")["flights"]
/// df = pd.DataFrame({c: g["columns"][c].asstr()[:] if t in ("object", "category") else g["columns"][c][:]
///                    for c, t in zip(g.attrs["columns"], g.attrs["dtypes"])})
/// df["Date"] = pd.to_datetime(df["Date"], unit="ns")
/// df["Delay"] = pd.to_timedelta(df["Delay"], unit="ns")   # a timedelta64[ns] column
/// for c in g["valid"] if "valid" in g else []: df[c] = df[c].where(g["valid"][c][:] == 1)
/// @endcode
///
/// to_hdf5 works as tessera::array::to_hdf5 with compression: the calling process creates
/// the file if needed and an empty group under a temporary name in the same parent
/// (".<name>.tessera-partial-<pid>-<n>", see array/hdf5_io.hpp); the partitions are computed
/// on the workers, in parallel, and a chain of write tasks, one after the other, each opens
/// the file read-write, appends its partition's rows and closes it, so under MPI the ranks
/// take turns on one file. When every partition is written the group is renamed to `group`
/// (an existing group there is replaced). On failure the temporary group is removed, and so is
/// the file if to_hdf5 created it: nothing is left on disk.
///
/// read_hdf5 reads the layout (attributes, dataset types and lengths) on the calling process
/// and checks it; each partition is a task that opens the file read-only and reads its row
/// range, on the workers.
/// Collective: call on rank 0 (the driver); every rank must see the file at the same path.
/// Thread safety: every HDF5 call holds tessera::detail::hdf5_mutex().

#include <tessera/collections/dataframe/schema.hpp>

#include <cstdint>
#include <string>

namespace tessera {
class Scheduler;
}

namespace tessera::dataframe {

class DataFrame;

/// Options of to_hdf5.
struct Hdf5WriteOptions {
  int compression = 0;               ///< gzip level 1-9; 0: uncompressed
  std::int64_t chunk_rows = 1 << 16;  ///< rows per HDF5 chunk of every dataset
};

/// Options of read_hdf5: rows per partition, or a number of partitions of about equal rows
/// (at most one of the two; neither: partitions of 1Mi rows).
struct Hdf5ReadOptions {
  std::int64_t partition_rows = 0;
  std::int64_t npartitions = 0;
};

/// Writes `df` to the group `group` of `file` (created if missing, parent groups too; a
/// trailing '/' is ignored) in the layout above, on the default scheduler (or `scheduler`),
/// and waits for it.
/// Blocks: yes. Collective: with the MPI scheduler, rank 0 only.
/// Throws: StorageError naming the file and group (not an HDF5 file, cannot create the file
/// or group, the root as group, a column name that cannot be a dataset name: empty, ".", or
/// holding '/', bad options); TaskError if a partition or a write task fails (its message
/// names the file and group; a string holding NUL names the column and row): the file is left
/// as it was, without the temporary group or the parent groups this write created, and a
/// file this write created is removed.
void to_hdf5(const DataFrame& df, const std::string& file, const std::string& group,
             const Hdf5WriteOptions& options = {});
void to_hdf5(const DataFrame& df, const std::string& file, const std::string& group,
             const Hdf5WriteOptions& options, Scheduler& scheduler);

/// A lazy DataFrame over the group `group` of `file` written in the layout above; partitions
/// read contiguous row ranges, with dtypes, nulls, strings, datetimes and the index restored.
/// Throws: StorageError naming the file, the group and, where it applies, the dataset: a
/// missing file, group or dataset, a group without the layout's attributes or of another
/// layout version, an unknown dtype name, a dataset whose HDF5 type does not fit its dtype or
/// whose `dtype` attribute names another one than the group's `dtypes` (naming the column and
/// both dtypes), a mask that is not uint8/bool, datasets of another length than `nrows`
/// (columns of unequal length), an `index_type` that disagrees with `index`, both or
/// negative options.
DataFrame read_hdf5(const std::string& file, const std::string& group, const Hdf5ReadOptions& options = {});

}  // namespace tessera::dataframe
