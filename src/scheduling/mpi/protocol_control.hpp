#pragma once

// Private: the control messages of the scheduler/worker protocol (protocol.hpp): statistics
// request and reply, and shutdown.

#include "scheduling/mpi/protocol.hpp"
#include "scheduling/mpi/protocol_wire.hpp"

#include <span>

namespace tessera::detail::mpi {

/// tag_stats_request, scheduler -> worker: asks for a StatsReply. Empty.
struct StatsRequest {
  static constexpr const char* kind = "stats_request";
  [[nodiscard]] Bytes encode() const { return {}; }
  /// Throws: ProtocolError if the message is not empty.
  static StatsRequest decode(std::span<const std::byte> bytes);
  friend bool operator==(const StatsRequest&, const StatsRequest&) = default;
};

/// tag_stats_reply, worker -> scheduler: the worker's counters (WorkerStats without the rank,
/// which is the message's source).
struct StatsReply {
  static constexpr const char* kind = "stats_reply";
  std::uint64_t tasks_run = 0;
  std::uint64_t bytes_fetched = 0;
  std::uint64_t bytes_served = 0;
  std::uint64_t peak_rss = 0;
  std::uint64_t held_bytes = 0;
  double busy_seconds = 0;
  std::uint64_t memory_limit = 0;
  std::uint64_t held_peak = 0;
  std::uint64_t bytes_spilled = 0;
  std::uint64_t bytes_unspilled = 0;
  double spill_seconds = 0;
  std::uint64_t pauses = 0;
  std::uint64_t ready_rss = 0;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the field and byte offset.
  static StatsReply decode(std::span<const std::byte> bytes);
  friend bool operator==(const StatsReply&, const StatsReply&) = default;
};

/// tag_shutdown, scheduler -> worker: the run is over; serve() returns `exit_code`.
struct Shutdown {
  static constexpr const char* kind = "shutdown";
  std::int32_t exit_code = 0;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the field and byte offset.
  static Shutdown decode(std::span<const std::byte> bytes);
  friend bool operator==(const Shutdown&, const Shutdown&) = default;
};

}  // namespace tessera::detail::mpi
