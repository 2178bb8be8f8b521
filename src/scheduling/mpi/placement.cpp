#include "scheduling/mpi/placement.hpp"

#include <algorithm>

namespace tessera::detail::mpi {

Placement::Placement(std::vector<unsigned> threads)
    : m_workers(static_cast<int>(threads.size()) - 1),
      m_threads(std::move(threads)),
      m_in_flight(m_threads.size(), 0),
      m_paused(m_threads.size(), false),
      m_local_bytes(m_threads.size(), 0) {}

std::int64_t Placement::capacity(int w) const {
  const auto threads = static_cast<std::int64_t>(m_threads[static_cast<std::size_t>(w)]);
  // Short tasks: keep a queue on each worker so it never waits for the scheduler.
  return m_avg_task_seconds < 0.002 ? threads + 256 : threads;
}

std::int64_t Placement::total_in_flight() const {
  std::int64_t total = 0;
  for (int w = 1; w <= m_workers; ++w) total += in_flight(w);
  return total;
}

void Placement::timed(double seconds) {
  m_avg_task_seconds = (m_avg_task_seconds * static_cast<double>(m_timed_tasks) + seconds) /
                       static_cast<double>(m_timed_tasks + 1);
  m_timed_tasks = std::min<std::uint64_t>(m_timed_tasks + 1, 1000);
}

bool Placement::may_take(int w, bool all_paused) const {
  return in_flight(w) < capacity(w) && (!m_paused[static_cast<std::size_t>(w)] || all_paused);
}

int Placement::choose(std::span<const Input> inputs) {
  if (m_workers < 1) return -1;
  auto& local = m_local_bytes;
  std::fill(local.begin(), local.end(), 0);
  for (const auto& in : inputs) {
    for (int r : in.holders) local[static_cast<std::size_t>(r)] += in.nbytes + 1;
  }
  const bool all_paused = std::all_of(m_paused.begin() + 1, m_paused.end(), [](bool p) { return p; });
  auto at = [&](int w) { return local[static_cast<std::size_t>(w)]; };
  int best = -1;
  for (int w = 1; w <= m_workers; ++w) {
    if (!may_take(w, all_paused)) continue;
    if (best < 0 || at(w) > at(best) || (at(w) == at(best) && in_flight(w) < in_flight(best))) best = w;
  }
  if (best < 0) return -1;
  // Among equally good workers without inputs, rotate so independent tasks spread out.
  if (at(best) == 0) {
    for (int k = 0; k < m_workers; ++k) {
      const int w = 1 + (m_round_robin + k) % m_workers;
      if (in_flight(w) <= in_flight(best) && may_take(w, all_paused)) {
        best = w;
        break;
      }
    }
    m_round_robin = (m_round_robin + 1) % m_workers;
  }
  return best;
}

}  // namespace tessera::detail::mpi
