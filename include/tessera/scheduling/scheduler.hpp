#pragma once

/// @file
/// Scheduler: decides where and when the tasks of an ExecGraph run; never what they compute.
/// Every scheduler must give the SyncScheduler's results. Concrete schedulers:
///   scheduling/sync.hpp     SyncScheduler    one thread, fixed order; the test oracle
///   scheduling/threads.hpp  ThreadScheduler  work-stealing pool in this process
///   scheduling/mpi.hpp      MpiScheduler     rank 0 schedules, worker ranks execute

#include <tessera/diagnostics/observer.hpp>
#include <tessera/graph/exec_graph.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

/// Per-run state shared by a scheduler and the observers watching it.
struct RunContext {
  std::vector<std::shared_ptr<Observer>> observers;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  /// false (compute): the first failure stops the run and is thrown. true (futures): a failure
  /// only fails the task's dependants; every other task runs, and run()/persist() return an
  /// empty Value / null node for each failed output, with its error in output_errors.
  bool keep_going = false;
  std::vector<std::exception_ptr> output_errors;
  /// A failed task runs again up to this many times (on MPI, possibly on another worker)
  /// before its error counts. with_defaults() sets TESSERA_TASK_RETRIES.
  int retries = 0;
  /// Results persisted before the run that its tasks read keep the copies workers fetched for
  /// them (the MPI scheduler adds those workers to the result's holders, so later tasks find
  /// it there): what Client::scatter({.broadcast = true}) uses. Local schedulers hold one copy
  /// per process and ignore it.
  bool keep_input_copies = false;
  /// Optional: told about each requested output the moment it is final, while the run goes
  /// on. `output` indexes graph.outputs; `result` is the node persist() returns for it (its
  /// value, or on MPI a reference to it on the worker that keeps it); null with `error` set
  /// when it failed (keep_going only). persist() calls it once per output on every scheduler
  /// (an output requested twice: once per request); local schedulers also call it from run().
  /// Called on a scheduler thread: must be quick, must not throw, must not call the scheduler.
  std::function<void(std::size_t output, const detail::NodePtr& result, std::exception_ptr error)>
      on_output;

  [[nodiscard]] bool observed() const noexcept { return !observers.empty(); }
  [[nodiscard]] double seconds_since_start() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  void run_start(std::size_t n, std::string_view scheduler) const;
  void task_done(const TaskEvent& e) const;
  /// Data moved between ranks, or spilled and read back (from == to == the worker's rank).
  void transfer(std::string_view key, int from, int to, std::size_t bytes, double t_start,
                double t_stop) const;
  void shuffle(const ShuffleTraffic& traffic) const;
  void run_end(bool ok) const;

  /// For schedulers: graph node -> the output requests it answers (empty if on_output is unset).
  [[nodiscard]] std::vector<std::vector<std::uint32_t>> outputs_by_node(const ExecGraph& g) const;
  /// For schedulers: reports node i of `g` final (a value, or an error) to on_output, once per
  /// output request of i. No-op if on_output is unset or i is not an output.
  void output_done(const ExecGraph& g, const std::vector<std::vector<std::uint32_t>>& by_node,
                   std::uint32_t i, const Value& value, std::exception_ptr error) const;

  /// The process-wide observers (add_global_observer) plus default_observers_from_env().
  static RunContext with_defaults();
};

/// Base of all schedulers. Owned by shared_ptr where possible: current_scheduler() (scheduling/
/// task_context.hpp) hands a task an owning pointer to the scheduler running it.
class Scheduler : public std::enable_shared_from_this<Scheduler> {
public:
  virtual ~Scheduler() = default;
  /// "sync", "threads", "mpi".
  [[nodiscard]] virtual std::string name() const = 0;
  /// The places tasks run in: the worker ranks under MPI (a task with worker_hint h runs on
  /// worker 1 + h % workers()), 1 for a local scheduler (one process).
  [[nodiscard]] virtual int workers() const { return 1; }
  /// Runs every task of `graph` that has no known result and returns the results of
  /// graph.outputs, in order. Blocks.
  /// Throws: TaskError for the first task that failed (its dependants did not run).
  virtual std::vector<Value> run(const ExecGraph& graph, RunContext& ctx) = 0;
  /// Like run(), but returns nodes that hold the results for reuse (same keys). Local
  /// schedulers keep the values in this process; the MPI scheduler leaves them on workers.
  virtual std::vector<detail::NodePtr> persist(const ExecGraph& graph, RunContext& ctx);
};

/// Builds a scheduler from a thread count (0 = default).
using SchedulerFactory = std::function<std::shared_ptr<Scheduler>(unsigned threads)>;

/// Makes `name` available to make_scheduler and TESSERA_SCHEDULER. Thread safety: call at
/// start-up, before computing.
void register_scheduler(std::string name, SchedulerFactory factory);

/// A scheduler by name: "sync" (or "synchronous", "single-threaded"), "threads" (or
/// "threading"), and "mpi" (or "distributed") once an MPI runtime is up.
/// Throws: ConfigError naming the unknown scheduler and the known ones.
std::shared_ptr<Scheduler> make_scheduler(std::string_view name, unsigned threads = 0);

/// Sets the scheduler compute() uses when none is given (nullptr: back to the environment's).
void set_default_scheduler(std::shared_ptr<Scheduler> scheduler);

/// The scheduler compute() uses when none is given: the one set by set_default_scheduler, else
/// TESSERA_SCHEDULER (default "threads") with TESSERA_NUM_THREADS threads (default: the cores
/// in this process's CPU affinity mask).
/// Throws: ConfigError for a bad TESSERA_SCHEDULER or TESSERA_NUM_THREADS.
std::shared_ptr<Scheduler> default_scheduler();

namespace detail {
/// Runs one task in this process, turning any exception into a TaskError with its key and rank.
Value run_task(const TaskNode& node, std::span<const Value> inputs, int rank);
/// The result of a node whose result is known (value or fetched reference).
Value known_result(const TaskNode& node);
/// A node with `src`'s key holding `value` (what local schedulers' persist() returns).
NodePtr value_node(const TaskNode& src, Value value);
}  // namespace detail

}  // namespace tessera
