// HDF5 I/O of tessera::Array: metadata on the driver, hyperslab reads and raw pwrite()s in tasks.
#include <tessera/collections/array/hdf5_io.hpp>

#include "collections/array/chunk_grid.hpp"
#include <tessera/storage/hdf5_lock.hpp>

#include "collections/hdf5_common.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <filesystem>

namespace tessera::array {

namespace {

using detail::Hdf5Id;
using detail::Hdf5Lock;

[[noreturn]] void fail(const char* what, const std::string& file, const std::string& dataset, const std::string& why) {
  detail::hdf5_fail(what, file, "dataset", dataset, why);
}

/// Memory type of `t`. Caller holds the lock.
Hdf5Id mem_type(DType t) {
  switch (t) {
    case DType::float64: return Hdf5Id(H5Tcopy(H5T_NATIVE_DOUBLE));
    case DType::float32: return Hdf5Id(H5Tcopy(H5T_NATIVE_FLOAT));
    case DType::int64: return Hdf5Id(H5Tcopy(H5T_NATIVE_INT64));
    case DType::int32: return Hdf5Id(H5Tcopy(H5T_NATIVE_INT32));
    case DType::uint8: return Hdf5Id(H5Tcopy(H5T_NATIVE_UINT8));
    case DType::bool_: return detail::hdf5_bool_type();
  }
  return Hdf5Id();
}

/// The dtype of a dataset's file type, if tessera has it. Caller holds the lock.
std::optional<DType> dtype_of_type(hid_t t) {
  const auto cls = H5Tget_class(t);
  const std::size_t size = H5Tget_size(t);
  if (cls == H5T_FLOAT) {
    if (size == 8) return DType::float64;
    if (size == 4) return DType::float32;
  } else if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(t) == H5T_SGN_2;
    if (is_signed && size == 8) return DType::int64;
    if (is_signed && size == 4) return DType::int32;
    if (!is_signed && size == 1) return DType::uint8;
  } else if (cls == H5T_ENUM && size == 1) {
    return DType::bool_;
  }
  return std::nullopt;
}

/// Opens `file`. Caller holds the lock.
Hdf5Id open_file(const std::string& file, const std::string& dataset, unsigned flags, const char* what) {
  return detail::hdf5_open_file(file, flags, what, "dataset", dataset);
}

Hdf5Id open_dataset(hid_t f, const std::string& file, const std::string& dataset, const char* what) {
  // Each path component checked, so a missing group is "not found" rather than an error.
  if (!detail::hdf5_path_exists(f, dataset)) fail(what, file, dataset, "no such dataset");
  Hdf5Id d(H5Dopen2(f, dataset.c_str(), H5P_DEFAULT));
  if (!d.valid()) fail(what, file, dataset, "not a dataset: " + detail::hdf5_error_text());
  return d;
}

/// Shape and dtype of an open dataset. Caller holds the lock.
std::pair<Shape, DType> info_of(hid_t d, const std::string& file, const std::string& dataset, const char* what) {
  Hdf5Id space(H5Dget_space(d));
  const int nd = H5Sget_simple_extent_ndims(space.get());
  if (nd < 0) fail(what, file, dataset, "cannot read the dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(nd));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  Shape shape(dims.begin(), dims.end());
  Hdf5Id t(H5Dget_type(d));
  const auto dt = dtype_of_type(t.get());
  if (!dt) fail(what, file, dataset, "unsupported dtype (" + detail::hdf5_type_text(t.get()) + ")");
  return {shape, *dt};
}

/// Selects the block at `offset` of `shape` in a dataspace; returns the memory space.
Hdf5Id select(hid_t space, const Shape& offset, const Shape& shape) {
  if (shape.empty()) {
    H5Sselect_all(space);
    return Hdf5Id(H5Screate(H5S_SCALAR));
  }
  std::vector<hsize_t> start(offset.begin(), offset.end()), count(shape.begin(), shape.end());
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  return Hdf5Id(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
}

// ---- task bodies -----------------------------------------------------------------------------------

NDArray read_block(const std::string& file, const std::string& dataset, const Shape& offset,
                   const Shape& shape, std::uint8_t dtype) {
  NDArray out = NDArray::empty(shape, static_cast<DType>(dtype));
  if (out.size() == 0) return out;
  Hdf5Lock lock;
  Hdf5Id f = open_file(file, dataset, H5F_ACC_RDONLY, "from_hdf5");
  Hdf5Id d = open_dataset(f.get(), file, dataset, "from_hdf5");
  Hdf5Id space(H5Dget_space(d.get()));
  Hdf5Id mem = select(space.get(), offset, shape);
  Hdf5Id mt = mem_type(out.dtype());
  if (H5Dread(d.get(), mt.get(), mem.get(), space.get(), H5P_DEFAULT, out.mutable_bytes()) < 0) {
    fail("from_hdf5", file, dataset, "reading block at " + to_string(offset) + ": " + detail::hdf5_error_text());
  }
  return out;
}

/// Calls `io(file_position, bytes_done, length)` for every stretch of a block of shape `shape` at
/// element `offset` of a C-ordered array of shape `global` stored contiguously at byte `base`,
/// in order. Axes after the first partial one are whole, so each stretch is one run of the file.
template <class Io>
void for_each_run(const Shape& shape, const Shape& global, const Shape& offset, std::size_t item,
                  std::uint64_t base, Io&& io) {
  const std::size_t nd = global.size();
  std::size_t k = nd;
  while (k > 0 && (k == nd || shape[k] == global[k])) --k;
  if (nd == 0) k = 0;
  std::int64_t run = 1;
  for (std::size_t d = k; d < nd; ++d) run *= shape[d];
  std::int64_t total = 1;
  for (auto e : shape) total *= e;
  const auto strides = c_strides(global);
  const std::int64_t nruns = total / std::max<std::int64_t>(run, 1);
  Shape idx(k, 0);
  std::size_t done = 0;
  for (std::int64_t r = 0; r < nruns; ++r) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < k; ++d) flat += (offset[d] + idx[d]) * strides[d];
    if (k < nd) flat += offset[k] * strides[k];
    const std::size_t len = static_cast<std::size_t>(run) * item;
    io(base + static_cast<std::uint64_t>(flat) * item, done, len);
    done += len;
    for (std::size_t d = k; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/// Writes a chunk's rows straight into a contiguous dataset at byte `base` of the file.
std::int64_t pwrite_block(const NDArray& block, const std::string& file, std::uint64_t base,
                          const Shape& global, const Shape& offset) {
  if (block.size() == 0) return 0;
  if (block.shape().size() != global.size()) {
    TESSERA_THROW(StorageError, "to_hdf5: block of shape ", to_string(block.shape()), " for '", file,
                  "' of shape ", to_string(global));
  }
  const int fd = ::open(file.c_str(), O_WRONLY);
  if (fd < 0) TESSERA_THROW(StorageError, "to_hdf5: cannot open '", file, "' for writing: ", std::strerror(errno));
  const std::byte* src = block.bytes();
  for_each_run(block.shape(), global, offset, block.item_bytes(), base,
               [&](std::uint64_t at, std::size_t done, std::size_t len) {
                 std::size_t left = len;
                 auto pos = static_cast<off_t>(at);
                 const std::byte* p = src + done;
                 while (left > 0) {
                   const ssize_t w = ::pwrite(fd, p, left, pos);
                   if (w < 0) {
                     if (errno == EINTR) continue;
                     const std::string why = std::strerror(errno);
                     ::close(fd);
                     TESSERA_THROW(StorageError, "to_hdf5: write to '", file, "' failed: ", why);
                   }
                   p += w;
                   pos += w;
                   left -= static_cast<std::size_t>(w);
                 }
               });
  if (::close(fd) != 0) TESSERA_THROW(StorageError, "to_hdf5: closing '", file, "' failed: ", std::strerror(errno));
  return static_cast<std::int64_t>(block.nbytes());
}

/// Reads a chunk of a contiguous, unfiltered dataset stored in native byte order straight from
/// the file at byte `base` (pread, no HDF5 call, so chunk reads of one process run in parallel).
NDArray pread_block(const std::string& file, const std::string& dataset, std::uint64_t base,
                    const Shape& global, const Shape& offset, const Shape& shape, std::uint8_t dtype) {
  NDArray out = NDArray::empty(shape, static_cast<DType>(dtype));
  if (out.size() == 0) return out;
  const int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) {
    TESSERA_THROW(StorageError, "from_hdf5: cannot open '", file, "' (dataset '", dataset,
                  "') for reading: ", std::strerror(errno));
  }
  std::byte* dst = out.mutable_bytes();
  for_each_run(shape, global, offset, out.item_bytes(), base,
               [&](std::uint64_t at, std::size_t done, std::size_t len) {
                 std::size_t left = len;
                 auto pos = static_cast<off_t>(at);
                 std::byte* p = dst + done;
                 // Ask for the whole stretch at once (asynchronous readahead), then read it in
                 // pieces the page cache streams well.
                 ::posix_fadvise(fd, pos, static_cast<off_t>(len), POSIX_FADV_WILLNEED);
                 while (left > 0) {
                   const ssize_t r = ::pread(fd, p, std::min<std::size_t>(left, std::size_t{8} << 20), pos);
                   if (r <= 0) {
                     if (r < 0 && errno == EINTR) continue;
                     const std::string why = r == 0 ? "unexpected end of file" : std::strerror(errno);
                     ::close(fd);
                     TESSERA_THROW(StorageError, "from_hdf5: reading block at ", to_string(offset), " of '",
                                   file, "' dataset '", dataset, "' failed: ", why);
                   }
                   p += r;
                   pos += r;
                   left -= static_cast<std::size_t>(r);
                 }
               });
  ::close(fd);
  return out;
}

/// Writes one chunk through HDF5 after the chunk before it (`prev`) was written.
std::int64_t h5write_block(const NDArray& block, const std::vector<std::int64_t>& prev,
                           const std::string& file, const std::string& dataset, const Shape& offset) {
  const std::int64_t before = prev.empty() ? 0 : prev[0];
  if (block.size() == 0) return before;
  Hdf5Lock lock;
  Hdf5Id f = open_file(file, dataset, H5F_ACC_RDWR, "to_hdf5");
  Hdf5Id d = open_dataset(f.get(), file, dataset, "to_hdf5");
  Hdf5Id space(H5Dget_space(d.get()));
  Hdf5Id mem = select(space.get(), offset, block.shape());
  Hdf5Id mt = mem_type(block.dtype());
  if (H5Dwrite(d.get(), mt.get(), mem.get(), space.get(), H5P_DEFAULT, block.bytes()) < 0) {
    fail("to_hdf5", file, dataset, "writing block at " + to_string(offset) + ": " + detail::hdf5_error_text());
  }
  d = Hdf5Id();
  if (!f.reset()) fail("to_hdf5", file, dataset, "closing the file: " + detail::hdf5_error_text());
  return before + static_cast<std::int64_t>(block.nbytes());
}

using detail::unravel;
Shape offset_of(const Chunks& chunks, const Shape& idx) { return detail::block_offset(chunks, idx); }

}  // namespace

std::pair<Shape, DType> hdf5_dataset_info(const std::string& file, const std::string& dataset) {
  Hdf5Lock lock;
  Hdf5Id f = open_file(file, dataset, H5F_ACC_RDONLY, "from_hdf5");
  Hdf5Id d = open_dataset(f.get(), file, dataset, "from_hdf5");
  return info_of(d.get(), file, dataset, "from_hdf5");
}

/// Byte offset of a dataset's data when it can be read with plain pread(): contiguous layout,
/// allocated, no filters, and stored exactly as the in-memory type (native byte order).
std::optional<std::uint64_t> raw_offset(const std::string& file, const std::string& dataset, DType dtype) {
  Hdf5Lock lock;
  Hdf5Id f = open_file(file, dataset, H5F_ACC_RDONLY, "from_hdf5");
  Hdf5Id d = open_dataset(f.get(), file, dataset, "from_hdf5");
  Hdf5Id dcpl(H5Dget_create_plist(d.get()));
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl.get()) != 0) {
    return std::nullopt;
  }
  Hdf5Id ft(H5Dget_type(d.get()));
  Hdf5Id mt = mem_type(dtype);
  if (!ft.valid() || H5Tequal(ft.get(), mt.get()) <= 0) return std::nullopt;
  const haddr_t off = H5Dget_offset(d.get());
  if (off == HADDR_UNDEF) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;  // never written: HDF5 supplies the fill value
  }
  return static_cast<std::uint64_t>(off);
}

Array from_hdf5(const std::string& file, const std::string& dataset, const Chunks& chunks) {
  const auto [shape, dtype] = hdf5_dataset_info(file, dataset);
  const std::optional<std::uint64_t> raw = shape.empty() ? std::nullopt : raw_offset(file, dataset, dtype);
  try {
    validate_chunks(chunks, shape, "from_hdf5");
  } catch (const ShapeError& e) {
    fail("from_hdf5", file, dataset, std::string("shape mismatch: ") + e.what());
  }
  Shape g;
  std::int64_t n = 1;
  for (const auto& c : chunks) {
    g.push_back(static_cast<std::int64_t>(c.size()));
    n *= g.back();
  }
  auto fn = delayed(read_block, {.name = "from-hdf5", .pure = true});
  auto raw_fn = delayed(pread_block, {.name = "from-hdf5", .pure = true});
  std::vector<Delayed<NDArray>> blocks;
  for (std::int64_t i = 0; i < n; ++i) {
    const Shape idx = unravel(i, g);
    const Shape bs = detail::block_shape(chunks, idx);
    if (raw) {
      blocks.push_back(raw_fn(file, dataset, *raw, shape, offset_of(chunks, idx), bs, static_cast<std::uint8_t>(dtype)));
    } else {
      blocks.push_back(fn(file, dataset, offset_of(chunks, idx), bs, static_cast<std::uint8_t>(dtype)));
    }
  }
  return Array(shape, dtype, chunks, std::move(blocks));
}

Array from_hdf5(const std::string& file, const std::string& dataset, const Shape& chunk_shape) {
  const auto info = hdf5_dataset_info(file, dataset);
  if (chunk_shape.size() != info.first.size()) {
    fail("from_hdf5", file, dataset, "shape mismatch: chunk shape " + to_string(chunk_shape) +
                                         " for a dataset of shape " + to_string(info.first));
  }
  return from_hdf5(file, dataset, regular_chunks(info.first, chunk_shape));
}

namespace {
void write_chunks(const std::string& file, const std::string& dataset, const Array& a, Scheduler& scheduler,
                  bool contiguous, std::uint64_t base);
}  // namespace

void to_hdf5(const std::string& file, const std::string& dataset, const Array& a, Scheduler& scheduler,
             const Hdf5WriteOptions& options) {
  if (options.compression < 0 || options.compression > 9) {
    TESSERA_THROW(StorageError, "to_hdf5: file '", file, "', dataset '", dataset,
                  "': compression must be 0-9, got ", options.compression);
  }
  bool contiguous = options.compression == 0;
  std::uint64_t base = 0;
  // The chunks are written into a new dataset under a temporary name next to `dataset`, which
  // takes the final name only once every chunk is written; a failed write removes it. So no
  // reader ever finds a partial (zero-filled) dataset under `dataset`, and an existing one
  // stays as it was until the new one replaces it.
  const std::string tmp = detail::hdf5_partial_name(dataset);
  bool replace = false;
  {
    Hdf5Lock lock;
    detail::hdf5_init();
    std::error_code ec;
    Hdf5Id f;
    if (std::filesystem::exists(file, ec)) {
      f = open_file(file, dataset, H5F_ACC_RDWR, "to_hdf5");
    } else {
      f = Hdf5Id(H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT));
      if (!f.valid()) fail("to_hdf5", file, dataset, "cannot create the file: " + detail::hdf5_error_text());
    }
    const htri_t exists = H5Lexists(f.get(), dataset.c_str(), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (exists > 0) {
      Hdf5Id d = open_dataset(f.get(), file, dataset, "to_hdf5");
      const auto [shape, dtype] = info_of(d.get(), file, dataset, "to_hdf5");
      if (shape != a.shape() || dtype != a.dtype()) {
        fail("to_hdf5", file, dataset, "shape mismatch: existing dataset " + to_string(shape) + " " +
                                           std::string(dtype_name(dtype)) + ", array " + to_string(a.shape()) +
                                           " " + std::string(dtype_name(a.dtype())));
      }
      replace = true;
    }
    {
      std::vector<hsize_t> dims(a.shape().begin(), a.shape().end());
      Hdf5Id space(a.shape().empty() ? H5Screate(H5S_SCALAR)
                                     : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
      Hdf5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
      H5Pset_create_intermediate_group(lcpl.get(), 1);
      Hdf5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
      if (contiguous || a.shape().empty() || a.size() == 0) {
        contiguous = options.compression == 0;
        H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS);
        H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
      } else {
        Shape hc = options.hdf5_chunks;
        if (hc.empty()) {
          for (const auto& c : a.chunks()) hc.push_back(c[0]);
        }
        if (hc.size() != a.shape().size()) {
          fail("to_hdf5", file, dataset, "HDF5 chunk shape " + to_string(hc) + " for array of shape " + to_string(a.shape()));
        }
        std::vector<hsize_t> cd;
        for (auto e : hc) cd.push_back(static_cast<hsize_t>(std::max<std::int64_t>(e, 1)));
        H5Pset_chunk(dcpl.get(), static_cast<int>(cd.size()), cd.data());
        H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.compression));
      }
      Hdf5Id ft = mem_type(a.dtype());
      Hdf5Id d(H5Dcreate2(f.get(), tmp.c_str(), ft.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
      if (!d.valid()) fail("to_hdf5", file, dataset, "cannot create the dataset: " + detail::hdf5_error_text());
      if (contiguous) {
        const haddr_t off = H5Dget_offset(d.get());
        if (off == HADDR_UNDEF) {
          H5Eclear2(H5E_DEFAULT);
          if (a.size() != 0) fail("to_hdf5", file, dataset, "no file offset for the contiguous dataset");
        }
        base = static_cast<std::uint64_t>(off);
      }
    }
    f = Hdf5Id();  // closing flushes the metadata before any task writes raw data
  }
  try {
    write_chunks(file, tmp, a, scheduler, contiguous, base);
  } catch (...) {
    Hdf5Lock lock;
    Hdf5Id f = open_file(file, dataset, H5F_ACC_RDWR, "to_hdf5");
    H5Ldelete(f.get(), tmp.c_str(), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    throw;
  }
  Hdf5Lock lock;
  Hdf5Id f = open_file(file, dataset, H5F_ACC_RDWR, "to_hdf5");
  if (replace && H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT) < 0) {
    fail("to_hdf5", file, dataset, "removing the old dataset: " + detail::hdf5_error_text());
  }
  if (H5Lmove(f.get(), tmp.c_str(), H5L_SAME_LOC, dataset.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0) {
    fail("to_hdf5", file, dataset, "renaming '" + tmp + "' to the dataset: " + detail::hdf5_error_text());
  }
  if (!f.reset()) fail("to_hdf5", file, dataset, "closing the file: " + detail::hdf5_error_text());
}

namespace {
/// Runs the chunk writes of to_hdf5 into `dataset` (the temporary one, created by the caller).
void write_chunks(const std::string& file, const std::string& dataset, const Array& a, Scheduler& scheduler,
                  bool contiguous, std::uint64_t base) {
  if (a.size() == 0) return;
  const auto blocks = a.blocks();
  const Shape g = a.numblocks();
  if (contiguous) {
    auto fn = delayed(pwrite_block, {.name = "to-hdf5", .pure = false});
    std::vector<Delayed<std::int64_t>> writes;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      writes.push_back(fn(blocks[i], file, base, a.shape(), offset_of(a.chunks(), unravel(static_cast<std::int64_t>(i), g))));
    }
    (void)tessera::detail::compute_on(scheduler, writes);
    return;
  }
  auto fn = delayed(h5write_block, {.name = "to-hdf5-chain", .pure = false});
  std::vector<Delayed<std::int64_t>> prev;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    auto w = fn(blocks[i], prev, file, dataset, offset_of(a.chunks(), unravel(static_cast<std::int64_t>(i), g)));
    prev = {w};
  }
  (void)tessera::detail::compute_on(scheduler, prev);
}
}  // namespace

void to_hdf5(const std::string& file, const std::string& dataset, const Array& a,
             const std::shared_ptr<Scheduler>& scheduler, const Hdf5WriteOptions& options) {
  to_hdf5(file, dataset, a, tessera::detail::as_scheduler(scheduler), options);
}

void to_hdf5(const std::string& file, const std::string& dataset, const Array& a, const Hdf5WriteOptions& options) {
  to_hdf5(file, dataset, a, *default_scheduler(), options);
}

}  // namespace tessera::array
