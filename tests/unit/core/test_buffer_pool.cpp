// The process's one pool of recycled memory (core/buffer_pool.hpp): blocks for array chunks and
// byte vectors for messages and shuffle pieces, under one cap.
#include <tessera/core/buffer_pool.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

using tessera::BufferPool;

TEST_SUITE("core") {

TEST_CASE("blocks are recycled within the cap, by size class") {
  BufferPool pool(8u << 20);
  CHECK(BufferPool::size_class((1u << 20) + 1) == (1u << 20) + (1u << 18));
  CHECK(BufferPool::size_class(3u << 20) == 3u << 20);
  const void* first = nullptr;
  {
    auto b = pool.allocate(3u << 20);
    first = b.get();
    std::memset(b.get(), 1, 3u << 20);
  }
  CHECK(pool.stats().retained_bytes == 3u << 20);
  {
    auto b = pool.allocate((3u << 20) - 100);  // same size class
    CHECK(b.get() == first);
    CHECK(pool.stats().hits == 1);
  }
  {
    auto big = pool.allocate(16u << 20);  // larger than the cap: never retained
    (void)big;
  }
  CHECK(pool.stats().retained_bytes == 3u << 20);
  pool.set_capacity(0);
  CHECK(pool.stats().retained_bytes == 0);
  auto small = pool.allocate(100);
  CHECK(reinterpret_cast<std::uintptr_t>(small.get()) % 64 == 0);
}

TEST_CASE("byte vectors are recycled when one fits, else fresh and zero-filled") {
  BufferPool pool(64u << 20);
  const auto small = pool.take_bytes(10);
  CHECK(small == std::vector<std::byte>(10));
  auto big = pool.take_bytes((std::size_t{8} << 20) + 1);
  CHECK(big.size() == (std::size_t{8} << 20) + 1);
  CHECK(std::all_of(big.begin(), big.end(), [](std::byte b) { return b == std::byte{0}; }));

  auto a = pool.take_bytes(std::size_t{3} << 20);
  a[0] = std::byte{9};
  const std::byte* where = a.data();
  pool.recycle(std::move(a));
  CHECK(a.empty());
  CHECK(pool.stats().retained_bytes == std::size_t{3} << 20);
  auto b = pool.take_bytes((std::size_t{2} << 20) + 1);  // fits: at most 2 x size + 64 KiB
  CHECK(b.data() == where);
  CHECK(b.size() == (std::size_t{2} << 20) + 1);
  CHECK(pool.stats().hits == 1);
  CHECK(pool.stats().retained_bytes == 0);
  pool.recycle(std::move(b));
  auto tiny = pool.take_bytes(std::size_t{1} << 20);  // 3 MiB is too big for 1 MiB: left alone
  CHECK(tiny.data() != where);
  CHECK(pool.stats().retained_bytes == std::size_t{3} << 20);
  auto below = pool.take_bytes(100);
  pool.recycle(std::move(below));  // below min_recycled_bytes: freed, not kept
  CHECK(pool.stats().retained_bytes == std::size_t{3} << 20);
}

TEST_CASE("blocks and byte vectors share one cap, and vectors keep to a third of it") {
  BufferPool pool(6u << 20);
  CHECK(pool.stats().vector_capacity_bytes == 2u << 20);
  { auto block = pool.allocate(3u << 20); }
  CHECK(pool.stats().retained_bytes == 3u << 20);
  pool.recycle(pool.take_bytes(std::size_t{2} << 20));
  CHECK(pool.stats().retained_bytes == 5u << 20);  // 3 MiB block + 2 MiB vector
  CHECK(pool.stats().vector_bytes == 2u << 20);    // the vectors' third
  pool.recycle(pool.take_bytes(std::size_t{1} << 19));  // within the cap, past the third: freed
  CHECK(pool.stats().retained_bytes == 5u << 20);
  { auto block = pool.allocate(2u << 20); }  // would pass the cap: freed
  CHECK(pool.stats().retained_bytes == 5u << 20);
  { auto block = pool.allocate(1u << 20); }  // fits exactly
  CHECK(pool.stats().retained_bytes == 6u << 20);
  // Trimming to 3 MiB drops the largest first (the 3 MiB block, leaving 3 MiB), then the
  // vectors past their new third (1 MiB): the 2 MiB vector. The 1 MiB block stays.
  pool.set_capacity(3u << 20);
  CHECK(pool.stats().retained_bytes == 1u << 20);
  CHECK(pool.stats().vector_bytes == 0);
  const auto hits = pool.stats().hits;
  { auto block = pool.allocate(1u << 20); }
  CHECK(pool.stats().hits == hits + 1);
  (void)pool.take_bytes(std::size_t{2} << 20);
  CHECK(pool.stats().hits == hits + 1);  // no vector was left to serve it
}

TEST_CASE("a memory limit lowers the cap to 3/16 of it, and never raises it") {
  BufferPool pool(std::size_t{1} << 30);
  for (int i = 0; i < 4; ++i) pool.recycle(pool.take_bytes(std::size_t{4} << 20));
  CHECK(pool.stats().retained_bytes == std::size_t{4} << 20);  // the same vector each time
  pool.recycle(pool.take_bytes(std::size_t{16} << 20));
  CHECK(pool.stats().retained_bytes == std::size_t{20} << 20);
  pool.bound_by_memory_limit(std::uint64_t{64} << 20);
  CHECK(pool.capacity() == std::size_t{12} << 20);
  CHECK(pool.stats().retained_bytes == std::size_t{4} << 20);  // the 16 MiB vector was released
  pool.bound_by_memory_limit(std::uint64_t{1} << 30);  // a larger limit: the cap stays
  CHECK(pool.capacity() == std::size_t{12} << 20);
  pool.bound_by_memory_limit(0);  // no limit: nothing changes
  CHECK(pool.capacity() == std::size_t{12} << 20);
}

TEST_CASE("blocks outlive their pool") {
  std::shared_ptr<std::byte> block;
  {
    BufferPool pool(8u << 20);
    block = pool.allocate(2u << 20);
  }
  std::memset(block.get(), 3, 2u << 20);
  block.reset();  // goes back to the pool's state, which the block kept alive, and is freed
  CHECK_FALSE(block);
}

}  // TEST_SUITE
