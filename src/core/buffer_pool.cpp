// The process's one pool of recycled memory (core/buffer_pool.hpp): blocks in size classes for
// array chunks, byte vectors for messages and shuffle pieces, under one cap.
#include <tessera/core/buffer_pool.hpp>
#include <tessera/core/config.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <string>

namespace tessera {

using Bytes = std::vector<std::byte>;

struct BufferPool::State {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_blocks;  // size class -> retained blocks
  std::multimap<std::size_t, Bytes> free_vectors;         // capacity -> retained vectors
  std::size_t capacity = 0;
  std::uint64_t retained = 0;          // blocks and vectors
  std::uint64_t retained_vectors = 0;  // vectors alone: at most vector_capacity()
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { trim(0); }

  static void* os_allocate(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    // No MADV_HUGEPAGE: measured on our VMs, huge-page first touch was slower (compaction).
    return p;
  }
  static void os_free(void* p, std::size_t bytes) noexcept { (void)::munmap(p, bytes); }

  [[nodiscard]] std::size_t vector_capacity() const noexcept { return capacity / vector_share_den; }

  /// Drops retained memory, largest first, until retained <= limit, then vectors, largest
  /// first, until they are within their share. Caller holds the mutex.
  void trim(std::size_t limit) noexcept {
    trim_total(limit);
    while (retained_vectors > vector_capacity() && !free_vectors.empty()) drop_largest_vector();
  }

  void drop_largest_vector() noexcept {
    const auto it = std::prev(free_vectors.end());
    retained -= it->first;
    retained_vectors -= it->first;
    free_vectors.erase(it);  // frees the vector's memory
  }

  void trim_total(std::size_t limit) noexcept {
    while (retained > limit && (!free_blocks.empty() || !free_vectors.empty())) {
      const std::size_t block = free_blocks.empty() ? 0 : std::prev(free_blocks.end())->first;
      const std::size_t vector = free_vectors.empty() ? 0 : std::prev(free_vectors.end())->first;
      if (block >= vector) {
        auto it = std::prev(free_blocks.end());
        os_free(it->second.back(), it->first);
        it->second.pop_back();
        if (it->second.empty()) free_blocks.erase(it);
        retained -= block;
      } else {
        drop_largest_vector();
      }
    }
  }

  void give_block(void* p, std::size_t cls) noexcept {
    {
      std::lock_guard lock(mutex);
      if (retained + cls <= capacity) {
        try {
          free_blocks[cls].push_back(p);
          retained += cls;
          return;
        } catch (...) {  // out of memory for the bookkeeping: release the block instead
        }
      }
    }
    os_free(p, cls);
  }
};

namespace {

std::size_t default_capacity() {
  std::size_t phys = 0;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) phys = static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string limit;
  if (cg >> limit && limit != "max") {
    try {
      const auto v = static_cast<std::size_t>(std::stoull(limit));
      if (v > 0 && (phys == 0 || v < phys)) phys = v;
    } catch (...) {  // unreadable limit: keep the physical memory size
    }
  }
  const std::size_t one_gib = std::size_t{1} << 30;
  return phys == 0 ? one_gib : std::min(one_gib, phys / 4);
}

constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr std::size_t huge_vector_min = std::size_t{4} << 20;

/// A fresh zero-filled vector; big ones have their untouched pages advised as huge pages before
/// the zero-fill faults them in.
Bytes fresh_bytes(std::size_t size) {
  Bytes v;
  if (size >= huge_vector_min) {
    v.reserve(size);
    const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
    const auto first = (begin + huge_page - 1) & ~(huge_page - 1);
    const auto last = (begin + size) & ~(huge_page - 1);
    if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
  v.resize(size);
  return v;
}

}  // namespace

BufferPool& BufferPool::instance() {
  static auto* pool = new BufferPool([] {
    if (auto bytes = detail::runtime_config().buffer_pool_bytes) return static_cast<std::size_t>(*bytes);
    return default_capacity();
  }());
  return *pool;
}

BufferPool::BufferPool(std::size_t capacity_bytes) : m_state(std::make_shared<State>()) {
  m_state->capacity = capacity_bytes;
}

BufferPool::~BufferPool() { release_all(); }

std::size_t BufferPool::size_class(std::size_t bytes) noexcept {
  if (bytes <= min_pooled_bytes) return min_pooled_bytes;
  const std::size_t base = std::bit_floor(bytes);
  const std::size_t step = base / 4;
  return base + (bytes - base + step - 1) / step * step;
}

std::shared_ptr<std::byte> BufferPool::allocate(std::size_t bytes) {
  if (bytes < min_pooled_bytes) {
    const std::size_t n = std::max<std::size_t>(bytes, 64);
    void* p = ::operator new(n, std::align_val_t{64});
    return {static_cast<std::byte*>(p), [](std::byte* q) { ::operator delete(q, std::align_val_t{64}); }};
  }
  const std::size_t cls = size_class(bytes);
  void* p = nullptr;
  {
    std::lock_guard lock(m_state->mutex);
    auto it = m_state->free_blocks.find(cls);
    if (it != m_state->free_blocks.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      if (it->second.empty()) m_state->free_blocks.erase(it);
      m_state->retained -= cls;
      ++m_state->hits;
    } else {
      ++m_state->misses;
    }
  }
  if (p == nullptr) p = State::os_allocate(cls);
  std::shared_ptr<State> state = m_state;
  return {static_cast<std::byte*>(p), [state, cls](std::byte* q) { state->give_block(q, cls); }};
}

std::vector<std::byte> BufferPool::take_bytes(std::size_t size) {
  if (size >= min_recycled_bytes) {
    std::unique_lock lock(m_state->mutex);
    auto it = m_state->free_vectors.lower_bound(size);
    // A much bigger vector is left for a bigger request.
    if (it != m_state->free_vectors.end() && it->first <= 2 * size + min_recycled_bytes) {
      Bytes v = std::move(it->second);
      m_state->retained -= it->first;
      m_state->retained_vectors -= it->first;
      m_state->free_vectors.erase(it);
      ++m_state->hits;
      lock.unlock();
      v.resize(size);  // within its capacity: at most a warm tail is zeroed
      return v;
    }
    ++m_state->misses;
  }
  return fresh_bytes(size);
}

void BufferPool::recycle(std::vector<std::byte>&& bytes) noexcept {
  Bytes v = std::move(bytes);
  bytes = Bytes{};
  const std::size_t cap = v.capacity();
  if (cap < min_recycled_bytes) return;
  std::lock_guard lock(m_state->mutex);
  if (m_state->retained + cap > m_state->capacity) return;  // v is freed on return
  if (m_state->retained_vectors + cap > m_state->vector_capacity()) return;
  try {
    m_state->free_vectors.emplace(cap, std::move(v));
    m_state->retained += cap;
    m_state->retained_vectors += cap;
  } catch (...) {  // no memory for the bookkeeping: let the vector go
  }
}

void BufferPool::set_capacity(std::size_t bytes) {
  std::lock_guard lock(m_state->mutex);
  m_state->capacity = bytes;
  m_state->trim(bytes);
}

void BufferPool::bound_by_memory_limit(std::uint64_t memory_limit) {
  if (memory_limit == 0) return;
  const auto share = static_cast<std::size_t>(memory_limit / limit_share_den * limit_share_num);
  std::lock_guard lock(m_state->mutex);
  if (share >= m_state->capacity) return;
  m_state->capacity = share;
  m_state->trim(share);
}

std::size_t BufferPool::capacity() const {
  std::lock_guard lock(m_state->mutex);
  return m_state->capacity;
}

void BufferPool::release_all() {
  std::lock_guard lock(m_state->mutex);
  m_state->trim(0);
}

BufferPoolStats BufferPool::stats() const {
  std::lock_guard lock(m_state->mutex);
  return {m_state->hits,      m_state->misses, m_state->retained, m_state->capacity, m_state->retained_vectors,
          m_state->vector_capacity()};
}

}  // namespace tessera
