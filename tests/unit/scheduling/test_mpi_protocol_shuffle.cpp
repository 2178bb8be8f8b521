// The MPI shuffle service's messages (src/scheduling/mpi/protocol_shuffle.hpp) without MPI:
// round trips, and the checks that are theirs (ranges of inputs and outputs against the spec,
// inline sizes, the ok flag). Truncations and bytes left over of every sample are covered with
// the other messages' in test_mpi_protocol.cpp (the samples are shared).
#include <doctest/doctest.h>

#include "support/protocol_samples.hpp"

#include <cstring>
#include <random>
#include <string>

namespace proto = tessera::testing::protocol;
namespace mpi = tessera::detail::mpi;
using tessera::Bytes;

namespace {
mpi::ProtocolError decode_error(proto::Selector selector, const Bytes& bytes) {
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

// Offsets in the sample put: token 0, spec id 8, seq 16, n_in 24, n_out 28, input 32, count 36,
// piece 0 at 40 (output 40, separate 44, size 45, its 11 inline bytes 53), piece 1 at 64.
constexpr std::size_t at_n_in = 24, at_input = 32, at_count = 36, at_piece0 = 40, at_piece1 = 64;
}  // namespace

TEST_SUITE("scheduling.mpi.protocol.shuffle") {

TEST_CASE("every shuffle message decodes to what was encoded") {
  const auto put_msg = proto::sample_shuffle_put();
  const Bytes encoded = put_msg.encode();  // the decoded inline pieces view these bytes
  const auto back = mpi::ShufflePut::decode(encoded);
  CHECK(back == put_msg);
  REQUIRE(back.pieces.size() == 3);
  CHECK(back.pieces[1].separate);
  CHECK(back.pieces[1].bytes.empty());
  CHECK(back.pieces[1].size == std::uint64_t{1} << 20);
  CHECK(std::equal(back.pieces[0].bytes.begin(), back.pieces[0].bytes.end(),
                   proto::sample_piece_bytes().begin(), proto::sample_piece_bytes().end()));
  const mpi::ShuffleAck failed{9, false, "rank 3: boom"};
  CHECK(mpi::ShuffleAck::decode(failed.encode()) == failed);
  const mpi::ShuffleAck empty_error{10, false, ""};
  CHECK(mpi::ShuffleAck::decode(empty_error.encode()) == empty_error);
  CHECK(mpi::ShuffleDrop::decode(mpi::ShuffleDrop{}.encode()) == mpi::ShuffleDrop{});
  CHECK(mpi::ShuffleStatsRequest::decode(mpi::ShuffleStatsRequest{}.encode()) == mpi::ShuffleStatsRequest{});
  const auto stats = proto::sample_shuffle_stats();
  CHECK(mpi::ShuffleStatsReply::decode(stats.encode()) == stats);
  CHECK(mpi::ShuffleStatsReply::decode(stats.encode()).stats.bytes_received == 9);
}

TEST_CASE("the framing helpers write exactly what encode() writes") {
  const auto m = proto::sample_shuffle_put();
  mpi::WireWriter w(mpi::ShufflePut::kind);
  m.encode_head(w);
  for (const auto& p : m.pieces) {
    mpi::ShufflePut::encode_piece_head(w, p.output, p.separate, p.size);
    w.raw(p.bytes);
  }
  CHECK(std::move(w).take() == m.encode());
}

TEST_CASE("an acknowledgement that succeeded carries no error text") {
  const auto b = mpi::ShuffleAck{1, true, "ignored"}.encode();
  CHECK(b.size() == 9);
  CHECK(mpi::ShuffleAck::decode(b).error.empty());
  Bytes bad = b;
  bad[8] = std::byte{2};
  const auto e = decode_error(proto::shuffle_ack, bad);
  CHECK(e.field() == "ok");
  CHECK(e.offset() == 8);
}

TEST_CASE("an input or output outside the spec is rejected, naming the piece") {
  Bytes b = proto::sample_shuffle_put().encode();
  put<std::uint32_t>(b, at_input, 4);  // n_in is 4
  auto e = decode_error(proto::shuffle_put, b);
  CHECK(e.kind() == "shuffle_put");
  CHECK(e.field() == "input");
  CHECK(e.offset() == at_input);
  CHECK_FALSE(e.item().has_value());
  b = proto::sample_shuffle_put().encode();
  put<std::uint32_t>(b, at_n_in, 0);  // no input is in range
  CHECK(decode_error(proto::shuffle_put, b).field() == "input");
  b = proto::sample_shuffle_put().encode();
  put<std::uint32_t>(b, at_piece1, 5);  // n_out is 5
  e = decode_error(proto::shuffle_put, b);
  CHECK(e.field() == "output");
  CHECK(e.item() == std::optional<std::size_t>(1));
  CHECK(e.offset() == at_piece1);
  CHECK(std::string(e.what()).find("piece 1, field 'output' at byte 64: output partition 5 of a shuffle of 5 outputs") !=
        std::string::npos);
}

TEST_CASE("more pieces than outputs, or than the bytes can frame, are rejected before allocating") {
  const mpi::ShufflePut three{1, {0, 0, 1, 2}, 0, {{0, true, 5, {}}, {1, true, 5, {}}, {1, true, 5, {}}}};
  auto e = decode_error(proto::shuffle_put, three.encode());
  CHECK(e.field() == "count");
  CHECK(e.offset() == at_count);
  CHECK(std::string(e.what()).find("3 pieces for a shuffle of 2 outputs") != std::string::npos);
  Bytes b = proto::sample_shuffle_put().encode();
  put<std::uint32_t>(b, at_count, 0xffffffffu);
  e = decode_error(proto::shuffle_put, b);
  CHECK(e.field() == "count");
  CHECK(std::string(e.what()).find("count 4294967295") != std::string::npos);
}

TEST_CASE("an inline size the bytes cannot hold and a bad separate flag are rejected") {
  Bytes b = proto::sample_shuffle_put().encode();
  put<std::uint64_t>(b, at_piece0 + 5, std::uint64_t{1} << 40);
  auto e = decode_error(proto::shuffle_put, b);
  CHECK(e.field() == "size");
  CHECK(e.item() == std::optional<std::size_t>(0));
  CHECK(e.offset() == at_piece0 + 5);
  b = proto::sample_shuffle_put().encode();
  b[at_piece0 + 4] = std::byte{3};
  e = decode_error(proto::shuffle_put, b);
  CHECK(e.field() == "separate");
  CHECK(e.item() == std::optional<std::size_t>(0));
}

TEST_CASE("a piece whose inline bytes disagree with its size cannot be encoded") {
  auto m = proto::sample_shuffle_put();
  m.pieces[0].size += 1;
  CHECK_THROWS_AS((void)m.encode(), mpi::ProtocolError);
  m = proto::sample_shuffle_put();
  m.pieces[1].bytes = m.pieces[0].bytes;  // a separate piece carries nothing inline
  try {
    (void)m.encode();
    FAIL("encoding did not throw");
  } catch (const mpi::ProtocolError& e) {
    CHECK(std::string(e.what()).find("cannot encode 'shuffle_put' message: piece 1, field 'size'") == 0);
  }
}

TEST_CASE("drop and stats requests must be empty, a stats reply must be complete") {
  CHECK(decode_error(proto::shuffle_drop, Bytes{std::byte{0}}).kind() == "shuffle_drop");
  CHECK(decode_error(proto::shuffle_stats, Bytes{std::byte{0}}).field() == "end");
  Bytes s = proto::sample_shuffle_stats().encode();
  s.resize(s.size() - 8);
  const auto e = decode_error(proto::shuffle_stats_reply, s);
  CHECK(e.field() == "bytes_received");
  CHECK(e.offset() == 64);
}

TEST_CASE("garbage and corrupted shuffle messages decode canonically or throw ProtocolError") {
  std::mt19937_64 rng(13);
  const proto::Selector selectors[] = {proto::shuffle_put, proto::shuffle_ack, proto::shuffle_drop,
                                       proto::shuffle_stats, proto::shuffle_stats_reply};
  int decoded = 0, rejected = 0;
  for (const auto& s : proto::samples()) {
    if (s.selector < proto::shuffle_put) continue;
    for (int round = 0; round < 200; ++round) {
      Bytes b = s.bytes;
      if (b.empty() || round % 4 == 0) {  // pure garbage of a random length
        b.resize(rng() % 96);
        for (auto& x : b) x = static_cast<std::byte>(rng());
      } else {
        for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
          b[rng() % b.size()] = static_cast<std::byte>(rng());
        }
      }
      for (auto sel : selectors) {
        Bytes again;
        try {
          again = proto::reencode(sel, b);
        } catch (const mpi::ProtocolError& e) {
          CHECK_FALSE(e.field().empty());
          ++rejected;
          continue;
        }
        CHECK(again == b);
        ++decoded;
      }
    }
  }
  CHECK(decoded > 0);
  CHECK(rejected > 0);
}

}  // TEST_SUITE
