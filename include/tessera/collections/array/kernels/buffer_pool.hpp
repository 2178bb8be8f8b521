#pragma once

/// @file
/// Process-wide recycling of large array buffers. Fresh memory from the OS is slow to touch the
/// first time (page faults at 0.3-1 GB/s on our machines), and glibc hands large freed blocks
/// straight back to the OS, so every new chunk would pay that price again. BufferPool keeps freed
/// blocks of at least `min_pooled_bytes` in size classes (quarter powers of two) and hands them
/// out again, up to a cap on retained bytes. NDArray allocates through it.

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tessera {

/// Counters of a BufferPool, for diagnostics and tests.
struct BufferPoolStats {
  std::uint64_t hits = 0;            ///< allocations served from a retained block
  std::uint64_t misses = 0;          ///< allocations that went to the OS
  std::uint64_t retained_bytes = 0;  ///< bytes currently kept for reuse
  std::uint64_t capacity_bytes = 0;  ///< cap on retained_bytes
};

/// Recycles large, page-aligned (small requests: 64-byte aligned) memory blocks.
///
/// Thread safety: every member is thread safe.
class BufferPool {
public:
  /// Requests below this many bytes bypass the pool (plain aligned operator new).
  static constexpr std::size_t min_pooled_bytes = std::size_t{1} << 20;

  /// The process-wide pool. Its capacity defaults to min(1 GiB, 25% of physical memory) and can
  /// be set with the environment variable TESSERA_BUFFER_POOL_BYTES ("512MiB", "0" disables).
  /// Throws: ConfigError if that variable is not a byte size.
  static BufferPool& instance();

  /// A pool retaining at most `capacity_bytes`.
  explicit BufferPool(std::size_t capacity_bytes);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// A block of at least `bytes` bytes (64-byte aligned), owned by the returned pointer; it goes
  /// back to this pool (or to the OS if the pool is full) when the last owner drops it. The pool
  /// must outlive the block. Contents are unspecified.
  /// Throws: std::bad_alloc if the OS refuses.
  std::shared_ptr<std::byte> allocate(std::size_t bytes);

  /// Sets the cap on retained bytes, releasing retained blocks above it.
  void set_capacity(std::size_t bytes);
  /// Returns every retained block to the OS.
  void release_all();
  /// Current counters.
  [[nodiscard]] BufferPoolStats stats() const;
  /// Size class a request of `bytes` is rounded up to (>= bytes; pooled requests only).
  [[nodiscard]] static std::size_t size_class(std::size_t bytes) noexcept;

private:
  struct State;
  std::shared_ptr<State> m_state;
};

}  // namespace tessera
