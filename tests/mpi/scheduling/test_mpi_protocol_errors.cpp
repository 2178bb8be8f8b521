// A worker that receives a message it cannot decode stops serving with a ProtocolError that
// names the message and the rank that sent it (Runtime::serve then ends the job with that
// reason), instead of dropping the message and leaving rank 0 waiting forever. Run at 2 ranks:
// rank 0 plays a broken scheduler, rank 1 is a real Worker.
#include <tessera/transport/messenger.hpp>

#include <doctest/doctest.h>

#include "scheduling/mpi/protocol.hpp"
#include "scheduling/mpi/protocol_shuffle.hpp"
#include "scheduling/mpi/protocol_wire.hpp"
#include "scheduling/mpi/worker.hpp"
#include "support/mpi_support.hpp"

#include <string>
#include <vector>

namespace mpi = tessera::detail::mpi;
using tessera::testing::world;

namespace {
/// Rank 0 sends `bytes` with `tag` to rank 1, whose Worker must stop with a ProtocolError whose
/// message contains `expected`. Returns what rank 1 saw (empty elsewhere).
std::string worker_error(int tag, std::vector<std::byte> bytes) {
  const auto w = world();
  tessera::Messenger m(w);
  std::string seen;
  if (w.rank() == 0) {
    m.send(1, tag, std::move(bytes));
  } else if (w.rank() == 1) {
    mpi::Worker worker(m, 1, 0, tessera::MemoryThresholds{});
    try {
      (void)worker.serve();
      seen = "serve() returned";
    } catch (const mpi::ProtocolError& e) {
      seen = e.what();
    } catch (const std::exception& e) {
      seen = std::string("not a ProtocolError: ") + e.what();
    }
  }
  w.barrier();
  return seen;
}

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}
}  // namespace

TEST_SUITE("scheduling.mpi.protocol_errors") {

TEST_CASE("a malformed message stops the worker with an error naming the message and its sender") {
  REQUIRE(world().size() == 2);  // registered at 2 ranks only
  struct Case {
    int tag;
    std::vector<std::byte> bytes;
    std::string expected;
  };
  const std::vector<Case> cases{
      {mpi::tag_run, bytes_of({0xff, 0xff, 0xff, 0xff}), "malformed 'run' message (4 bytes) from rank 0: field 'count'"},
      {mpi::tag_release, bytes_of({1, 0, 0}), "malformed 'release' message (3 bytes) from rank 0: field 'count'"},
      {mpi::tag_fetch, bytes_of({1, 0, 0, 0, 7}), "malformed 'fetch' message (5 bytes) from rank 0"},
      {mpi::tag_data_body, bytes_of({1, 2, 3}), "malformed 'data_body' message (3 bytes) from rank 0: field 'header'"},
      {mpi::tag_shutdown, bytes_of({0}), "malformed 'shutdown' message (1 bytes) from rank 0: field 'exit_code'"},
      // The shuffle service's messages (its handlers run in the worker too).
      {mpi::tag_shuffle_put, bytes_of({1, 2, 3}), "malformed 'shuffle_put' message (3 bytes) from rank 0: field 'token'"},
      {mpi::tag_shuffle_body, bytes_of({1, 2, 3}),
       "malformed 'shuffle_body' message (3 bytes) from rank 0: field 'body' at byte 0: a piece's body without a put"},
      {mpi::tag_shuffle_ack, bytes_of({1, 0, 0, 0, 0, 0, 0, 0, 5}),
       "malformed 'shuffle_ack' message (9 bytes) from rank 0: field 'ok' at byte 8"},
      {mpi::tag_shuffle_drop, bytes_of({0}), "malformed 'shuffle_drop' message (1 bytes) from rank 0: field 'end'"},
      {mpi::tag_shuffle_stats, bytes_of({0, 0}), "malformed 'shuffle_stats' message (2 bytes) from rank 0: field 'end'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expected);
    const std::string seen = worker_error(c.tag, c.bytes);
    if (world().rank() == 1) CHECK(seen.find(c.expected) == 0);
  }
}

}  // TEST_SUITE
