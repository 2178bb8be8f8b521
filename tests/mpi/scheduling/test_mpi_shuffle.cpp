// The shuffle suite on the MPI scheduler (rank 0 drives, the other ranks work and hold the
// pieces), plus MPI specifics. Registered at 1 (threaded fallback, in-process service), 2, 3
// and 4 ranks, and at 3 ranks under a memory limit that makes the owners spill.
#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/scheduling/mpi.hpp>
#include <tessera/scheduling/shuffle.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <set>

#include "support/world_size.hpp"

struct MpiTag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::Runtime::current()->scheduler();
}

template <class Tag>
tessera::detail::ShuffleService::Stats shuffle_test_stats() {
  return tessera::detail::worker_shuffle_stats();
}

#define TESSERA_TEST_SCHEDULERS MpiTag
#include "support/shuffle_suite.hpp"

namespace {
int my_rank() {
  const char* r = std::getenv("OMPI_COMM_WORLD_RANK");
  return r ? std::atoi(r) : 0;
}
// Output j's records, tagged with the rank its unpack ran on.
std::pair<int, shuffle_suite::Records> where_unpacked(const shuffle_suite::Records& r) { return {my_rank(), r}; }
}  // namespace

TEST_CASE("unpack j runs on the owner of output j, and pieces travel worker to worker") {
  using namespace shuffle_suite;
  const int size = tessera::testing::world_size();
  auto sched = make_test_scheduler<MpiTag>();
  const auto before = shuffle_test_stats<MpiTag>();
  auto outs = tessera::hash_shuffle(inputs(6, 4000, false), 5, &key_of, {.name = "owners"});
  std::vector<tessera::Delayed<std::pair<int, Records>>> tagged;
  for (std::size_t j = 0; j < outs.size(); ++j) {
    // The tag task reads the unpack's result where it is: it runs on the same worker.
    tagged.push_back(tessera::delayed(&where_unpacked, {.name = "where", .worker_hint = static_cast<std::int32_t>(j)})(outs[j]));
  }
  const auto got = tessera::compute(tagged, sched);
  std::vector<Records> records;
  for (std::size_t j = 0; j < got.size(); ++j) {
    records.push_back(got[j].second);
    if (size > 1) CHECK(got[j].first == 1 + static_cast<int>(j) % (size - 1));
  }
  CHECK(digest(records) == digest(expected_inputs(6, 4000, false)));
  const auto after = shuffle_test_stats<MpiTag>();
  if (size > 2) {
    CHECK(after.bytes_sent - before.bytes_sent > 0);
    CHECK(after.bytes_received - before.bytes_received == after.bytes_sent - before.bytes_sent);
  } else {
    CHECK(after.bytes_sent == before.bytes_sent);  // one worker: nothing leaves it
  }
}
