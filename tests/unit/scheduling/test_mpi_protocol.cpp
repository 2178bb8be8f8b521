// The scheduler/worker protocol messages without MPI: every message round-trips, and every
// truncation, corruption or byte left over is a ProtocolError that names the message kind,
// the field, the item and the byte offset (never a crash or a read past the bytes: each
// truncated input is an exact-size copy, so the sanitizer builds catch any overread).
#include <doctest/doctest.h>

#include "support/protocol_samples.hpp"

#include <cstring>
#include <limits>
#include <string>

namespace proto = tessera::testing::protocol;
namespace mpi = tessera::detail::mpi;
using tessera::Bytes;

namespace {
/// The ProtocolError that decoding `bytes` as `selector` throws; fails the test if none.
mpi::ProtocolError error_of(proto::Selector selector, const Bytes& bytes) {
  try {
    (void)proto::reencode(selector, bytes);
  } catch (const mpi::ProtocolError& e) {
    return e;
  }
  FAIL("decoding did not throw");
  throw;  // unreachable: FAIL throws
}

template <class T>
void put(Bytes& b, std::size_t at, T v) {
  REQUIRE(at + sizeof(T) <= b.size());
  std::memcpy(b.data() + at, &v, sizeof(T));
}
}  // namespace

TEST_SUITE("scheduling.mpi.protocol") {

TEST_CASE("every message decodes to what was encoded") {
  const auto run = proto::sample_run();
  CHECK(mpi::RunBatch::decode(run.encode(), proto::ranks) == run);
  const auto done = proto::sample_done();
  CHECK(mpi::DoneBatch::decode(done.encode(), proto::ranks) == done);
  const mpi::FetchRequest fetch{{1, 2, std::numeric_limits<mpi::DataId>::max()}};
  CHECK(mpi::FetchRequest::decode(fetch.encode()) == fetch);
  const mpi::ReleaseRequest release{{42}};
  CHECK(mpi::ReleaseRequest::decode(release.encode()) == release);
  const mpi::GatherRequest gather{{7, 8}};
  CHECK(mpi::GatherRequest::decode(gather.encode()) == gather);
  const mpi::DataHeader header{12, mpi::DataHeader::not_held, "result 12 is not held by rank 2"};
  CHECK(mpi::DataHeader::decode(header.encode()) == header);
  CHECK(mpi::StatsRequest::decode(mpi::StatsRequest{}.encode()) == mpi::StatsRequest{});
  const auto stats = proto::sample_stats_reply();
  CHECK(mpi::StatsReply::decode(stats.encode()) == stats);
  CHECK(mpi::Shutdown::decode(mpi::Shutdown{-7}.encode()).exit_code == -7);
}

TEST_CASE("a completion that succeeded carries no error text") {
  mpi::DoneBatch d;
  d.completions.push_back({1, true, 8, 0, 0, 0, "ignored", "ignored"});
  const auto back = mpi::DoneBatch::decode(d.encode(), proto::ranks);
  CHECK(back.completions.at(0).type.empty());
  CHECK(back.completions.at(0).message.empty());
}

TEST_CASE("every sample re-encodes to its own bytes") {
  for (const auto& s : proto::samples()) {
    CAPTURE(s.name);
    CHECK(proto::reencode(s.selector, s.bytes) == s.bytes);
  }
}

TEST_CASE("every truncation of every message throws ProtocolError naming the kind") {
  for (const auto& s : proto::samples()) {
    for (std::size_t k = 0; k < s.bytes.size(); ++k) {
      CAPTURE(s.name);
      CAPTURE(k);
      const Bytes cut(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(k));
      const auto e = error_of(s.selector, cut);
      CHECK(e.offset() <= k);
      CHECK(std::string(e.what()).find("malformed '" + e.kind() + "' message") == 0);
      CHECK_FALSE(e.field().empty());
    }
  }
}

TEST_CASE("a byte left over after any message throws, naming the end") {
  for (const auto& s : proto::samples()) {
    CAPTURE(s.name);
    Bytes longer = s.bytes;
    longer.push_back(std::byte{0});
    const auto e = error_of(s.selector, longer);
    CHECK(e.field() == "end");
    CHECK(e.offset() == s.bytes.size());
  }
}

TEST_CASE("a count the bytes cannot hold throws before anything is allocated") {
  Bytes b = proto::sample_run().encode();
  put<std::uint32_t>(b, 0, std::numeric_limits<std::uint32_t>::max());
  const auto e = error_of(proto::run, b);
  CHECK(e.kind() == "run");
  CHECK(e.field() == "count");
  CHECK_FALSE(e.item().has_value());
  CHECK(e.offset() == 0);
  CHECK(std::string(e.what()).find("count 4294967295") != std::string::npos);
  Bytes ids = mpi::FetchRequest{{1}}.encode();
  put<std::uint32_t>(ids, 0, 2);
  CHECK(error_of(proto::fetch, ids).field() == "count");
}

TEST_CASE("a string longer than the bytes left names the task, the field and its offset") {
  Bytes b = proto::sample_run().encode();
  put<std::uint32_t>(b, 4 + 8, 1000);  // task 0's key length, after the count and its id
  const auto e = error_of(proto::run, b);
  CHECK(e.field() == "key");
  CHECK(e.item() == std::optional<std::size_t>(0));
  CHECK(e.offset() == 12);
  const std::string what = e.what();
  CHECK(what.find("malformed 'run' message (" + std::to_string(b.size()) + " bytes): task 0, field 'key' at byte 12") == 0);
}

TEST_CASE("a holder that is not a rank is rejected with the task that names it") {
  auto run = proto::sample_run();
  run.tasks.back().inputs.back().holder = proto::ranks;  // the last field of the message
  const Bytes b = run.encode();
  const auto e = error_of(proto::run, b);
  CHECK(e.field() == "input holder");
  CHECK(e.item() == std::optional<std::size_t>(2));
  CHECK(e.offset() == b.size() - 4);
  run.tasks.back().inputs.back().holder = -1;
  CHECK(error_of(proto::run, run.encode()).field() == "input holder");
}

TEST_CASE("flags other than 0 and 1 and enumerators out of range are rejected") {
  Bytes done = proto::sample_done().encode();
  done[0] = std::byte{2};  // paused
  CHECK(error_of(proto::done, done).field() == "paused");
  done = proto::sample_done().encode();
  done[1 + 4 + 8] = std::byte{7};  // completion 0's ok flag, after paused, count and its id
  const auto ok = error_of(proto::done, done);
  CHECK(ok.field() == "ok");
  CHECK(ok.item() == std::optional<std::size_t>(0));
  CHECK(ok.offset() == 13);
  done = proto::sample_done().encode();
  done.back() = std::byte{3};  // the last event's kind
  const auto kind = error_of(proto::done, done);
  CHECK(kind.field() == "kind");
  CHECK(kind.item() == std::optional<std::size_t>(2));
  CHECK(kind.offset() == done.size() - 1);
  CHECK(std::string(kind.what()).find("event 2") != std::string::npos);
  Bytes header = mpi::DataHeader{1, mpi::DataHeader::ok, {}}.encode();
  header[8] = std::byte{3};
  CHECK(error_of(proto::data, header).field() == "status");
}

TEST_CASE("a negative thread index and an event rank outside the job are rejected") {
  auto d = proto::sample_done();
  d.completions[1].thread = -1;
  CHECK(error_of(proto::done, d.encode()).field() == "thread");
  d = proto::sample_done();
  d.events[0].to = proto::ranks;
  const auto e = error_of(proto::done, d.encode());
  CHECK(e.field() == "to");
  CHECK(e.item() == std::optional<std::size_t>(0));
}

TEST_CASE("a stats request must be empty") {
  const auto e = error_of(proto::stats_request, Bytes{std::byte{1}});
  CHECK(e.kind() == "stats_request");
  CHECK(e.field() == "end");
}

TEST_CASE("a ProtocolError is a TransportError and can name the rank that sent the message") {
  const auto e = error_of(proto::shutdown, Bytes{std::byte{1}});
  CHECK_FALSE(e.source().has_value());
  const auto named = e.from_rank(3);
  CHECK(named.source() == std::optional<int>(3));
  CHECK(named.field() == e.field());
  CHECK(std::string(named.what()).find("malformed 'shutdown' message (1 bytes) from rank 3: field 'exit_code' at byte 0") == 0);
  CHECK_THROWS_AS(throw named, tessera::TransportError);
}

}  // TEST_SUITE
