#pragma once

// Private: the messages between the scheduler (rank 0) and the workers. Every message is a
// struct defined once, with its encode() and decode() side by side, in the header of its topic:
//
//   protocol_tasks.hpp    run      scheduler -> worker   RunBatch: tasks to execute (id, key,
//                                                        entry, state, inputs with holders)
//                         done     worker -> scheduler   DoneBatch: memory state, completions
//                                                        (id, ok, size, times or the error) and
//                                                        the data movements since the last one
//   protocol_data.hpp     fetch    any -> holder         FetchRequest: ids the sender needs
//                         data     holder -> any         DataHeader: one result's id and status,
//                                                        then (when ok) a data_body message
//                         data_body holder -> any        the result's Value bytes (no framing)
//                         release  scheduler -> worker   ReleaseRequest: ids nobody needs
//                         gather   scheduler -> worker   GatherRequest: ids to send to rank 0
//   protocol_control.hpp  stats    scheduler <-> worker  StatsRequest (empty) / StatsReply
//                         shutdown scheduler -> worker   Shutdown: the driver's exit code
//   protocol_shuffle.hpp  the shuffle service's messages (put, body, ack, drop, stats), on
//                         tags of their own (21001-21007), worker <-> worker and rank 0
//   protocol_wire.hpp     WireWriter / WireReader (lengths, flags, enums checked) and
//                         ProtocolError, which every decode() throws on malformed bytes.
//
// Heartbeats are the messenger's own (empty messages on a transport-internal tag).
// The messenger delivers the messages of one source in order across tags, so a data header
// and its data_body arrive back to back from that source. Every rank runs the same binary
// (checked at start-up), so the formats need no version: they only have to agree with
// themselves, and the decoders reject anything they did not write.

#include <cstdint>

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

/// A result's id in one Runtime: unique among the results of all its computations.
using DataId = std::uint64_t;

}  // namespace tessera::detail::mpi
