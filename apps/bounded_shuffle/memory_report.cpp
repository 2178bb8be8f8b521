// Per-rank peak RSS against the bound, and the spill figures.
#include "memory_report.hpp"

#include "worker_peaks.hpp"

#include <cstdio>

namespace bounded {

int report_memory(const std::vector<tessera::WorkerStats>& stats, double overhead_mib) {
  if (!stats.empty()) {
    std::printf("rank 0: peak RSS %.1f MiB (the driver: holds no data, no bound)\n",
                mib(static_cast<double>(stats[0].peak_rss)));
  }
  for (std::size_t r = 1; r < stats.size(); ++r) {
    const auto& w = stats[r];
    const double peak = static_cast<double>(w.peak_rss), bound = tessera::apps::peak_bound(w, overhead_mib);
    std::printf("rank %zu: peak RSS %.1f MiB %s bound %.1f MiB (limit %.1f + %.0f overhead; %.1f when ready); "
                "spilled %.1f MiB, read back %.1f MiB, results held at most %.1f MiB, %llu pauses, busy %.2f s\n",
                r, mib(peak), peak <= bound ? "<=" : ">", mib(bound), mib(static_cast<double>(w.memory_limit)),
                overhead_mib, mib(static_cast<double>(w.ready_rss)), mib(static_cast<double>(w.bytes_spilled)),
                mib(static_cast<double>(w.bytes_unspilled)), mib(static_cast<double>(w.held_peak)),
                static_cast<unsigned long long>(w.pauses), w.busy_seconds);
  }
  return tessera::apps::check_worker_peaks(stats, overhead_mib);
}

}  // namespace bounded
