#pragma once

/// @file
/// Observer: how schedulers report what they do (Dask's scheduler callbacks, Taskflow's
/// observers). Progress bars, traces and summaries are observers; schedulers call them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace tessera {

/// One finished (or failed) task.
struct TaskEvent {
  std::string_view key;
  std::string_view name;
  int rank = 0;      ///< rank that ran it (0 for local schedulers)
  int thread = 0;    ///< worker thread within that rank
  double start = 0;  ///< seconds since the run started
  double stop = 0;
  std::size_t bytes_in = 0;   ///< bytes of inputs fetched from other ranks
  std::size_t bytes_out = 0;  ///< size of the result
  bool failed = false;
};

/// What one rank's shuffle service did during a run (tessera::shuffle): bytes of pieces sent
/// to and received from other ranks, stored (including its own), and read back from the spill
/// file after the memory limit pushed them there.
struct ShuffleTraffic {
  int rank = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0, bytes_stored = 0, bytes_read_back = 0;
  std::uint64_t pieces_stored = 0;
};

/// Receives scheduler events. Thread safety: on_task_done may be called from several threads
/// at once; implementations synchronize themselves.
class Observer {
public:
  virtual ~Observer() = default;
  /// A run of `num_tasks` tasks starts on `scheduler`.
  virtual void on_run_start(std::size_t /*num_tasks*/, std::string_view /*scheduler*/) {}
  virtual void on_task_done(const TaskEvent& /*event*/) {}
  /// Data moved between ranks (MPI) or spilled to disk.
  virtual void on_transfer(std::string_view /*key*/, int /*from*/, int /*to*/, std::size_t /*bytes*/,
                           double /*start*/, double /*stop*/) {}
  /// A rank's shuffle traffic of this run, reported once per rank near the run's end.
  virtual void on_shuffle(const ShuffleTraffic& /*traffic*/) {}
  virtual void on_run_end(bool /*ok*/) {}
};

/// Adds an observer to every run in this process until removed. Thread safety: do not call
/// while a compute() is running.
void add_global_observer(std::shared_ptr<Observer> observer);
void remove_global_observer(const std::shared_ptr<Observer>& observer);

}  // namespace tessera
