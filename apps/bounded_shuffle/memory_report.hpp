#pragma once

// The memory side of tessera-bounded-shuffle: every rank's peak RSS (the OS's VmHWM, gathered
// to rank 0 by Runtime::stats()) against the bound of tessera-bounded (worker_peaks.hpp: the
// worker's limit + a stated overhead), and what each worker spilled.

#include <tessera/scheduling/mpi.hpp>

#include <vector>

namespace bounded {

/// Prints one line per rank (rank 0 has no bound: it holds no data) with its peak RSS, the
/// bound, its RSS when ready, the bytes it spilled and read back, and its busy time; then a
/// "FAIL: rank r peak RSS ..." line for each worker over its bound. Returns how many were over.
int report_memory(const std::vector<tessera::WorkerStats>& stats, double overhead_mib);

/// MiB of a byte count.
inline double mib(double bytes) { return bytes / (1 << 20); }

}  // namespace bounded
