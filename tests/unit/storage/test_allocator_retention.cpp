// bound_allocator_retention: freed chunk-sized blocks leave the resident set at once, so a
// worker's RSS follows what its memory ledger holds (apps/bounded, bench/README.md: memory).
#include <tessera/storage/process_memory.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TESSERA_TEST_OWN_MALLOC 0  // the sanitizers replace malloc: mallopt does nothing there
#else
#define TESSERA_TEST_OWN_MALLOC 1
#endif

namespace {
constexpr std::size_t MiB = std::size_t{1} << 20;

// What glibc would keep without the bound: one freed 2 MiB block raises its mmap threshold, the
// next blocks come from this thread's arena, and freeing all but the topmost one cannot trim.
std::uint64_t rss_kept_after_freeing_all_but_last() {
  std::uint64_t kept = 0;
  std::thread t([&] {
    void* first = std::malloc(2 * MiB);
    std::memset(first, 1, 2 * MiB);
    std::free(first);
    std::vector<void*> blocks;
    for (int i = 0; i < 24; ++i) {
      blocks.push_back(std::malloc(2 * MiB));
      std::memset(blocks.back(), 1, 2 * MiB);
    }
    const std::uint64_t with_blocks = tessera::current_rss();
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i) std::free(blocks[i]);
    const std::uint64_t after = tessera::current_rss();
    kept = after + 46 * MiB > with_blocks ? after + 46 * MiB - with_blocks : 0;
    std::free(blocks.back());
  });
  t.join();
  return kept;
}
}  // namespace

TEST_CASE("bound_allocator_retention returns freed 2 MiB blocks to the OS at once") {
#if TESSERA_TEST_OWN_MALLOC && defined(__GLIBC__)
  REQUIRE(tessera::bound_allocator_retention());
  // 23 blocks (46 MiB) were freed: at most a few MiB may stay resident.
  CHECK(rss_kept_after_freeing_all_but_last() < 6 * MiB);
#else
  MESSAGE("not glibc's malloc: nothing to check");
#endif
}

TEST_CASE("with the bound, freed shuffle-piece-sized blocks (64-256 KiB) leave the resident set too") {
#if TESSERA_TEST_OWN_MALLOC && defined(__GLIBC__)
  REQUIRE(tessera::bound_allocator_retention());
  std::uint64_t kept = 0;
  std::thread t([&] {
    // 192 pieces of 170 KiB (a 32 MiB partition split 192 ways), all but the last freed: from a
    // heap they could not be trimmed (the last one sits on top); mapped, they go at once.
    std::vector<void*> blocks;
    for (int i = 0; i < 192; ++i) {
      blocks.push_back(std::malloc(170 << 10));
      std::memset(blocks.back(), 1, 170 << 10);
    }
    const std::uint64_t with_blocks = tessera::current_rss();
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i) std::free(blocks[i]);
    const std::uint64_t after = tessera::current_rss();
    const std::uint64_t freed = 191 * (std::uint64_t{170} << 10);
    kept = after + freed > with_blocks ? after + freed - with_blocks : 0;
    std::free(blocks.back());
  });
  t.join();
  CHECK(kept < 4 * MiB);
#else
  MESSAGE("not glibc's malloc: nothing to check");
#endif
}
