// The futures suite on the distributed runtime, plus release of results held by futures.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <unistd.h>

#include "support/world_size.hpp"

struct MpiTag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::Runtime::current()->scheduler();
}

#define TESSERA_TEST_SCHEDULERS MpiTag
#include "support/futures_suite.hpp"

namespace {
// Result bytes held on every rank now.
std::uint64_t held_on_all_ranks(tessera::Runtime& rt) {
  std::uint64_t n = 0;
  for (const auto& s : rt.stats()) n += s.held_bytes;
  return n;
}
// Waits up to 2 s for `pred` (releases travel asynchronously); returns its last value.
template <class Pred>
bool settle(Pred pred) {
  for (int i = 0; i < 100 && !pred(); ++i) usleep(20'000);
  return pred();
}
}  // namespace

TEST_CASE("results held by futures are freed on the workers when the last future is dropped" *
          doctest::skip(tessera::testing::world_size() < 2)) {  // no workers at one rank: skipped
  auto& rt = *tessera::Runtime::current();
  REQUIRE(rt.size() >= 2);
  auto held = [&] { return held_on_all_ranks(rt); };
  REQUIRE(settle([&] { return held() == 0; }));
  {
    tessera::Client client;
    auto f = client.submit([](int n) { return std::vector<double>(static_cast<std::size_t>(n), 1.0); }, 100'000);
    f.wait();
    CHECK(held() >= 800'000);
    auto copy = f;  // copies share the result
  }
  CHECK(settle([&] { return held() == 0; }));
}

TEST_CASE("a scattered value leaves rank 0 once: 1,000 tasks fetch it from workers, freed with its future" *
          doctest::skip(tessera::testing::world_size() < 2)) {  // no workers at one rank: skipped
  auto& rt = *tessera::Runtime::current();
  REQUIRE(rt.size() >= 2);
  auto held = [&] { return held_on_all_ranks(rt); };
  REQUIRE(settle([&] { return held() == 0; }));
  constexpr std::size_t n = std::size_t{8} << 20;  // 64 MiB of doubles
  constexpr std::uint64_t bytes = n * sizeof(double);
  const std::uint64_t before = rt.stats()[0].bytes_served;
  {
    tessera::Client client;
    auto data = client.scatter(std::vector<double>(n, 1.0));
    CHECK(data.done());
    CHECK(held() >= bytes);
    std::vector<tessera::Future<std::uint64_t>> fs;
    for (int i = 0; i < 1000; ++i) {
      fs.push_back(client.submit(
          [](const std::vector<double>& v, int k) { return static_cast<std::uint64_t>(v.size()) + static_cast<std::uint64_t>(k); },
          data, i));
    }
    const auto got = tessera::gather(fs);
    CHECK(got.front() == n);
    CHECK(got.back() == n + 999);
    const std::uint64_t sent = rt.stats()[0].bytes_served - before;
    MESSAGE("rank 0 served ", sent, " bytes for 1,000 tasks on one 64 MiB scattered array (",
            static_cast<double>(sent) / static_cast<double>(bytes), " x 64 MiB) on ", rt.size() - 1, " workers");
    CHECK(sent >= bytes);     // placed once...
    CHECK(sent < 2 * bytes);  // ...and never sent again (not 1,000 x 64 MiB)
  }
  CHECK(settle([&] { return held() == 0; }));
}

TEST_CASE("a broadcast value is copied to every worker once, worker to worker, tasks then read it where they run" *
          doctest::skip(tessera::testing::world_size() < 3)) {  // needs two workers: skipped, not passed
  auto& rt = *tessera::Runtime::current();
  REQUIRE(rt.size() >= 3);
  const auto workers = static_cast<std::uint64_t>(rt.size() - 1);
  auto held = [&] { return held_on_all_ranks(rt); };
  auto fetched = [&] {
    std::uint64_t f = 0;
    for (const auto& s : rt.stats()) f += s.bytes_fetched;
    return f;
  };
  REQUIRE(settle([&] { return held() == 0; }));
  constexpr std::size_t n = std::size_t{2} << 20;  // 16 MiB of doubles
  constexpr std::uint64_t bytes = n * sizeof(double);
  const std::uint64_t served0 = rt.stats()[0].bytes_served;
  const std::uint64_t fetched0 = fetched();
  {
    tessera::Client client;
    auto data = client.scatter(std::vector<double>(n, 2.0), {.broadcast = true});
    CHECK(data.done());
    // One copy per worker, the owner's included; the other workers fetched theirs from a peer.
    CHECK(held() >= workers * bytes);
    CHECK(held() < (workers + 1) * bytes);
    const std::uint64_t fetched1 = fetched();
    // The owner's copy came from rank 0 (placement), each other worker's from a peer.
    CHECK(fetched1 - fetched0 >= workers * bytes);
    CHECK(fetched1 - fetched0 < (workers + 1) * bytes);
    std::vector<tessera::Future<double>> fs;
    for (int i = 0; i < 200; ++i) {
      fs.push_back(client.submit([](const std::vector<double>& v, int k) { return v[static_cast<std::size_t>(k)] * k; },
                                 data, i));
    }
    const auto got = tessera::gather(fs);
    CHECK(got[7] == 14.0);
    CHECK(got[199] == 398.0);
    // No task fetched the value: every worker had it.
    CHECK(fetched() - fetched1 < bytes);
    const std::uint64_t sent = rt.stats()[0].bytes_served - served0;
    MESSAGE("broadcast of 16 MiB to ", workers, " workers: rank 0 served ", sent, " bytes; workers fetched ",
            fetched1 - fetched0, " bytes (the owner's copy from rank 0, the others from peers)");
    CHECK(sent >= bytes);
    CHECK(sent < 2 * bytes);  // rank 0 sent it once, not once per worker
  }
  // Every copy goes with the last future.
  CHECK(settle([&] { return held() == 0; }));
}
