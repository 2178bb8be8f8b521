#pragma once

// The memory bound of the bounded-memory apps (tessera-bounded, tessera-bounded-shuffle): every
// worker's peak RSS, as the OS measured it (VmHWM, gathered to rank 0 by Runtime::stats()), must
// stay within its memory limit plus a fixed overhead: the footprint of the program, its
// libraries, Open MPI and the runtime's threads (45-55 MiB "when ready" on our machines) and the
// working set of the running tasks. Issue 13 states the bound as limit + 64 MiB.

#include <tessera/scheduling/mpi.hpp>

#include <vector>

namespace tessera::apps {

/// The bound of one worker: memory_limit + overhead_mib MiB, in bytes.
[[nodiscard]] double peak_bound(const WorkerStats& worker, double overhead_mib);

/// Checks every worker (stats[1..]: rank 0 holds no data) that has a memory limit against
/// peak_bound, prints "FAIL: rank r peak RSS x MiB > limit y MiB + z MiB overhead" for each one
/// over it, and returns how many were over. Called on rank 0 with Runtime::stats().
int check_worker_peaks(const std::vector<WorkerStats>& stats, double overhead_mib);

}  // namespace tessera::apps
