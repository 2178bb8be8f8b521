#pragma once

/// @file
/// DataFrame <-> Array (Dask's `dd.from_dask_array` and `DataFrame.to_dask_array`).
///
/// @code
/// #include <tessera/collections/dataframe/arrays.hpp>
/// namespace td = tessera::dataframe;
/// std::vector<double> v(12, 1.0);
/// auto x = tessera::array::from_vector(v, {6, 2}, {2, 2});         // 6 x 2, blocks of 2 rows
/// auto df = td::from_array(x, {"a", "b"});                         // 3 partitions, float64 columns
/// tessera::Array y = td::to_array(df[{"b"}]);                     // 6 x 1 (lengths computed)
/// auto z = td::to_array(df, {2, 2, 2});                            // lengths known: nothing runs
/// auto w = td::to_array(df, tessera::compute(td::partition_lengths(df), sched));
/// @endcode
///
/// from_array makes one partition per block of rows (a 2-d array with several blocks of columns
/// is rechunked to one block of columns first). Array dtypes become column dtypes: bool as
/// bool, the integers as int64, the floats as float64.
///
/// to_array makes one block of rows per partition, all columns in one block, in the frame's
/// column order. The dtype is the columns' common dtype when they all have one (int64, float64
/// or bool), else float64 (nulls as NaN). An int64 or bool Array has no NaN: a null in such a
/// column fails its task naming the column and the partition (astype float64 first; pandas
/// would give object). Partition lengths must be known to shape the
/// Array: pass them, or leave them out and they are computed first (Dask's `lengths=True`), which
/// runs the partitions once on default_scheduler() (under MPI: on rank 0 only, as compute).
///
/// Thread safety: both are free functions over immutable handles; call them from any thread.
/// Collective: no (under MPI, rank 0 builds graphs).

#include <tessera/collections/array/array.hpp>
#include <tessera/collections/dataframe/dataframe.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::dataframe {

/// A 1-d or 2-d Array as a DataFrame; `columns` names its columns ("0", "1", ... if empty).
/// Throws: ShapeError for another number of dimensions or a count of names that differs from
/// the columns, naming both.
DataFrame from_array(const Array& x, std::vector<std::string> columns = {});

/// The frame's columns as a (rows x columns) Array; `lengths` are the partitions' row counts
/// (empty: computed first). A partition whose row count differs from its length fails its task
/// with a ShapeError naming the partition and both counts; a null in an int64 or bool Array, with
/// a TypeError naming the column and the partition.
/// Throws: TypeError naming the first string or datetime column; ShapeError when `lengths` has
/// another size than the partitions, or a negative entry; TaskError from computing the lengths.
Array to_array(const DataFrame& df, std::vector<std::int64_t> lengths = {});

/// The row count of each partition, as tasks (compute them on a scheduler of your choice and
/// pass them to to_array). Throws: nothing.
std::vector<Delayed<std::int64_t>> partition_lengths(const DataFrame& df);

}  // namespace tessera::dataframe
