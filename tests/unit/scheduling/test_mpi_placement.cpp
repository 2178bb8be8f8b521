// The MPI scheduler's placement policy (src/scheduling/mpi/placement.hpp) without MPI: near
// the inputs first, then the least loaded, independent tasks spread out, capacity per worker,
// and no new work for a worker above its memory pause threshold while another can take it.
#include <doctest/doctest.h>

#include "scheduling/mpi/placement.hpp"

#include <set>
#include <vector>

using tessera::detail::mpi::Placement;

namespace {
/// Rank 0 plus `workers` workers with `threads` threads each.
Placement policy(int workers, unsigned threads) {
  return Placement(std::vector<unsigned>(static_cast<std::size_t>(workers) + 1, threads));
}
}  // namespace

TEST_SUITE("scheduling.mpi.placement") {

TEST_CASE("a task goes to the worker that holds most of its input bytes") {
  auto p = policy(3, 2);
  const std::vector<int> on2{2}, on3{3}, on0{0};
  const std::vector<Placement::Input> inputs{{on3, 10}, {on2, 1000}, {on0, 5000}};
  CHECK(p.choose(inputs) == 2);  // rank 0's literal never draws a task to rank 0
  p.sent(2);
  p.sent(2);
  CHECK(p.choose(inputs) == 3);  // worker 2 is full (2 threads): the next best holder
}

TEST_CASE("between workers holding the same bytes the less loaded one wins") {
  auto p = policy(3, 4);
  const std::vector<int> both{1, 2};
  const std::vector<Placement::Input> inputs{{both, 64}};
  p.sent(1);
  CHECK(p.choose(inputs) == 2);
  p.sent(2);
  p.sent(2);
  CHECK(p.choose(inputs) == 1);
}

TEST_CASE("independent tasks spread over the workers") {
  auto p = policy(3, 8);
  std::set<int> used;
  for (int k = 0; k < 3; ++k) {
    const int w = p.choose({});
    REQUIRE(w >= 1);
    used.insert(w);
    p.sent(w);
  }
  CHECK(used == std::set<int>{1, 2, 3});
  CHECK(p.total_in_flight() == 3);
}

TEST_CASE("a worker takes its thread count in flight, more once tasks are short") {
  auto p = policy(2, 1);
  p.sent(p.choose({}));
  p.sent(p.choose({}));
  CHECK(p.in_flight(1) == 1);
  CHECK(p.in_flight(2) == 1);
  CHECK(p.choose({}) == -1);  // everyone is busy: wait for a completion
  p.returned(1);
  CHECK(p.choose({}) == 1);
  CHECK(p.capacity(1) == 1);
  p.timed(0.5);
  CHECK(p.capacity(1) == 1);
  for (int k = 0; k < 500; ++k) p.timed(0.0001);  // the average falls below 2 ms
  CHECK(p.capacity(1) == 257);
}

TEST_CASE("a paused worker gets no work while another can take it") {
  auto p = policy(2, 4);
  const std::vector<int> on1{1};
  const std::vector<Placement::Input> inputs{{on1, 1 << 20}};
  CHECK(p.choose(inputs) == 1);
  p.set_paused(1, true);
  CHECK(p.choose(inputs) == 2);  // far from the input, but worker 1 is above its threshold
  p.set_paused(2, true);
  CHECK(p.choose(inputs) == 1);  // everyone is paused: work goes on, near the input
  p.set_paused(1, false);
  p.set_paused(2, false);
  CHECK(p.choose(inputs) == 1);
}

}  // TEST_SUITE
