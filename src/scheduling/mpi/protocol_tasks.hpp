#pragma once

// Private: the task messages of the scheduler/worker protocol (protocol.hpp): the run batch
// rank 0 sends a worker, and the done batch a worker sends back.

#include "scheduling/mpi/protocol.hpp"
#include "scheduling/mpi/protocol_wire.hpp"

#include <tessera/serialization/code_ref.hpp>

#include <span>
#include <string>
#include <vector>

namespace tessera::detail::mpi {

/// An input of a task: its result id and the rank to fetch it from if it is not held.
struct TaskInput {
  DataId id = 0;
  std::int32_t holder = 0;
  friend bool operator==(const TaskInput&, const TaskInput&) = default;
};

/// One task to run: result id, key (for errors), entry point, callable + literal arguments
/// (TaskBody::encode_state), and its inputs in argument order.
struct RunTask {
  DataId id = 0;
  std::string key;
  CodeRef entry;
  Bytes state;
  std::vector<TaskInput> inputs;
  friend bool operator==(const RunTask&, const RunTask&) = default;
};

/// tag_run, scheduler -> worker: tasks to execute.
struct RunBatch {
  static constexpr const char* kind = "run";
  std::vector<RunTask> tasks;

  [[nodiscard]] Bytes encode() const;
  /// `ranks`: the communicator size (every holder must be a rank of it).
  /// Throws: ProtocolError naming the task, field and byte offset.
  static RunBatch decode(std::span<const std::byte> bytes, int ranks);
  friend bool operator==(const RunBatch&, const RunBatch&) = default;
};

/// One finished task: its size, times (seconds since the worker started) and thread, or the
/// exception it threw (type, message).
struct Completion {
  DataId id = 0;
  bool ok = true;
  std::uint64_t nbytes = 0;
  double start = 0, stop = 0;
  std::int32_t thread = 0;
  std::string type, message;  // only when !ok
  friend bool operator==(const Completion&, const Completion&) = default;
};

/// A data movement for the task stream: a result fetched from a peer, spilled, read back.
struct TransferEvent {
  enum Kind : std::uint8_t { fetch = 0, spill = 1, unspill = 2 };
  DataId id = 0;
  std::int32_t from = 0, to = 0;
  std::uint64_t bytes = 0;
  double start = 0, stop = 0;
  Kind kind = fetch;
  friend bool operator==(const TransferEvent&, const TransferEvent&) = default;
};

/// tag_done, worker -> scheduler: completions, and whether the worker is above its memory
/// pause threshold (it then gets no new work while another worker can take it).
struct DoneBatch {
  static constexpr const char* kind = "done";
  bool paused = false;
  std::vector<Completion> completions;
  std::vector<TransferEvent> events;  // since the last batch

  [[nodiscard]] Bytes encode() const;
  /// `ranks`: the communicator size (event ranks must be ranks of it).
  /// Throws: ProtocolError naming the completion or event, field and byte offset.
  static DoneBatch decode(std::span<const std::byte> bytes, int ranks);
  friend bool operator==(const DoneBatch&, const DoneBatch&) = default;
};

}  // namespace tessera::detail::mpi
