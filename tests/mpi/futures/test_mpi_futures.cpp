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

TEST_CASE("results held by futures are freed on the workers when the last future is dropped" *
          doctest::skip(tessera::testing::world_size() < 2)) {  // no workers at one rank: skipped
  auto& rt = *tessera::Runtime::current();
  REQUIRE(rt.size() >= 2);
  auto held = [&] {
    std::uint64_t n = 0;
    for (const auto& s : rt.stats()) n += s.held_bytes;
    return n;
  };
  auto settle = [&](auto pred) {
    for (int i = 0; i < 100 && !pred(); ++i) usleep(20'000);
    return pred();
  };
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
