#pragma once

// Private: where rank 0's MpiScheduler runs a ready task. Pure bookkeeping, no MPI: the
// policy keeps how many tasks each worker has in flight, which workers said they are above
// their memory pause threshold, and how long tasks take, and picks a worker for a task from
// where its inputs are.
//
//   - the worker holding most of the task's input bytes (each input counts its size + 1, so
//     a held empty result still counts), then the one with fewest tasks in flight;
//   - tasks without local inputs rotate over the workers, so independent tasks spread out;
//   - a worker takes at most its thread count in flight, or 256 more once tasks are seen to
//     be short (< 2 ms on average), so that it never waits for the scheduler;
//   - a paused worker gets nothing while another can take the task; when all are paused,
//     work goes on (memory falls as results are released).

#include <cstdint>
#include <span>
#include <vector>

namespace tessera::detail::mpi {

class Placement {
public:
  /// `threads[w]`: task threads of rank w. Rank 0 (index 0) never runs tasks.
  explicit Placement(std::vector<unsigned> threads);

  /// Where one input of a task is: the ranks holding it and its size in bytes.
  struct Input {
    std::span<const int> holders;
    std::uint64_t nbytes = 0;
  };

  /// The worker (1 .. workers) for a task with these inputs, or -1 when every worker that may
  /// take it is at capacity. Does not count the task: call sent() when it goes.
  [[nodiscard]] int choose(std::span<const Input> inputs);
  /// A task was sent to worker `w`.
  void sent(int w) { ++m_in_flight[static_cast<std::size_t>(w)]; }
  /// A task of worker `w` came back (done, failed, or from an earlier run).
  void returned(int w) { --m_in_flight[static_cast<std::size_t>(w)]; }
  /// A task ran for `seconds` (the running average over the last ~1000 sets the capacity).
  void timed(double seconds);
  /// Worker `w` reported being above (true) or below its memory pause threshold.
  void set_paused(int w, bool paused) { m_paused[static_cast<std::size_t>(w)] = paused; }

  [[nodiscard]] std::int64_t in_flight(int w) const { return m_in_flight[static_cast<std::size_t>(w)]; }
  [[nodiscard]] std::int64_t total_in_flight() const;
  /// Tasks worker `w` may have in flight now.
  [[nodiscard]] std::int64_t capacity(int w) const;

private:
  [[nodiscard]] bool may_take(int w, bool all_paused) const;
  int m_workers;
  std::vector<unsigned> m_threads;
  std::vector<std::int64_t> m_in_flight;
  std::vector<bool> m_paused;
  std::vector<std::uint64_t> m_local_bytes;  // scratch of choose()
  int m_round_robin = 0;
  double m_avg_task_seconds = 1.0;  // unknown yet: assume long tasks (no prefetch)
  std::uint64_t m_timed_tasks = 0;
};

}  // namespace tessera::detail::mpi
