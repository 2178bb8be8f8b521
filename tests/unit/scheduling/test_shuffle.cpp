// The shuffle suite on the local schedulers, plus the in-process service's own guarantees.
#include <tessera/core/buffer_pool.hpp>
#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/scheduling/shuffle.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <type_traits>

struct SyncTag {};
struct Threads1Tag {};
struct Threads4Tag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  if constexpr (std::is_same_v<Tag, SyncTag>) return std::make_shared<tessera::SyncScheduler>();
  else if constexpr (std::is_same_v<Tag, Threads1Tag>)
    return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{1});
  else return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{4});
}

template <class Tag>
tessera::detail::ShuffleService::Stats shuffle_test_stats() {
  return tessera::detail::local_shuffle_service().stats();
}

#define TESSERA_TEST_SCHEDULERS SyncTag, Threads1Tag, Threads4Tag
#include "support/shuffle_suite.hpp"

TEST_SUITE("scheduling.shuffle_service") {

using tessera::Value;
using tessera::detail::ShufflePiece;
using Piece = ShufflePiece<std::vector<int>>;

std::vector<int> payload(const Value& v) { return v.decoded<Piece>().get<Piece>().value; }

TEST_CASE("a piece stored twice under the same key is kept once: the second replaces the first") {
  auto& service = tessera::detail::local_shuffle_service();
  const auto spec = tessera::detail::new_shuffle_spec(2, 1);
  const auto held = service.stats().pieces_held;
  service.put(spec, "twice", 0, {Value::of(Piece(std::vector<int>{1, 2}))});
  service.put(spec, "twice", 1, {Value::of(Piece(std::vector<int>{3}))});
  service.put(spec, "twice", 0, {Value::of(Piece(std::vector<int>{7, 8, 9}))});  // a retried transfer
  CHECK(service.stats().pieces_held == held + 2);
  auto pieces = service.take(spec, "twice", 0).values;
  REQUIRE(pieces.size() == 2);
  CHECK(payload(pieces[0]) == std::vector<int>{7, 8, 9});
  CHECK(payload(pieces[1]) == std::vector<int>{3});
  CHECK(service.stats().pieces_held == held);
}

TEST_CASE("taking an output twice, or with a piece missing, names the shuffle, the output and the input") {
  auto& service = tessera::detail::local_shuffle_service();
  const auto spec = tessera::detail::new_shuffle_spec(2, 2);
  service.put(spec, "gappy", 0, {Value::of(Piece({1})), Value::of(Piece({2}))});
  try {
    (void)service.take(spec, "gappy", 1);
    FAIL("a missing piece was not reported");
  } catch (const tessera::ShuffleError& e) {
    const std::string what = e.what();
    CHECK(what.find("shuffle 'gappy' #") != std::string::npos);
    CHECK(what.find("input partition 1 for output partition 1 of 2") != std::string::npos);
  }
  service.drop(spec.id);
  CHECK_THROWS_AS((void)service.take(spec, "gappy", 0), tessera::ShuffleError);
}

TEST_CASE("dropping a shuffle forgets all its pieces, and only its pieces") {
  auto& service = tessera::detail::local_shuffle_service();
  const auto a = tessera::detail::new_shuffle_spec(1, 2);
  const auto b = tessera::detail::new_shuffle_spec(1, 1);
  const auto held = service.stats().pieces_held;
  service.put(a, "a", 0, {Value::of(Piece({1})), Value::of(Piece({2}))});
  service.put(b, "b", 0, {Value::of(Piece({3}))});
  CHECK(service.stats().pieces_held == held + 3);
  service.drop(a.id);
  CHECK(service.stats().pieces_held == held + 1);
  CHECK(payload(service.take(b, "b", 0).values.at(0)) == std::vector<int>{3});
}

TEST_CASE("a run's end drops the shuffles its tasks touched, not those of other runs") {
  auto& service = tessera::detail::local_shuffle_service();
  const auto mine = tessera::detail::new_shuffle_spec(1, 1);
  const auto other = tessera::detail::new_shuffle_spec(1, 1);
  const auto held = service.stats().pieces_held;
  {
    const tessera::detail::ShuffleRunScope scope(1001);
    service.put(mine, "mine", 0, {Value::of(Piece({1}))});
  }
  {
    const tessera::detail::ShuffleRunScope scope(1002);
    service.put(other, "other", 0, {Value::of(Piece({2}))});
  }
  tessera::detail::end_shuffle_run(1001);
  CHECK(service.stats().pieces_held == held + 1);
  CHECK_THROWS_AS((void)service.take(mine, "mine", 0), tessera::ShuffleError);
  CHECK(payload(service.take(other, "other", 0).values.at(0)) == std::vector<int>{2});
  tessera::detail::end_shuffle_run(1002);
}

TEST_CASE("shuffle() rejects zero outputs and empty handles when the graph is built") {
  std::vector<tessera::Delayed<shuffle_suite::Records>> parts(1);
  CHECK_THROWS_AS((void)tessera::hash_shuffle(shuffle_suite::inputs(1, 1, false), 0, &shuffle_suite::key_of),
                  tessera::GraphError);
  CHECK_THROWS_AS((void)tessera::hash_shuffle(parts, 2, &shuffle_suite::key_of), tessera::GraphError);
}

TEST_CASE("a hash split of records writes the pieces the generic split would, serialized") {
  using shuffle_suite::Records;
  Records part;
  for (std::uint64_t k = 0; k < 5000; ++k) part.push_back({k % 37, k * 3});
  const tessera::HashPartition split(&shuffle_suite::key_of);
  for (std::size_t n_out : {1, 3, 8}) {
    CAPTURE(n_out);
    const auto generic = split(part, n_out);
    const auto fast = tessera::detail::hash_split_serialized(split, part, n_out);
    REQUIRE(fast.size() == n_out);
    for (std::size_t j = 0; j < n_out; ++j) {
      CHECK(fast[j].is_serialized());
      CHECK(*fast[j].bytes() == tessera::encode(generic[j]));
    }
  }
  CHECK(tessera::detail::hash_split_serialized(split, Records{}, 2).at(1).bytes()->size() == 8);  // count 0
}

TEST_CASE("piece buffers come from the buffer pool: a dropped one serves the next piece that fits") {
  using tessera::detail::shuffle_buffer;
  auto& pool = tessera::BufferPool::instance();
  constexpr std::size_t size = (std::size_t{1} << 20) + 12345;  // a size nothing else asks for
  const auto s0 = pool.stats();
  const std::byte* where = nullptr;
  {
    auto a = shuffle_buffer(size);
    CHECK(a->size() == size);
    where = a->data();
  }
  if (s0.capacity_bytes < s0.retained_bytes + size || s0.vector_capacity_bytes < s0.vector_bytes + size) {
    // Under a small memory limit (the under_a_memory_limit run) the pool keeps nothing more.
    CHECK(pool.stats().retained_bytes == s0.retained_bytes);
    return;
  }
  CHECK(pool.stats().retained_bytes == s0.retained_bytes + size);
  auto b = shuffle_buffer(size - 100);
  CHECK(b->data() == where);
  CHECK(b->size() == size - 100);
  CHECK(pool.stats().hits == s0.hits + 1);
  const auto retained = pool.stats().retained_bytes;
  { auto small = shuffle_buffer(100); }  // below BufferPool::min_recycled_bytes: freed, not kept
  CHECK(pool.stats().retained_bytes == retained);
}

}  // TEST_SUITE
