#pragma once

/// @file
/// The process's one pool of recycled memory: array chunks, received messages and shuffle
/// pieces. Fresh memory from the OS is slow to touch the first time (page faults at 0.3-1 GB/s
/// on our machines, against ~30 GB/s for memory already mapped), and glibc hands large freed
/// blocks straight back to the OS, so every new chunk or message would pay that price again.
///
/// The pool has two faces over one cap on retained bytes:
/// - blocks (`allocate`): page-aligned memory in size classes (quarter powers of two) from
///   `min_pooled_bytes` up, for NDArray buffers;
/// - byte vectors (`take_bytes` / `recycle`): `std::vector<std::byte>` from
///   `min_recycled_bytes` up, for received messages and serialized shuffle pieces.
/// When a freed block or vector would pass the cap it goes back to the OS instead; vectors also
/// keep to a third of the cap (`vector_share_den`).
///
/// Under a memory limit the runtime that decides the limit (an MPI worker, or a threads run with
/// TESSERA_MEMORY_LIMIT) calls `bound_by_memory_limit`: retained memory is memory the limit does
/// not see, so it is kept to a fixed fraction of it (bench/README.md: where a worker's memory
/// goes).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera {

/// Counters of a BufferPool, for diagnostics and tests.
struct BufferPoolStats {
  std::uint64_t hits = 0;            ///< requests served from retained memory
  std::uint64_t misses = 0;          ///< pooled-size requests that went to the OS
  std::uint64_t retained_bytes = 0;  ///< bytes currently kept for reuse (blocks and vectors)
  std::uint64_t capacity_bytes = 0;  ///< cap on retained_bytes
  std::uint64_t vector_bytes = 0;    ///< the part of retained_bytes held in byte vectors
  std::uint64_t vector_capacity_bytes = 0;  ///< cap on vector_bytes: capacity / vector_share_den
};

/// Recycles large memory blocks and byte vectors within one cap.
///
/// Thread safety: every member is thread safe.
class BufferPool {
public:
  /// Block requests below this many bytes bypass the pool (plain 64-byte aligned operator new).
  static constexpr std::size_t min_pooled_bytes = std::size_t{1} << 20;
  /// Byte vectors of at least this capacity are recycled: the mmap threshold workers fix
  /// (bound_allocator_retention), from which every allocation is fresh pages (smaller ones reuse
  /// the heap).
  static constexpr std::size_t min_recycled_bytes = std::size_t{64} << 10;
  /// Under a memory limit, the share of it the pool may retain: 3/16 (the array blocks' eighth
  /// and the receive and shuffle buffers' 32nd each, before they were one pool).
  static constexpr std::uint64_t limit_share_num = 3, limit_share_den = 16;
  /// Byte vectors retain at most capacity / vector_share_den: under a limit its 16th, the
  /// receive buffers' and pieces' old 32nds, so a run that makes no array chunks (a shuffle, a
  /// sort) does not keep the chunks' eighth in vectors too (measured: df-sort at 64 MiB peaked
  /// 10-20 MiB higher without this share).
  static constexpr std::size_t vector_share_den = 3;

  /// The process-wide pool (never destroyed: buffers may come back during exit). Its capacity
  /// defaults to min(1 GiB, 25% of physical memory or of the cgroup's limit) and can be set with
  /// TESSERA_BUFFER_POOL_BYTES ("512MiB"; "0" disables recycling).
  /// Throws: ConfigError if that variable is not a byte size.
  static BufferPool& instance();

  /// A pool retaining at most `capacity_bytes`.
  explicit BufferPool(std::size_t capacity_bytes);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// A block of at least `bytes` bytes (64-byte aligned), owned by the returned pointer; it goes
  /// back to this pool (or to the OS if the pool is full) when the last owner drops it, even
  /// after the pool is destroyed. Contents are unspecified.
  /// Throws: std::bad_alloc if the OS refuses.
  std::shared_ptr<std::byte> allocate(std::size_t bytes);

  /// A byte vector of `size` bytes. From min_recycled_bytes up it is a vector given back with
  /// recycle() if one fits (capacity at most 2 x size + min_recycled_bytes; contents
  /// unspecified), else a fresh, zero-filled one whose pages are advised as transparent huge
  /// pages (madvise(MADV_HUGEPAGE)) when it is >= 4 MiB.
  /// Throws: std::bad_alloc.
  [[nodiscard]] std::vector<std::byte> take_bytes(std::size_t size);
  /// Gives a byte vector back for reuse; smaller ones than min_recycled_bytes, and any that would
  /// pass the cap or the vectors' share of it, are freed. Leaves `bytes` empty.
  void recycle(std::vector<std::byte>&& bytes) noexcept;

  /// Sets the cap on retained bytes, releasing retained memory above it.
  void set_capacity(std::size_t bytes);
  /// Lowers the cap to limit_share of `memory_limit` (never raises it); 0 changes nothing.
  void bound_by_memory_limit(std::uint64_t memory_limit);
  /// The cap on retained bytes.
  [[nodiscard]] std::size_t capacity() const;
  /// Returns all retained memory to the OS.
  void release_all();
  /// Current counters.
  [[nodiscard]] BufferPoolStats stats() const;
  /// Size class a block request of `bytes` is rounded up to (>= bytes; pooled requests only).
  [[nodiscard]] static std::size_t size_class(std::size_t bytes) noexcept;

private:
  struct State;
  std::shared_ptr<State> m_state;
};

}  // namespace tessera
