#pragma once

/// @file
/// The distributed runtime: one program launched with `mpirun -n N` / `srun -n N`. Rank 0 runs
/// the user's driver and schedules; ranks 1..N-1 are workers that execute tasks with several
/// threads each, keep results where they were computed, and fetch missing inputs directly from
/// the peer that holds them (never through rank 0). Only requested outputs travel to rank 0.
///
/// @code
/// int main(int argc, char** argv) {
///   return tessera::run_distributed(argc, argv, [](tessera::Runtime& rt) {
///     auto total = build_graph();                         // on rank 0 only
///     std::cout << tessera::compute(total) << "\n";       // runs on the workers
///     return 0;
///   });
/// }
/// @endcode
///
/// Tasks travel as (code reference, serialized callable and arguments): every rank must run
/// the same executable, which the Runtime checks at start-up. With one rank the runtime falls
/// back to the threaded scheduler.

#include <tessera/scheduling/scheduler.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tessera {

struct RuntimeOptions {
  /// Task threads per worker rank; 0: TESSERA_THREADS_PER_WORKER, else the cores in the
  /// worker's CPU affinity mask.
  unsigned threads_per_worker = 0;
  /// How often a failed task is tried again before its error reaches compute(); default:
  /// TESSERA_TASK_RETRIES, else 0.
  std::optional<int> retries;
  /// Per-worker memory limit ("2GB", "512MiB", "0.25" of the node); default:
  /// TESSERA_MEMORY_LIMIT, SLURM's grant, the cgroup limit or physical memory.
  std::optional<std::string> memory_limit;
};

/// Per-rank statistics, as reported by Runtime::stats().
struct WorkerStats {
  int rank = 0;
  std::uint64_t tasks_run = 0;
  std::uint64_t bytes_fetched = 0;  ///< inputs received from peers
  std::uint64_t bytes_served = 0;   ///< results sent to peers or rank 0
  std::uint64_t peak_rss = 0;       ///< from the OS (VmHWM)
  std::uint64_t held_bytes = 0;     ///< results held in memory now
  double busy_seconds = 0;
  std::uint64_t memory_limit = 0;     ///< bytes of results this worker may hold (0: none)
  std::uint64_t held_peak = 0;        ///< most result bytes held at once (exact accounting)
  std::uint64_t bytes_spilled = 0;    ///< written to the spill file
  std::uint64_t bytes_unspilled = 0;  ///< read back from it
  double spill_seconds = 0;           ///< time spent spilling and reading back
  std::uint64_t pauses = 0;           ///< times a thread waited for memory to fall
  /// RSS when the rank was ready, before its first task: the fixed footprint of the program,
  /// its libraries, Open MPI and the runtime's threads (bench/README.md: where memory goes).
  std::uint64_t ready_rss = 0;
};

/// One line per rank: peak memory, footprint when ready, held, spilled, read back, pauses
/// ("rank 1 peak memory: ...").
std::string format_worker_stats(const std::vector<WorkerStats>& stats);

/// The distributed runtime of this process.
///
/// Collective: constructed and destroyed on every rank of the communicator.
/// Thread safety: compute() on its scheduler may be called from several driver threads at once
/// (rank 0); the computations run side by side, sharing the workers' task slots, and none
/// waits for another to end. The other members: from one thread at a time.
class Runtime {
public:
  /// Initializes MPI (unless already initialized), checks MPI_THREAD_MULTIPLE, validates the
  /// configuration (every TESSERA_* variable, the options) on every rank, checks that all
  /// ranks run the same binary, and starts the messenger and, on workers, the task threads.
  /// Collective: every rank.
  /// Throws, on every rank alike (MPI is then finalized normally, never aborted):
  /// ConfigError for a bad TESSERA_* value or option (the first failing rank's one-line
  /// message: variable, value, what is accepted) and for a second Runtime in the process;
  /// TransportError when MPI lacks MPI_THREAD_MULTIPLE or the ranks run different binaries.
  /// Other MPI failures: TransportError, after which the job is aborted.
  Runtime(int& argc, char**& argv, RuntimeOptions options = {});
  /// Library mode: MPI is already initialized by the host code, which owns MPI_COMM_WORLD;
  /// tessera works on a duplicate of the communicator whose Fortran handle is given
  /// (MPI_Comm_c2f) and does not finalize MPI. The host must have initialized MPI with
  /// MPI_THREAD_MULTIPLE; otherwise every rank throws TransportError saying so, before any
  /// communication, and the host's catch runs. Throws as above.
  explicit Runtime(std::int64_t fortran_comm, RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] int rank() const noexcept;
  [[nodiscard]] int size() const noexcept;
  [[nodiscard]] bool is_driver() const noexcept { return rank() == 0; }

  /// The scheduler for compute() on rank 0 (the threaded scheduler when there is one rank).
  /// Throws: ConfigError on a worker rank (compute is called by the driver only).
  [[nodiscard]] std::shared_ptr<Scheduler> scheduler();

  /// Workers: executes tasks until rank 0 calls shutdown(); returns the driver's exit code.
  /// Throws: ConfigError on rank 0.
  int serve();
  /// Rank 0: tells the workers to stop, with the driver's exit code. Idempotent.
  void shutdown(int exit_code = 0);

  /// Statistics of every rank (rank 0 asks the workers). Rank 0 only; blocks.
  [[nodiscard]] std::vector<WorkerStats> stats();

  /// The live runtime of this process, or nullptr.
  [[nodiscard]] static Runtime* current() noexcept;

  class Impl;

private:
  std::shared_ptr<Impl> m_impl;
};

/// Runs `driver` on rank 0 while ranks 1..N-1 serve tasks, then shuts everything down; returns
/// the driver's exit code on every rank (use it as main's return value). While the driver runs,
/// the MPI scheduler is the default scheduler ("mpi" also works with make_scheduler).
/// An exception escaping the driver is printed and gives exit code 1 on every rank. A
/// configuration error (or missing MPI_THREAD_MULTIPLE, or different binaries) is printed once,
/// by rank 0, as one line, and every rank returns 2.
/// Workers exit (status 1, naming rank 0) when rank 0 stops answering for the heartbeat
/// timeout (TESSERA_HEARTBEAT_TIMEOUT); rank 0 ends the job when a worker does.
/// With TESSERA_SUMMARY=1 (or TESSERA_WORKER_STATS=1) every rank's memory and spill figures are
/// printed on stderr at the end (format_worker_stats).
int run_distributed(int argc, char** argv, const std::function<int(Runtime&)>& driver,
                    RuntimeOptions options = {});

}  // namespace tessera
