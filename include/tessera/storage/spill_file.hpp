#pragma once

/// @file
/// SpillFile: byte blobs stored by string key in one HDF5 file in node-local scratch. This is
/// where a bounded-memory worker puts results it cannot keep in RAM.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tessera {

/// Cumulative I/O counters of one SpillFile.
struct SpillStats {
  std::uint64_t bytes_written = 0;  ///< payload bytes of successful put()s
  std::uint64_t bytes_read = 0;     ///< payload bytes of successful get()/get_into()s
  double write_seconds = 0;         ///< wall time spent in put() (HDF5 create + write)
  double read_seconds = 0;          ///< wall time spent in get()/get_into()
  std::uint64_t spills = 0;         ///< successful put()s
  std::uint64_t unspills = 0;       ///< successful get()/get_into()s
  std::uint64_t erases = 0;         ///< erase()s that removed a blob
};

/// An HDF5 file of byte blobs keyed by arbitrary strings (task keys such as
/// "('getitem-5f1c', 0, 3)"). Each blob is one contiguous 1-D dataset of bytes, written and read
/// with a single H5Dwrite/H5Dread, so the bytes go to and from the disk without per-element work.
/// Dataset names are generated ("b<counter>"); the key -> dataset map is kept in memory, so the
/// file is scratch: it is only meaningful to the SpillFile that wrote it.
///
/// Space: erased blobs are unlinked and their space returns to HDF5's free-space manager, which
/// reuses it for later blobs, so the file does not grow without bound under put/erase churn.
///
/// Errors: every HDF5 failure throws StorageError naming the file, the key and the operation
/// (and the reason HDF5 gives, e.g. the errno text of a failed write). A put() that fails leaves
/// no readable blob behind: the key enters the index only after the write succeeded.
///
/// Thread safety: all members may be called concurrently from any thread; every call holds the
/// process-wide detail::hdf5_mutex() while it is inside HDF5.
class SpillFile {
public:
  /// Creates (truncating) the HDF5 file at `path`. The file is removed again by the destructor
  /// unless `remove_on_close` is false.
  /// Throws: StorageError naming `path` and the reason if the file cannot be created.
  explicit SpillFile(std::filesystem::path path, bool remove_on_close = true);
  /// Closes the file and, if asked for at construction, removes it. Never throws.
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  SpillFile(SpillFile&&) noexcept;
  SpillFile& operator=(SpillFile&&) noexcept;

  /// Stores `bytes` under `key`, replacing any blob already stored under that key (the old blob
  /// stays readable until the new one is fully written).
  /// Throws: StorageError naming file, key and operation if HDF5 or the disk fails (disk full,
  /// file size limit); the key then keeps its previous blob, or stays absent.
  void put(const std::string& key, std::span<const std::byte> bytes);
  /// As above for a blob given as consecutive pieces (a Value's wire form): they are written
  /// into one dataset, piece by piece, with no gathering copy in memory.
  void put_pieces(const std::string& key, std::span<const std::span<const std::byte>> pieces);

  /// Returns a copy of the blob stored under `key`.
  /// Throws: StorageError naming key and file if the key is absent or the read fails.
  [[nodiscard]] std::vector<std::byte> get(const std::string& key);

  /// Reads the blob stored under `key` into the front of `out` (which may be larger, so callers
  /// can recycle buffers) and returns its size.
  /// Throws: StorageError naming key and file if the key is absent, `out` is too small, or the
  /// read fails.
  std::size_t get_into(const std::string& key, std::span<std::byte> out);

  /// Size in bytes of the blob stored under `key`.
  /// Throws: StorageError naming key and file if the key is absent.
  [[nodiscard]] std::size_t size_of(const std::string& key) const;

  /// Removes the blob stored under `key`; its file space becomes reusable. Returns false if the
  /// key was absent.
  /// Throws: StorageError naming file and key if HDF5 fails to unlink the dataset.
  bool erase(const std::string& key);

  /// Whether a blob is stored under `key`.
  [[nodiscard]] bool contains(const std::string& key) const;
  /// Number of blobs stored.
  [[nodiscard]] std::size_t size() const;
  /// Keys of all stored blobs, in no particular order.
  [[nodiscard]] std::vector<std::string> keys() const;

  /// Payload bytes of all blobs currently stored (what the spill file holds for the scheduler).
  [[nodiscard]] std::uint64_t bytes_on_disk() const;
  /// Size of the HDF5 file as HDF5 sees it: payload, metadata and not-yet-reused free space.
  /// Throws: StorageError naming the file if HDF5 cannot tell.
  [[nodiscard]] std::uint64_t file_size() const;
  /// Snapshot of the I/O counters.
  [[nodiscard]] SpillStats stats() const;
  /// Path of the HDF5 file.
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

  /// Flushes HDF5 buffers and fdatasync()s the file, so written blobs are on the device.
  /// Throws: StorageError naming the file if the flush fails.
  void flush();

  /// Advises the kernel to drop this file's pages from the page cache (posix_fadvise DONTNEED),
  /// so the next reads come from the device. For benchmarks; best effort, never throws.
  void drop_page_cache() noexcept;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tessera
