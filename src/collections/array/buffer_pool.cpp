#include <tessera/collections/array/kernels/buffer_pool.hpp>
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
#include <vector>

namespace tessera {

struct BufferPool::State {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_lists;  // size class -> retained blocks
  std::size_t capacity = 0;
  std::uint64_t retained = 0;
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

  // Drops retained blocks (largest first) until retained <= limit. Caller holds the mutex.
  void trim(std::size_t limit) noexcept {
    while (retained > limit && !free_lists.empty()) {
      auto it = std::prev(free_lists.end());
      while (!it->second.empty() && retained > limit) {
        os_free(it->second.back(), it->first);
        it->second.pop_back();
        retained -= it->first;
      }
      if (it->second.empty()) free_lists.erase(it);
    }
  }

  void give_back(void* p, std::size_t cls) noexcept {
    {
      std::lock_guard lock(mutex);
      // Under a worker's memory limit the pool keeps at most an eighth of it: with the receive
      // pool's sixteenth and results spilled from 60-70 % of the limit, held results plus
      // retained buffers stay below the limit (bench/README.md: where a worker's memory goes).
      const std::uint64_t budget = memory_budget();
      const std::size_t cap = budget ? std::min<std::size_t>(capacity, static_cast<std::size_t>(budget / 8)) : capacity;
      if (retained + cls <= cap) {
        try {
          free_lists[cls].push_back(p);
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

}  // namespace

BufferPool& BufferPool::instance() {
  static BufferPool pool([] {
    if (auto text = env_string("TESSERA_BUFFER_POOL_BYTES")) {
      return static_cast<std::size_t>(parse_bytes(*text));
    }
    return default_capacity();
  }());
  return pool;
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
    auto it = m_state->free_lists.find(cls);
    if (it != m_state->free_lists.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      m_state->retained -= cls;
      ++m_state->hits;
    } else {
      ++m_state->misses;
    }
  }
  if (p == nullptr) p = State::os_allocate(cls);
  std::shared_ptr<State> state = m_state;
  return {static_cast<std::byte*>(p), [state, cls](std::byte* q) { state->give_back(q, cls); }};
}

void BufferPool::set_capacity(std::size_t bytes) {
  std::lock_guard lock(m_state->mutex);
  m_state->capacity = bytes;
  m_state->trim(bytes);
}

void BufferPool::release_all() {
  std::lock_guard lock(m_state->mutex);
  m_state->trim(0);
}

BufferPoolStats BufferPool::stats() const {
  std::lock_guard lock(m_state->mutex);
  return {m_state->hits, m_state->misses, m_state->retained, m_state->capacity};
}

}  // namespace tessera
