#pragma once

/// @file
/// HDF5 I/O for tessera::Array (no <hdf5.h> here).
///
/// @code
/// auto x = tessera::array::from_hdf5("data.h5", "/temperature", tessera::Shape{1000, 0});
/// tessera::array::to_hdf5("out.h5", "/anomaly", x - x.mean({0}));
/// @endcode
///
/// from_hdf5 reads only the dataset's shape and dtype when the expression is built; each chunk
/// is one task that opens the file read-only and reads its hyperslab, so under MPI every worker
/// reads its own part. Chunked and compressed datasets are decompressed by HDF5 on read.
///
/// to_hdf5 creates the dataset (under a temporary name) on the calling process, then writes the
/// chunks from their tasks, and renames it when all are written.
/// Uncompressed (the default): a contiguous dataset allocated at creation; each chunk task
/// pwrite()s its rows straight into the file at H5Dget_offset, in parallel (only raw data is
/// written, so no HDF5 call runs in the tasks). Compressed: an HDF5-chunked, gzip dataset written
/// through a chain of tasks, one chunk after the other, each opening the file read-write.
///
/// Every HDF5 call holds tessera::detail::hdf5_mutex() (HDF5 here is not thread-safe).
/// Dtypes: float64, float32, int64, int32, uint8 and bool (stored as h5py does: an int8 enum
/// FALSE/TRUE).

#include <tessera/collections/array/array.hpp>

#include <string>

namespace tessera::array {

/// Options of to_hdf5.
struct Hdf5WriteOptions {
  /// gzip level 1-9 for a compressed, HDF5-chunked dataset; 0 = contiguous, uncompressed.
  int compression = 0;
  /// HDF5 chunk shape of a compressed dataset (default: the array's first chunk's shape).
  Shape hdf5_chunks = {};
};

/// A lazy Array over `dataset` of the HDF5 file `file` in `chunks` (which must describe the
/// dataset's shape).
/// Throws: StorageError naming the file and dataset for a missing file, a file that is not
/// HDF5, a missing dataset, an unsupported dtype, or chunks that do not match its shape.
Array from_hdf5(const std::string& file, const std::string& dataset, const Chunks& chunks);
/// from_hdf5 with a regular chunk shape (an extent <= 0 takes the whole axis).
Array from_hdf5(const std::string& file, const std::string& dataset, const Shape& chunk_shape);
/// Shape and dtype of a dataset (reads metadata only).
/// Throws: StorageError as from_hdf5.
std::pair<Shape, DType> hdf5_dataset_info(const std::string& file, const std::string& dataset);

/// Writes `a` to `dataset` of `file` (created if missing; groups on the path are created) and
/// waits for it, on `scheduler`. The chunks go into a new dataset under a temporary name in the
/// same group (".<name>.tessera-partial-<pid>-<n>"), renamed to `dataset` once every chunk is
/// written: a failed write removes it and leaves no dataset under `dataset` (or the existing
/// one unchanged). An existing dataset of the same shape and dtype is replaced.
/// Blocks: yes. Collective: with the MPI scheduler, rank 0 only.
/// Throws: StorageError naming the file and dataset (cannot create, existing dataset of another
/// shape or dtype); TaskError if a chunk task fails.
void to_hdf5(const std::string& file, const std::string& dataset, const Array& a, Scheduler& scheduler,
             const Hdf5WriteOptions& options = {});
/// to_hdf5 with a scheduler held by shared_ptr.
void to_hdf5(const std::string& file, const std::string& dataset, const Array& a,
             const std::shared_ptr<Scheduler>& scheduler, const Hdf5WriteOptions& options = {});
/// to_hdf5 on the default scheduler.
void to_hdf5(const std::string& file, const std::string& dataset, const Array& a,
             const Hdf5WriteOptions& options = {});

}  // namespace tessera::array
