#pragma once

/// @file
/// ProgressBar: "[#####.....] 512/1024 tasks | 3.2 s | 160 tasks/s" on stderr for long runs.
/// Enabled per call, or for every run by TESSERA_PROGRESS=1. On a terminal it redraws one
/// line at most 10 times a second; in a batch log it prints a line every `log_interval` seconds.

#include <tessera/diagnostics/observer.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace tessera {

class ProgressBar final : public Observer {
public:
  struct Options {
    std::FILE* stream = stderr;
    double min_seconds = 0.5;    ///< runs shorter than this print nothing
    double log_interval = 5.0;   ///< seconds between lines when the stream is not a terminal
  };
  ProgressBar() : ProgressBar(Options{}) {}
  explicit ProgressBar(Options options);

  void on_run_start(std::size_t num_tasks, std::string_view scheduler) override;
  void on_task_done(const TaskEvent& event) override;
  void on_run_end(bool ok) override;

  /// The line as it would be printed now (for tests).
  [[nodiscard]] std::string line() const;

private:
  void draw(bool final);
  Options m_options;
  bool m_tty = false;
  std::size_t m_total = 0;
  std::atomic<std::size_t> m_done{0};
  std::chrono::steady_clock::time_point m_start;
  std::atomic<std::int64_t> m_last_draw_ns{0};
  std::mutex m_mutex;
  bool m_printed = false;
};

/// True when TESSERA_PROGRESS asks for progress output.
bool progress_from_env();

}  // namespace tessera
