#pragma once

/// @file
/// RunSummary: what a run did, in a few lines at its end: tasks per rank and thread, how busy
/// each rank was, bytes produced, the task groups (tasks of the same name) that took longest,
/// and failures. Enabled per observer, or for every run by TESSERA_SUMMARY=1 (to stderr).
///
/// @code
/// auto summary = std::make_shared<tessera::RunSummary>();
/// tessera::add_global_observer(summary);
/// tessera::compute(total);
/// std::cout << summary->text();
/// @endcode

#include <tessera/diagnostics/observer.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

/// The figures of one run, as RunSummary collects them.
struct RunReport {
  struct Thread {
    int rank = 0;
    int thread = 0;
    std::size_t tasks = 0;
    double busy_seconds = 0;  ///< sum of task durations
  };
  struct Rank {
    int rank = 0;
    std::size_t tasks = 0;
    std::size_t threads = 0;    ///< threads that ran at least one task
    double busy_seconds = 0;
    double busy_fraction = 0;   ///< busy_seconds / (wall_seconds * threads)
    std::size_t bytes_out = 0;
    std::size_t bytes_in = 0;
    ShuffleTraffic shuffle{};   ///< tessera::shuffle traffic of this rank (zero: none)
  };
  struct Group {
    std::string name;
    std::size_t count = 0;
    std::size_t failed = 0;
    double total_seconds = 0;
    double mean_seconds = 0;
    double max_seconds = 0;
  };

  std::string scheduler;
  std::size_t expected_tasks = 0;  ///< as announced by on_run_start
  std::size_t tasks = 0;           ///< task events received
  double wall_seconds = 0;
  bool ok = true;
  std::size_t bytes_out = 0;
  std::size_t failed = 0;
  std::vector<std::string> failed_keys;  ///< the first few, in report order
  std::vector<Thread> threads;           ///< by rank, then thread
  std::vector<Rank> ranks;               ///< by rank
  std::vector<Group> groups;             ///< by total_seconds, largest first
};

/// Renders `report` as the text RunSummary prints, listing at most `max_groups` task groups.
[[nodiscard]] std::string format_run_report(const RunReport& report, std::size_t max_groups = 10);

class RunSummary final : public Observer {
public:
  struct Options {
    std::FILE* stream = nullptr;   ///< where to print at the end of each run; nullptr: nowhere
    std::size_t max_groups = 10;   ///< task groups listed
    std::size_t max_failed_keys = 5;
  };
  RunSummary() : RunSummary(Options{}) {}
  explicit RunSummary(Options options);

  void on_run_start(std::size_t num_tasks, std::string_view scheduler) override;
  void on_task_done(const TaskEvent& event) override;
  void on_transfer(std::string_view key, int from, int to, std::size_t bytes, double start,
                   double stop) override;
  void on_shuffle(const ShuffleTraffic& traffic) override;
  void on_run_end(bool ok) override;

  /// The figures of the last finished run (or of the run in progress, so far).
  [[nodiscard]] RunReport report() const;
  /// format_run_report(report()).
  [[nodiscard]] std::string text() const;

private:
  struct GroupAcc {
    std::size_t count = 0, failed = 0;
    double total = 0, max = 0;
  };
  [[nodiscard]] RunReport build_unlocked() const;

  Options m_options;
  mutable std::mutex m_mutex;
  std::string m_scheduler;
  std::size_t m_expected = 0;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
  double m_wall = -1;  // < 0 while running
  bool m_ok = true;
  std::size_t m_failed = 0;
  std::vector<std::string> m_failed_keys;
  std::map<std::pair<int, int>, RunReport::Thread> m_threads;
  std::map<int, std::pair<std::size_t, std::size_t>> m_bytes;  // rank -> (out, in)
  std::map<std::string, GroupAcc, std::less<>> m_groups;
  std::map<int, ShuffleTraffic> m_shuffle;  // by rank
};

}  // namespace tessera
