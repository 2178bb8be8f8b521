#include <tessera/storage/spill_file.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/storage/hdf5_lock.hpp>

#include "storage/hdf5_support.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace tessera {

using detail::Hdf5Id;

namespace {

struct Entry {
  std::uint64_t id = 0;    // dataset "b<id>"; unused when size == 0 (no dataset is created)
  std::uint64_t size = 0;  // payload bytes
};

std::string dataset_name(std::uint64_t id) {
  // snprintf rather than "b" + std::to_string(id): GCC 12 -O2 warns (-Wrestrict) on the latter.
  char buf[32];
  std::snprintf(buf, sizeof buf, "b%llu", static_cast<unsigned long long>(id));
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct SpillFile::Impl {
  std::filesystem::path path;
  bool remove_on_close = true;
  Hdf5Id file;
  Hdf5Id dcpl;  // dataset creation: contiguous, never filled, no time stamps
  std::unordered_map<std::string, Entry> index;
  std::uint64_t next_id = 1;
  std::uint64_t live_bytes = 0;
  SpillStats stats;

  [[noreturn]] void fail(const char* operation, const std::string& key, std::size_t bytes,
                         const std::string& reason) const {
    TESSERA_THROW(StorageError, "spill file '", path.string(), "': ", operation, " of key '", key,
                  "' (", format_bytes(bytes), ") failed: ", reason);
  }

  const Entry& find(const char* operation, const std::string& key) const {
    auto it = index.find(key);
    if (it == index.end()) {
      TESSERA_THROW(StorageError, "spill file '", path.string(), "': ", operation, " of key '",
                    key, "' failed: no blob is stored under this key (", index.size(),
                    " keys stored)");
    }
    return it->second;
  }

  /// Why a write failed, naming a full disk plainly: HDF5's error stack often does not carry
  /// the errno of the failed pwrite(), so errno and the free space of the file system are
  /// checked too. Caller holds the HDF5 lock.
  std::string write_failure(int err, std::size_t wanted) const {
    const std::string hdf5 = detail::hdf5_error_text();
    struct statvfs fs {};
    const std::string dir = path.parent_path().string();
    const bool have_fs = ::statvfs(dir.c_str(), &fs) == 0;
    const std::uint64_t avail = have_fs ? std::uint64_t{fs.f_bavail} * fs.f_frsize : 0;
    const bool full = err == ENOSPC || err == EDQUOT ||
                      hdf5.find("errno = 28") != std::string::npos ||
                      hdf5.find("No space left") != std::string::npos || (have_fs && avail < wanted);
    if (!full) return err != 0 ? hdf5 + " (errno " + std::to_string(err) + ": " + std::strerror(err) + ")" : hdf5;
    std::string out = err == EDQUOT ? "disk quota exceeded (EDQUOT)" : "no space left on device (ENOSPC)";
    if (have_fs) {
      out += ": the file system of '" + dir + "' has " + format_bytes(avail) + " free of " +
             format_bytes(std::uint64_t{fs.f_blocks} * fs.f_frsize);
    }
    out += "; point TESSERA_SPILL_DIR at a larger disk or raise TESSERA_MEMORY_LIMIT";
    return out;
  }

  int fd() const {
    void* handle = nullptr;
    if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr) {
      H5Eclear2(H5E_DEFAULT);
      return -1;
    }
    return *static_cast<int*>(handle);
  }

  void read(const std::string& key, const Entry& e, void* out) {
    const auto t0 = std::chrono::steady_clock::now();
    if (e.size != 0) {
      const std::string name = dataset_name(e.id);
      Hdf5Id dset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
      if (!dset.valid()) fail("get (open dataset)", key, e.size, detail::hdf5_error_text());
      if (H5Dread(dset.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        fail("get (H5Dread)", key, e.size, detail::hdf5_error_text());
      }
    }
    stats.read_seconds += seconds_since(t0);
    stats.bytes_read += e.size;
    ++stats.unspills;
  }

  void unlink(const std::string& key, const Entry& e) {
    if (e.size == 0) return;
    const std::string name = dataset_name(e.id);
    if (H5Ldelete(file.get(), name.c_str(), H5P_DEFAULT) < 0) {
      fail("erase (H5Ldelete)", key, e.size, detail::hdf5_error_text());
    }
  }
};

SpillFile::SpillFile(std::filesystem::path path, bool remove_on_close)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->path = std::move(path);
  m_impl->remove_on_close = remove_on_close;
  detail::Hdf5Lock lock;
  detail::hdf5_init();
  const std::string& p = m_impl->path.string();

  Hdf5Id fcpl(H5Pcreate(H5P_FILE_CREATE));
  Hdf5Id fapl(H5Pcreate(H5P_FILE_ACCESS));
  Hdf5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  bool ok = fcpl.valid() && fapl.valid() && dcpl.valid();
  // Freed space (erased blobs) is tracked by the free-space manager and reused for new blobs.
  ok = ok && H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_FSM_AGGR, 0, 1) >= 0;
  // Plain POSIX I/O (pread/pwrite), no extra user-space buffering of raw data.
  ok = ok && H5Pset_fapl_sec2(fapl.get()) >= 0;
  ok = ok && H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0;
  // H5Fclose closes whatever is still open in the file (e.g. a dataset whose close failed after
  // a write error): nothing is left for HDF5's shutdown at MPI_Finalize to trip over.
  ok = ok && H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) >= 0;
  // Large blobs start on 4 KiB boundaries: page-aligned writes, whole pages per blob.
  ok = ok && H5Pset_alignment(fapl.get(), 64 * 1024, 4096) >= 0;
  ok = ok && H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS) >= 0;
  ok = ok && H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_LATE) >= 0;
  ok = ok && H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER) >= 0;
  ok = ok && H5Pset_obj_track_times(dcpl.get(), 0) >= 0;
  if (!ok) {
    TESSERA_THROW(StorageError, "spill file '", p,
                  "': setting up HDF5 property lists failed: ", detail::hdf5_error_text());
  }
  errno = 0;
  m_impl->file = Hdf5Id(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
  if (!m_impl->file.valid()) {
    // Creating writes the superblock: on a full disk (another rank took the last bytes) say so
    // as a failed put does.
    const int err = errno;
    TESSERA_THROW(StorageError, "cannot create spill file '", p, "': ", m_impl->write_failure(err, 4096));
  }
  m_impl->dcpl = std::move(dcpl);
}

SpillFile::~SpillFile() {
  if (!m_impl) return;
  {
    detail::Hdf5Lock lock;
    // A file still open at exit (a process-wide store, destroyed with the statics) may outlive
    // HDF5, which closes every id in its own exit handler: then its ids are gone, not ours to close.
    if (m_impl->file.valid() && H5Iis_valid(m_impl->file.get()) <= 0) {
      (void)m_impl->dcpl.release();
      (void)m_impl->file.release();
    }
    if (m_impl->dcpl.valid() && H5Iis_valid(m_impl->dcpl.get()) <= 0) (void)m_impl->dcpl.release();
    m_impl->dcpl.reset();
    if (m_impl->file.valid()) {
      if (H5Fclose(m_impl->file.get()) < 0) H5Eclear2(H5E_DEFAULT);
      // H5Fclose released the id; forget it without a second close.
      m_impl->file = Hdf5Id();
    }
  }
  if (m_impl->remove_on_close) {
    std::error_code ec;
    std::filesystem::remove(m_impl->path, ec);
  }
}

SpillFile::SpillFile(SpillFile&&) noexcept = default;

SpillFile& SpillFile::operator=(SpillFile&& other) noexcept {
  if (this != &other) {
    SpillFile doomed(std::move(*this));
    m_impl = std::move(other.m_impl);
  }
  return *this;
}

void SpillFile::put(const std::string& key, std::span<const std::byte> bytes) {
  const std::span<const std::byte> one[1] = {bytes};
  put_pieces(key, std::span<const std::span<const std::byte>>(one, bytes.empty() ? 0 : 1));
}

void SpillFile::put_pieces(const std::string& key, std::span<const std::span<const std::byte>> pieces) {
  detail::Hdf5Lock lock;
  Impl& s = *m_impl;
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (const auto& p : pieces) total += p.size();
  Entry fresh{0, total};
  if (total != 0) {
    fresh.id = s.next_id++;
    const std::string name = dataset_name(fresh.id);
    const hsize_t dims[1] = {static_cast<hsize_t>(total)};
    Hdf5Id space(H5Screate_simple(1, dims, nullptr));
    if (!space.valid()) s.fail("put (H5Screate_simple)", key, total, detail::hdf5_error_text());
    Hdf5Id dset(H5Dcreate2(s.file.get(), name.c_str(), H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                           s.dcpl.get(), H5P_DEFAULT));
    if (!dset.valid()) s.fail("put (H5Dcreate2)", key, total, detail::hdf5_error_text());
    // One H5Dwrite per piece, into its hyperslab of the dataset.
    std::string reason;
    hsize_t offset = 0;
    for (const auto& p : pieces) {
      if (p.empty()) continue;
      const hsize_t count[1] = {static_cast<hsize_t>(p.size())};
      const hsize_t start[1] = {offset};
      bool ok = true;
      if (p.size() == total) {
        ok = H5Dwrite(dset.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) >= 0;
      } else {
        Hdf5Id mem(H5Screate_simple(1, count, nullptr));
        ok = mem.valid() &&
             H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) >= 0 &&
             H5Dwrite(dset.get(), H5T_NATIVE_UINT8, mem.get(), space.get(), H5P_DEFAULT, p.data()) >= 0;
      }
      if (!ok) {
        const int err = errno;  // from the failed pwrite() inside HDF5's sec2 driver
        reason = s.write_failure(err, total);
        break;
      }
      offset += count[0];
    }
    if (!reason.empty()) {
      // Never leave a half-written dataset behind: close it (H5Dclose, which also frees its
      // id when the flush fails) and unlink it; the key is not in the index.
      if (H5Dclose(dset.get()) < 0) H5Eclear2(H5E_DEFAULT);
      (void)dset.release();
      if (H5Ldelete(s.file.get(), name.c_str(), H5P_DEFAULT) < 0) H5Eclear2(H5E_DEFAULT);
      s.fail("put (H5Dwrite)", key, total, reason);
    }
    if (!dset.reset()) s.fail("put (H5Dclose)", key, total, detail::hdf5_error_text());
  }
  // The write succeeded: only now does the key point at the new blob.
  auto [it, inserted] = s.index.try_emplace(key, fresh);
  if (!inserted) {
    const Entry old = it->second;
    it->second = fresh;
    s.live_bytes -= old.size;
    s.live_bytes += fresh.size;
    s.unlink(key, old);  // may throw; the new blob is already recorded and readable
  } else {
    s.live_bytes += fresh.size;
  }
  s.stats.write_seconds += seconds_since(t0);
  s.stats.bytes_written += total;
  ++s.stats.spills;
}

std::vector<std::byte> SpillFile::get(const std::string& key) {
  detail::Hdf5Lock lock;
  Impl& s = *m_impl;
  const Entry& e = s.find("get", key);
  std::vector<std::byte> out(e.size);
  s.read(key, e, out.data());
  return out;
}

std::size_t SpillFile::get_into(const std::string& key, std::span<std::byte> out) {
  detail::Hdf5Lock lock;
  Impl& s = *m_impl;
  const Entry& e = s.find("get_into", key);
  if (out.size() < e.size) {
    s.fail("get_into", key, e.size,
           "the destination buffer holds only " + std::to_string(out.size()) + " bytes");
  }
  s.read(key, e, out.data());
  return e.size;
}

std::size_t SpillFile::size_of(const std::string& key) const {
  detail::Hdf5Lock lock;
  return m_impl->find("size_of", key).size;
}

bool SpillFile::erase(const std::string& key) {
  detail::Hdf5Lock lock;
  Impl& s = *m_impl;
  auto it = s.index.find(key);
  if (it == s.index.end()) return false;
  const Entry e = it->second;
  s.unlink(key, e);
  s.index.erase(it);
  s.live_bytes -= e.size;
  ++s.stats.erases;
  return true;
}

bool SpillFile::contains(const std::string& key) const {
  detail::Hdf5Lock lock;
  return m_impl->index.count(key) != 0;
}

std::size_t SpillFile::size() const {
  detail::Hdf5Lock lock;
  return m_impl->index.size();
}

std::vector<std::string> SpillFile::keys() const {
  detail::Hdf5Lock lock;
  std::vector<std::string> out;
  out.reserve(m_impl->index.size());
  for (const auto& kv : m_impl->index) out.push_back(kv.first);
  return out;
}

std::uint64_t SpillFile::bytes_on_disk() const {
  detail::Hdf5Lock lock;
  return m_impl->live_bytes;
}

std::uint64_t SpillFile::file_size() const {
  detail::Hdf5Lock lock;
  hsize_t n = 0;
  if (H5Fget_filesize(m_impl->file.get(), &n) < 0) {
    TESSERA_THROW(StorageError, "spill file '", m_impl->path.string(),
                  "': H5Fget_filesize failed: ", detail::hdf5_error_text());
  }
  return static_cast<std::uint64_t>(n);
}

SpillStats SpillFile::stats() const {
  detail::Hdf5Lock lock;
  return m_impl->stats;
}

const std::filesystem::path& SpillFile::path() const noexcept { return m_impl->path; }

void SpillFile::flush() {
  detail::Hdf5Lock lock;
  Impl& s = *m_impl;
  if (H5Fflush(s.file.get(), H5F_SCOPE_LOCAL) < 0) {
    TESSERA_THROW(StorageError, "spill file '", s.path.string(),
                  "': H5Fflush failed: ", detail::hdf5_error_text());
  }
  const int fd = s.fd();
  if (fd >= 0 && ::fdatasync(fd) != 0) {
    const int err = errno;
    TESSERA_THROW(StorageError, "spill file '", s.path.string(),
                  "': fdatasync failed: ", std::strerror(err));
  }
}

void SpillFile::drop_page_cache() noexcept {
  detail::Hdf5Lock lock;
  const int fd = m_impl->fd();
  if (fd >= 0) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

}  // namespace tessera
