#pragma once

// Private: the messages between the scheduler (rank 0) and the workers. Every message is a
// batch, so one MPI message carries many tasks or completions.
//
//   run      scheduler -> worker   tasks to execute: id, key, entry, state, inputs (id, holder)
//   done     worker -> scheduler   completions: id, ok, result bytes, times, or the error
//   fetch    any -> holder         ids of results the sender needs
//   data     holder -> any         one result: header (id, status), then a data_body message
//   release  scheduler -> worker   ids of results nobody needs any more
//   gather   scheduler -> worker   ids of results to send to rank 0
//   stats    scheduler <-> worker  statistics request / reply
//   shutdown scheduler -> worker   the driver's exit code
// The messenger delivers the messages of one source in order across tags, so a data header
// and its data_body arrive back to back from that source.

#include <tessera/serialization/codec.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::detail::mpi {

enum Tag : int {
  tag_run = 1,
  tag_done = 2,
  tag_fetch = 3,
  tag_data = 4,
  tag_data_body = 5,
  tag_release = 6,
  tag_gather = 7,
  tag_stats_request = 8,
  tag_stats_reply = 9,
  tag_shutdown = 10,
};

using DataId = std::uint64_t;

inline void put_string(ByteWriter& w, std::string_view s) {
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
  w.write(s.data(), s.size());
}

inline std::string get_string(ByteReader& r) {
  const auto n = r.pod<std::uint32_t>();
  auto b = r.take(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace tessera::detail::mpi
