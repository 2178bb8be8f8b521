#pragma once

/// @file
/// ChromeTrace: records every task of every run into a Chrome Trace Event file that Perfetto
/// (ui.perfetto.dev) and chrome://tracing open. One "X" (complete) event per task on process
/// "rank N", thread "thread N"; one "X" event per run on rank 0's "runs" track; transfers as
/// "X" events on the receiving rank's "transfers" track.
///
/// @code
/// auto trace = std::make_shared<tessera::ChromeTrace>("trace.json");
/// tessera::add_global_observer(trace);        // every compute() from now on is recorded
/// tessera::compute(total);                    // trace.json is (re)written after the run
/// @endcode
///
/// Or without code changes: `TESSERA_TRACE=trace.json ./app` records every run of the process
/// (see default_observers_from_env).
///
/// Clocks: schedulers report task times in the clock of the rank that ran the task (seconds
/// since the run started for local schedulers, since the worker started for MPI workers). The
/// trace maps each rank's clock onto the observer's own by the smallest observed delay between a
/// task's stop and its report, per run and rank, so runs appear one after the other on a single
/// time line and ranks line up to within the reporting latency.

#include <tessera/diagnostics/observer.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

class ChromeTrace final : public Observer {
public:
  /// A trace kept in memory only (write it with write()).
  ChromeTrace();
  /// A trace written to `path` after each run (rate-limited, see on_run_end) and when the
  /// observer is destroyed, if anything is unwritten.
  explicit ChromeTrace(std::string path);
  /// Writes unwritten events to the path given at construction; never throws (a failure is
  /// printed to stderr).
  ~ChromeTrace() override;
  ChromeTrace(const ChromeTrace&) = delete;
  ChromeTrace& operator=(const ChromeTrace&) = delete;

  void on_run_start(std::size_t num_tasks, std::string_view scheduler) override;
  void on_task_done(const TaskEvent& event) override;
  void on_transfer(std::string_view key, int from, int to, std::size_t bytes, double start,
                   double stop) override;
  /// Writes the file (when constructed with a path) unless the previous write is recent
  /// compared with its own cost: rewriting stays under ~10% of the time between runs; the
  /// destructor writes whatever is left.
  void on_run_end(bool ok) override;

  /// The whole trace as Chrome Trace Event JSON: {"traceEvents":[...],"displayTimeUnit":"ms"}.
  /// Thread safety: may be called while runs are recorded.
  [[nodiscard]] std::string json() const;
  /// Writes json() to `path` (through a temporary file renamed into place).
  /// Throws: StorageError naming the path if it cannot be written.
  void write(const std::string& path) const;
  /// Writes to the path given at construction. Throws: StorageError; ConfigError if none.
  void flush();

  /// Recorded task events so far (all runs).
  [[nodiscard]] std::size_t num_tasks() const;
  /// Recorded runs so far.
  [[nodiscard]] std::size_t num_runs() const;
  /// The path given at construction ("" when none).
  [[nodiscard]] const std::string& path() const noexcept { return m_path; }
  /// Forgets every recorded event.
  void clear();

private:
  struct Task {
    std::string key;
    std::uint32_t name;  // index into m_names
    std::uint32_t run;
    int rank, thread;
    double start, stop;  // in the reporting rank's clock
    std::size_t bytes_in, bytes_out;
    bool failed;
  };
  struct Transfer {
    std::string key;
    std::uint32_t run;
    int from, to;
    std::size_t bytes;
    double start, stop;
  };
  struct Run {
    std::string scheduler;
    std::size_t num_tasks = 0;
    double start = 0, stop = -1;  // observer clock
    bool ok = true;
    std::map<int, double> shift;  // rank -> (observer clock - rank clock), smallest seen
  };

  [[nodiscard]] double now() const noexcept;
  void start_run_unlocked(std::size_t num_tasks, std::string_view scheduler);
  void note_clock(Run& run, int rank, double reported_stop);
  std::uint32_t intern(std::string_view name);
  [[nodiscard]] std::string json_unlocked() const;
  static void write_file(const std::string& path, const std::string& text);

  std::string m_path;
  std::chrono::steady_clock::time_point m_origin = std::chrono::steady_clock::now();
  mutable std::mutex m_mutex;        // the recorded events
  mutable std::mutex m_write_mutex;  // one file write at a time (taken before m_mutex)
  std::vector<Run> m_runs;
  std::vector<Task> m_tasks;
  std::vector<Transfer> m_transfers;
  std::vector<std::string> m_names;
  std::map<std::string, std::uint32_t, std::less<>> m_name_index;
  bool m_dirty = false;
  double m_last_write_at = -1e300;
  double m_last_write_cost = 0;
};

/// Escapes `text` as the inside of a JSON string: quotes, backslashes and control characters
/// are escaped, invalid UTF-8 bytes become U+FFFD.
[[nodiscard]] std::string json_escape(std::string_view text);

/// The observers the environment asks for, added to every run by RunContext::with_defaults():
///   TESSERA_PROGRESS=1       a ProgressBar on stderr;
///   TESSERA_TRACE=file.json  one ChromeTrace shared by every run of the process, written after
///                            runs and at exit;
///   TESSERA_SUMMARY=1        a RunSummary printed to stderr at the end of each run.
/// Thread safety: may be called from several threads.
[[nodiscard]] std::vector<std::shared_ptr<Observer>> default_observers_from_env();

}  // namespace tessera
