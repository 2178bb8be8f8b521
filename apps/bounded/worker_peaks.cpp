// Each worker's peak RSS against its memory limit plus the stated overhead.
#include "worker_peaks.hpp"

#include <cstdio>

namespace tessera::apps {

double peak_bound(const WorkerStats& worker, double overhead_mib) {
  return static_cast<double>(worker.memory_limit) + overhead_mib * (1 << 20);
}

int check_worker_peaks(const std::vector<WorkerStats>& stats, double overhead_mib) {
  int over = 0;
  for (std::size_t r = 1; r < stats.size(); ++r) {
    const auto& w = stats[r];
    if (w.memory_limit == 0 || static_cast<double>(w.peak_rss) <= peak_bound(w, overhead_mib)) continue;
    std::printf("FAIL: rank %zu peak RSS %.1f MiB > limit %.1f MiB + %.0f MiB overhead\n", r,
                static_cast<double>(w.peak_rss) / (1 << 20), static_cast<double>(w.memory_limit) / (1 << 20),
                overhead_mib);
    ++over;
  }
  return over;
}

}  // namespace tessera::apps
