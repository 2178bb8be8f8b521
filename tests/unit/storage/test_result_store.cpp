// ResultStore: results held under a memory limit, the least recently used unpinned ones spilled
// to HDF5 and read back bit for bit; nothing left on disk afterwards.
#include <tessera/storage/result_store.hpp>
#include <tessera/storage/working_memory.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <numeric>
#include <vector>

namespace {

using tessera::ResultStore;
using tessera::Value;

constexpr std::size_t kDoubles = 32768;  // 256 KiB of payload per result

Value block(double first) {
  std::vector<double> v(kDoubles);
  std::iota(v.begin(), v.end(), first);
  return Value::of(std::move(v));
}

std::vector<double> contents(const Value& v) { return v.decoded<std::vector<double>>().get<std::vector<double>>(); }

ResultStore::Options one_mib() {
  ResultStore::Options o;
  o.limit = 1 << 20;  // target 0.6: about two results stay in memory
  return o;
}

}  // namespace

TEST_CASE("past its target the store spills the least recently used results and reads them back") {
  ResultStore store(one_mib());
  store.put(1, block(1));
  store.put(2, block(2));
  CHECK_FALSE(store.is_spilled(1));
  CHECK(store.spill_path().empty());  // nothing written yet
  store.put(3, block(3));             // 768 KiB > 0.6 MiB: result 1 goes to disk
  CHECK(store.is_spilled(1));
  CHECK_FALSE(store.is_spilled(3));
  CHECK(store.held_bytes() <= static_cast<std::uint64_t>(0.6 * (1 << 20)));
  CHECK(std::filesystem::exists(store.spill_path()));

  const Value back = store.get(1);  // read back: now held again, another one spilled
  CHECK(back.is_serialized());
  CHECK(contents(back) == contents(block(1)));
  CHECK_FALSE(store.is_spilled(1));
  CHECK(store.is_spilled(2));
  const auto st = store.stats();
  CHECK(st.spills == 2);
  CHECK(st.unspills == 1);
  CHECK(st.bytes_spilled >= 2 * kDoubles * sizeof(double));
  CHECK(st.peak > st.held);

  const auto events = store.take_events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].id == 1);
  CHECK(events[0].kind == ResultStore::Event::spill);
  CHECK(events[1].kind == ResultStore::Event::unspill);
  CHECK(events[2].id == 2);
  CHECK(store.take_events().empty());
}

TEST_CASE("a result read back and spilled again is not written twice") {
  ResultStore store(one_mib());
  for (ResultStore::Id id = 1; id <= 3; ++id) store.put(id, block(static_cast<double>(id)));
  REQUIRE(store.is_spilled(1));
  (void)store.get(1);  // read back: spills 2
  (void)store.get(3);
  (void)store.get(2);  // read back: spills 1 again, from its blob already on disk
  CHECK(store.is_spilled(1));
  CHECK(store.stats().spills == 2);  // 1 and 2, once each
  CHECK(contents(store.get(1)) == contents(block(1)));
}

TEST_CASE("a pinned result is never spilled, whatever its age") {
  ResultStore store(one_mib());
  store.put(1, block(1));
  store.pin({1});
  for (ResultStore::Id id = 2; id < 8; ++id) store.put(id, block(static_cast<double>(id)));
  CHECK_FALSE(store.is_spilled(1));
  CHECK(store.is_spilled(2));
  store.unpin({1});        // the last unpin makes 1 the most recently used result
  store.put(8, block(8));  // spills 7
  CHECK_FALSE(store.is_spilled(1));
  store.put(9, block(9));  // spills 1
  CHECK(store.is_spilled(1));
  CHECK(contents(store.get(1)) == contents(block(1)));
}

TEST_CASE("erased results are gone from memory and disk, the spill directory goes with the store") {
  std::filesystem::path dir;
  {
    ResultStore store(one_mib());
    for (ResultStore::Id id = 1; id <= 4; ++id) store.put(id, block(static_cast<double>(id)));
    REQUIRE(store.is_spilled(1));
    dir = store.spill_path().parent_path();
    CHECK(std::filesystem::exists(dir));
    store.erase({1, 4, 99});  // spilled, held, unknown
    CHECK_FALSE(store.has(1));
    CHECK_FALSE(store.has(4));
    CHECK(store.get(1).empty());
    CHECK(store.has(2));
    store.put(2, block(20));  // replacing a spilled result drops its blob
    CHECK_FALSE(store.is_spilled(2));
    CHECK(contents(store.get(2)) == contents(block(20)));
  }
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("without a limit nothing is spilled and no file is created") {
  ResultStore store(ResultStore::Options{});
  for (ResultStore::Id id = 1; id <= 16; ++id) store.put(id, block(static_cast<double>(id)));
  CHECK(store.held_bytes() >= 16 * kDoubles * sizeof(double));
  CHECK(store.stats().spills == 0);
  CHECK(store.spill_path().empty());
  CHECK_FALSE(store.above_pause());
}

TEST_CASE("read-back buffers come from the owner's pool and go back to it") {
  int made = 0, recycled = 0;
  auto o = one_mib();
  o.buffers.make = [&](std::size_t n) {
    ++made;
    return std::vector<std::byte>(n);
  };
  o.buffers.recycle = [&](std::vector<std::byte>&&) { ++recycled; };
  ResultStore store(o);
  for (ResultStore::Id id = 1; id <= 3; ++id) store.put(id, block(static_cast<double>(id)));
  REQUIRE(store.is_spilled(1));
  {
    const Value v = store.get(1);
    CHECK(made == 1);
    store.erase({1});
    CHECK(recycled == 0);  // still owned by v
  }
  CHECK(recycled == 1);
}

TEST_CASE("a charge spills results to make room before the task allocates, and gives it back") {
  ResultStore store(one_mib());  // target 0.6 MiB
  store.put(1, block(1));
  store.put(2, block(2));
  const std::uint64_t one = store.held_bytes() / 2;  // 256 KiB and the vector
  const std::uint64_t work = 300 << 10;
  {
    tessera::MemoryCharge charge = store.charge(work);
    CHECK(charge.bytes() == work);
    // 812 KiB would pass the target: the older result went to disk first.
    CHECK(store.is_spilled(1));
    CHECK_FALSE(store.is_spilled(2));
    CHECK(store.held_bytes() == one + work);
    charge.add(100);
    CHECK(charge.bytes() == work + 100);
    tessera::MemoryCharge moved = std::move(charge);
    CHECK(charge.bytes() == 0);  // NOLINT(bugprone-use-after-move): a moved-from charge is empty
    CHECK(moved.bytes() == work + 100);
    CHECK(store.held_bytes() == one + work + 100);
  }
  CHECK(store.held_bytes() == one);
  CHECK(store.stats().peak >= one + work + 100);
}

TEST_CASE("take hands results over, held and spilled alike, still charged until released") {
  ResultStore store(one_mib());
  for (ResultStore::Id id = 1; id <= 5; ++id) store.put(id, block(static_cast<double>(id)));
  REQUIRE(store.is_spilled(1));
  REQUIRE(store.is_spilled(3));
  REQUIRE_FALSE(store.is_spilled(4));
  REQUIRE_FALSE(store.is_spilled(5));
  {
    auto taken = store.take({4, 1, 9});
    REQUIRE(taken.values.size() == 3);
    CHECK(contents(taken.values[0]) == contents(block(4)));
    CHECK(contents(taken.values[1]) == contents(block(1)));  // read back
    CHECK(taken.values[1].is_serialized());
    CHECK(taken.values[2].empty());  // unknown id
    CHECK(taken.charge.bytes() == taken.values[0].nbytes() + taken.values[1].nbytes());
    CHECK_FALSE(store.has(4));
    CHECK_FALSE(store.has(1));
    // Reading 1 back (charged first) spilled 5, never 4, which was being taken.
    CHECK(store.is_spilled(5));
    CHECK(store.held_bytes() == taken.charge.bytes());  // the charge: nothing else is held
  }
  CHECK(store.held_bytes() == 0);
  CHECK(contents(store.get(2)) == contents(block(2)));  // the others are untouched
}

TEST_CASE("charge_working_memory charges the store set for this process, and nothing without one") {
  CHECK(tessera::charge_working_memory(1 << 20).bytes() == 0);
  ResultStore store(one_mib());
  tessera::set_working_memory_store(&store);
  {
    auto charge = tessera::charge_working_memory(1000);
    CHECK(charge.bytes() == 1000);
    CHECK(store.held_bytes() == 1000);
  }
  CHECK(store.held_bytes() == 0);
  tessera::set_working_memory_store(nullptr);
  CHECK(tessera::working_memory_store() == nullptr);
}
