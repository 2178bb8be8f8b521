#pragma once

// One sample of every scheduler/worker protocol message (src/scheduling/mpi/protocol_*.hpp,
// the shuffle service's messages included),
// and a decoder selected by a number: shared by the round-trip and truncation tests
// (tests/unit/scheduling/test_mpi_protocol.cpp), the fuzz target (tests/fuzz/fuzz_protocol.cpp)
// and the seed writer (tests/fuzz/make_seeds.cpp), so that all three cover the same messages.

#include "scheduling/mpi/protocol_control.hpp"
#include "scheduling/mpi/protocol_data.hpp"
#include "scheduling/mpi/protocol_shuffle.hpp"
#include "scheduling/mpi/protocol_tasks.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::testing::protocol {

namespace mpi = tessera::detail::mpi;

/// The communicator size the samples and the fuzz target decode with (holders, event ranks).
constexpr int ranks = 4;

/// Which message a selector decodes (a fuzz input's first byte, modulo `selectors`).
enum Selector : std::uint8_t {
  run, done, fetch, release, gather, data, stats_request, stats_reply, shutdown,
  shuffle_put, shuffle_ack, shuffle_drop, shuffle_stats, shuffle_stats_reply, selectors
};

/// Decodes `bytes` as the message `selector` names and encodes the result again.
/// Throws: mpi::ProtocolError when the bytes are not such a message.
inline Bytes reencode(std::uint8_t selector, std::span<const std::byte> bytes) {
  switch (selector % selectors) {
    case run: return mpi::RunBatch::decode(bytes, ranks).encode();
    case done: return mpi::DoneBatch::decode(bytes, ranks).encode();
    case fetch: return mpi::FetchRequest::decode(bytes).encode();
    case release: return mpi::ReleaseRequest::decode(bytes).encode();
    case gather: return mpi::GatherRequest::decode(bytes).encode();
    case data: return mpi::DataHeader::decode(bytes).encode();
    case stats_request: return mpi::StatsRequest::decode(bytes).encode();
    case stats_reply: return mpi::StatsReply::decode(bytes).encode();
    case shutdown: return mpi::Shutdown::decode(bytes).encode();
    case shuffle_put: return mpi::ShufflePut::decode(bytes).encode();
    case shuffle_ack: return mpi::ShuffleAck::decode(bytes).encode();
    case shuffle_drop: return mpi::ShuffleDrop::decode(bytes).encode();
    case shuffle_stats: return mpi::ShuffleStatsRequest::decode(bytes).encode();
    default: return mpi::ShuffleStatsReply::decode(bytes).encode();
  }
}

inline Bytes state_bytes(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

inline mpi::RunBatch sample_run() {
  mpi::RunBatch b;
  b.tasks.push_back({7, "inc-5f1c0a2b3c4d5e6f", CodeRef{0x1234, 0x40}, state_bytes({1, 2, 3, 4, 5}),
                     {{3, 0}, {5, 2}}});
  b.tasks.push_back({8, "", CodeRef{0x1234, 0x80}, {}, {}});
  b.tasks.push_back({9, "sum-\xc3\xa9", CodeRef{1, 2}, state_bytes({0}), {{7, 1}, {8, 3}, {3, 0}}});
  return b;
}

inline mpi::DoneBatch sample_done() {
  mpi::DoneBatch d;
  d.paused = true;
  d.completions.push_back({7, true, 4096, 0.5, 0.75, 1, {}, {}});
  d.completions.push_back({8, false, 0, 1.0, 1.25, 0, "std::runtime_error", "boom: bad input"});
  d.completions.push_back({9, true, 0, 2.0, 2.0, 3, {}, {}});
  d.events.push_back({3, 0, 1, 1024, 0.1, 0.2, mpi::TransferEvent::fetch});
  d.events.push_back({7, 1, 1, 4096, 0.3, 0.4, mpi::TransferEvent::spill});
  d.events.push_back({7, 1, 1, 4096, 0.5, 0.6, mpi::TransferEvent::unspill});
  return d;
}

inline mpi::StatsReply sample_stats_reply() {
  mpi::StatsReply s;
  s.tasks_run = 12;
  s.bytes_fetched = 1 << 20;
  s.bytes_served = 3 << 10;
  s.peak_rss = 64 << 20;
  s.held_bytes = 5;
  s.busy_seconds = 1.5;
  s.memory_limit = 1 << 30;
  s.held_peak = 7;
  s.bytes_spilled = 8;
  s.bytes_unspilled = 9;
  s.spill_seconds = 0.25;
  s.pauses = 2;
  s.ready_rss = 40 << 20;
  return s;
}

/// The bytes the sample put's inline pieces view (static: the views outlive the call).
inline const Bytes& sample_piece_bytes() {
  static const Bytes b = state_bytes({9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff});
  return b;
}

/// A put of three pieces: two inline (one of them empty), one separate (its body follows).
inline mpi::ShufflePut sample_shuffle_put() {
  mpi::ShufflePut m;
  m.token = (std::uint64_t{2} << 48) | 17;
  m.spec = {1000, 3, 4, 5};
  m.input = 3;
  const auto& b = sample_piece_bytes();
  m.pieces.push_back({0, false, b.size(), std::span<const std::byte>(b)});
  m.pieces.push_back({2, true, std::uint64_t{1} << 20, {}});
  m.pieces.push_back({4, false, 0, {}});
  return m;
}

inline mpi::ShuffleStatsReply sample_shuffle_stats() {
  mpi::ShuffleStatsReply s;
  s.stats = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  return s;
}

struct Sample {
  std::string name;
  Selector selector;
  Bytes bytes;
};

/// Every message kind at least once, including the empty and failure forms.
inline std::vector<Sample> samples() {
  return {
      {"run", run, sample_run().encode()},
      {"run_empty", run, mpi::RunBatch{}.encode()},
      {"done", done, sample_done().encode()},
      {"done_empty", done, mpi::DoneBatch{}.encode()},
      {"fetch", fetch, mpi::FetchRequest{{1, 2, 3}}.encode()},
      {"fetch_empty", fetch, mpi::FetchRequest{}.encode()},
      {"release", release, mpi::ReleaseRequest{{42}}.encode()},
      {"gather", gather, mpi::GatherRequest{{7, 8}}.encode()},
      {"data_ok", data, mpi::DataHeader{11, mpi::DataHeader::ok, {}}.encode()},
      {"data_not_held", data,
       mpi::DataHeader{12, mpi::DataHeader::not_held, "result 12 is not held by rank 2"}.encode()},
      {"data_failed", data, mpi::DataHeader{13, mpi::DataHeader::failed, "spill read failed"}.encode()},
      {"stats_request", stats_request, mpi::StatsRequest{}.encode()},
      {"stats_reply", stats_reply, sample_stats_reply().encode()},
      {"shutdown", shutdown, mpi::Shutdown{3}.encode()},
      {"shuffle_put", shuffle_put, sample_shuffle_put().encode()},
      {"shuffle_put_empty", shuffle_put, mpi::ShufflePut{1, {0, 0, 1, 1}, 0, {}}.encode()},
      {"shuffle_ack", shuffle_ack, mpi::ShuffleAck{7, true, {}}.encode()},
      {"shuffle_ack_failed", shuffle_ack,
       mpi::ShuffleAck{8, false, "rank 2: tessera::StorageError: spill disk full"}.encode()},
      {"shuffle_drop", shuffle_drop, mpi::ShuffleDrop{}.encode()},
      {"shuffle_stats", shuffle_stats, mpi::ShuffleStatsRequest{}.encode()},
      {"shuffle_stats_reply", shuffle_stats_reply, sample_shuffle_stats().encode()},
  };
}

}  // namespace tessera::testing::protocol
