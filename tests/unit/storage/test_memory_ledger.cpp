#include <tessera/core/error.hpp>
#include <tessera/storage/memory_ledger.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using tessera::MemoryLedger;
using tessera::MemoryState;

namespace {

/// `prefix` followed by `i` ("k17"). Appending avoids a GCC 12 -O2 -Wrestrict false positive on
/// `"k" + std::to_string(i)`.
std::string numbered(const char* prefix, long i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}
}  // namespace

TEST_SUITE("storage.ledger") {

TEST_CASE("the ledger accounts bytes exactly through add, replace and remove") {
  MemoryLedger ledger;
  ledger.add("a", 100);
  ledger.add("b", 250);
  CHECK(ledger.held() == 350);
  CHECK(ledger.size() == 2);
  ledger.add("a", 40);  // replaced, not added twice
  CHECK(ledger.held() == 290);
  CHECK(ledger.bytes_of("a") == 40);
  CHECK(ledger.peak() == 350);
  CHECK(ledger.remove("b"));
  CHECK_FALSE(ledger.remove("b"));
  CHECK(ledger.held() == 40);
  CHECK(ledger.peak() == 350);
  ledger.reset_peak();
  CHECK(ledger.peak() == 40);
  CHECK_THROWS_WITH_AS((void)ledger.bytes_of("zz"), doctest::Contains("'zz'"),
                       tessera::StorageError);
}

TEST_CASE("victims are the least recently used keys, enough to free the requested bytes") {
  MemoryLedger ledger;
  ledger.add("a", 10);
  ledger.add("b", 20);
  ledger.add("c", 30);
  ledger.add("d", 40);
  CHECK(ledger.choose_victims(0).empty());
  CHECK(ledger.choose_victims(1) == std::vector<std::string>{"a"});
  CHECK(ledger.choose_victims(25) == std::vector<std::string>{"a", "b"});
  CHECK(ledger.touch("a"));
  CHECK_FALSE(ledger.touch("nope"));
  CHECK(ledger.choose_victims(25) == std::vector<std::string>{"b", "c"});
  // Asking for more than is held returns every unpinned key, oldest first.
  CHECK(ledger.choose_victims(1000) == std::vector<std::string>{"b", "c", "d", "a"});
  // Re-adding a key makes it most recently used.
  ledger.add("b", 20);
  CHECK(ledger.choose_victims(1) == std::vector<std::string>{"c"});
}

TEST_CASE("pinned keys are never victims and pins are counted") {
  MemoryLedger ledger;
  ledger.add("a", 10);
  ledger.add("b", 20);
  ledger.add("c", 30);
  ledger.pin("a");
  ledger.pin("a");
  CHECK(ledger.is_pinned("a"));
  CHECK(ledger.pinned_bytes() == 10);
  CHECK(ledger.choose_victims(1000) == std::vector<std::string>{"b", "c"});
  ledger.unpin("a");
  CHECK(ledger.choose_victims(1000) == std::vector<std::string>{"b", "c"});
  ledger.unpin("a");  // last pin: now most recently used
  CHECK_FALSE(ledger.is_pinned("a"));
  CHECK(ledger.pinned_bytes() == 0);
  CHECK(ledger.choose_victims(1000) == std::vector<std::string>{"b", "c", "a"});
  // Resizing a pinned key keeps pinned_bytes exact; removing a pinned key releases it.
  ledger.pin("c");
  ledger.add("c", 35);
  CHECK(ledger.pinned_bytes() == 35);
  CHECK(ledger.is_pinned("c"));
  CHECK(ledger.remove("c"));
  CHECK(ledger.pinned_bytes() == 0);
  CHECK(ledger.held() == 30);
  CHECK_THROWS_WITH_AS(ledger.pin("ghost"), doctest::Contains("'ghost'"), tessera::StorageError);
  CHECK_THROWS_WITH_AS(ledger.unpin("b"), doctest::Contains("not pinned"), tessera::StorageError);
}

TEST_CASE("states follow the thresholds of the limit") {
  MemoryLedger ledger(1000, {0.5, 0.7, 0.9});
  CHECK(ledger.state() == MemoryState::ok);
  ledger.add("a", 500);
  CHECK_FALSE(ledger.above_target());  // at target is not above it
  ledger.add("b", 1);
  CHECK(ledger.above_target());
  CHECK_FALSE(ledger.above_spill());
  CHECK(ledger.excess_over_target() == 1);
  ledger.add("c", 250);
  CHECK(ledger.state() == MemoryState::above_spill);
  ledger.add("d", 200);
  CHECK(ledger.above_pause());
  CHECK(ledger.state() == MemoryState::above_pause);
  ledger.set_limit(0);  // unlimited
  CHECK(ledger.state() == MemoryState::ok);
  CHECK(ledger.excess_over_target() == 0);
  CHECK_THROWS_AS(ledger.set_thresholds({0.8, 0.7, 0.9}), tessera::ConfigError);
  CHECK_THROWS_AS(MemoryLedger(10, {0.0, 0.7, 0.9}), tessera::ConfigError);
}

TEST_CASE("100k entries: victims for a small request come from the cold end") {
  MemoryLedger ledger;
  constexpr int n = 100'000;
  for (int i = 0; i < n; ++i) ledger.add(numbered("k", i), 8);
  for (int i = 0; i < n; i += 2) ledger.touch(numbered("k", i));  // evens become hot
  CHECK(ledger.held() == 8ULL * n);
  const auto victims = ledger.choose_victims(8 * 3);
  CHECK(victims == std::vector<std::string>{"k1", "k3", "k5"});
  int removed = 0;
  for (int i = 0; i < n; ++i) removed += ledger.remove(numbered("k", i)) ? 1 : 0;
  CHECK(removed == n);
  CHECK(ledger.held() == 0);
  CHECK(ledger.size() == 0);
}

TEST_CASE("concurrent add/pin/unpin/remove from several threads keeps exact totals") {
  MemoryLedger ledger;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ledger, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = std::to_string(t) + "/" + std::to_string(i);
        ledger.add(key, 3);
        ledger.pin(key);
        (void)ledger.choose_victims(10);
        ledger.unpin(key);
        if (i % 2 == 0) ledger.remove(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ledger.size() == 4 * 1000);
  CHECK(ledger.held() == 3ULL * 4 * 1000);
  CHECK(ledger.pinned_bytes() == 0);
}

TEST_CASE("charged working memory counts as held and pinned, is never a victim, and goes back") {
  MemoryLedger l(1000);  // target 600
  l.add("a", 300);
  l.add("b", 200);
  l.charge(400);
  CHECK(l.held() == 900);
  CHECK(l.pinned_bytes() == 400);
  CHECK(l.charged_bytes() == 400);
  CHECK(l.peak() == 900);
  CHECK(l.excess_over_target() == 300);
  // The charge pushes the keys out: both are victims, the charge itself is not a key.
  CHECK(l.choose_victims(l.excess_over_target()) == std::vector<std::string>{"a"});
  CHECK(l.choose_victims(10000) == std::vector<std::string>{"a", "b"});
  CHECK(l.state() == tessera::MemoryState::above_pause);
  l.discharge(150);
  CHECK(l.held() == 750);
  CHECK(l.charged_bytes() == 250);
  l.discharge(1000);  // more than charged: only what is charged goes
  CHECK(l.held() == 500);
  CHECK(l.pinned_bytes() == 0);
  CHECK(l.charged_bytes() == 0);
  CHECK(l.size() == 2);
}

}  // TEST_SUITE
