#pragma once

// Private to the MPI backend: checkpoints (storage/checkpoint.hpp) on the workers, as tasks.
// Rank 0 owns the checkpoint (header, index, fingerprints) and plans each run (ResumePlan); the
// results stay where they are computed:
//   - a task that runs is sent wrapped (record_result): the worker runs it, then adds the
//     result to its own shard of the checkpoint (segments `g<generation>.r<rank>.N.h5` next to
//     rank 0's, batched and sealed as on threads);
//   - a task whose result is recorded becomes a load task (load_task) that any worker runs by
//     reading the segment (a shared file system; the rank count may differ from the job that
//     wrote it);
//   - at the end of a run, one seal task per worker that recorded seals what it batched
//     (seal_task), so a compute() that returned is durable.
// No message of the protocol changes: these are ordinary tasks (code reference + state), and
// their failures (a full disk, a missing segment) reach rank 0 as task failures naming the file.

#include "scheduling/mpi/protocol_tasks.hpp"

#include <tessera/storage/checkpoint.hpp>

#include <string>

namespace tessera::detail::mpi {

/// Where a worker records the results of one run: the checkpoint's absolute path, the prefix of
/// that worker's shard segments, and the run's number and graph fingerprint.
struct ShardTarget {
  std::string path;
  std::string prefix;
  std::uint32_t run = 0;
  std::uint64_t fingerprint = 0;
};

/// Rewrites `task` (entry and state encoded) so that its worker records the result under
/// task.key in `target` after running it.
void record_result(RunTask& task, const ShardTarget& target);
/// A task (no inputs) that reads the recorded result `entry` as result `id`.
RunTask load_task(DataId id, std::string key, const Checkpoint::Entry& entry);
/// A task that seals what the worker's shard of `target` batched; its result is the number of
/// results it held (a std::uint64_t).
RunTask seal_task(DataId id, const ShardTarget& target);

/// Seals and closes this process's shards (a worker that ends). Errors are swallowed: the
/// results are lost, not wrong, and the rerun computes them.
void close_checkpoint_shards() noexcept;

}  // namespace tessera::detail::mpi
