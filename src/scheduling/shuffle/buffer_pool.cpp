// The recycled buffers of serialized shuffle pieces (shuffle_buffer, shuffle_service.hpp).
// Splitting a partition writes every piece into fresh memory, and fresh memory faults a page
// at a time on first touch (1-2 GB/s here, against ~30 GB/s for memory already mapped): a
// buffer that held a piece of the last partition holds one of the next instead.
#include <tessera/core/config.hpp>
#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/storage/process_memory.hpp>

#include <map>
#include <mutex>

namespace tessera::detail {

namespace {

class PiecePool {
public:
  static PiecePool& instance() {
    static auto* pool = new PiecePool;  // never destroyed: buffers may come back at exit
    return *pool;
  }

  Bytes take(std::size_t size) {
    {
      std::lock_guard lock(m_mutex);
      auto it = m_free.lower_bound(size);
      // A much bigger buffer is left for a bigger piece.
      if (it != m_free.end() && it->first <= 2 * size + min_pooled_piece_bytes) {
        Bytes b = std::move(it->second);
        m_retained -= it->first;
        m_free.erase(it);
        ++m_hits;
        b.resize(size);  // within its capacity: at most a warm tail is zeroed
        return b;
      }
      ++m_misses;
    }
    Bytes b;
    b.reserve(size);  // untouched pages: advised before the zero-fill faults them in
    advise_huge_pages(b.data(), size);
    b.resize(size);
    return b;
  }

  void give(Bytes&& b) noexcept {
    const std::size_t cap = b.capacity();
    if (cap < min_pooled_piece_bytes) return;
    std::lock_guard lock(m_mutex);
    if (m_retained + cap > limit()) return;  // freed by the caller
    try {
      m_free.emplace(cap, std::move(b));
      m_retained += cap;
    } catch (...) {  // no memory for the bookkeeping: let the buffer go
    }
  }

  ShuffleBufferStats stats() const {
    std::lock_guard lock(m_mutex);
    return {m_hits, m_misses, m_retained, limit()};
  }

private:
  static std::uint64_t limit() {
    // Under a memory limit a 32nd of it: the pool is memory the store does not count, next to
    // the receive pool's sixteenth (at 256 MiB x 3 workers a sixteenth here too put the peak RSS
    // 8-14 MiB over limit + 64 MiB; bench/README.md: bounded shuffles).
    const std::uint64_t budget = memory_budget();
    return budget ? budget / 32 : std::uint64_t{1} << 30;
  }
  mutable std::mutex m_mutex;
  std::multimap<std::size_t, Bytes> m_free;
  std::uint64_t m_retained = 0, m_hits = 0, m_misses = 0;
};

}  // namespace

std::shared_ptr<Bytes> shuffle_buffer(std::size_t size) {
  auto& pool = PiecePool::instance();
  return std::shared_ptr<Bytes>(new Bytes(pool.take(size)), [](Bytes* b) {
    PiecePool::instance().give(std::move(*b));
    delete b;
  });
}

ShuffleBufferStats shuffle_buffer_stats() { return PiecePool::instance().stats(); }

}  // namespace tessera::detail
