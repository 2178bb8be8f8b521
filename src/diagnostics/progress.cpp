#include <tessera/diagnostics/progress.hpp>

#include <tessera/core/config.hpp>

#include <unistd.h>

#include <cstdio>

namespace tessera {

ProgressBar::ProgressBar(Options options) : m_options(options) {
  m_tty = ::isatty(::fileno(m_options.stream)) != 0;
}

void ProgressBar::on_run_start(std::size_t num_tasks, std::string_view) {
  std::lock_guard lock(m_mutex);
  m_total = num_tasks;
  m_done = 0;
  m_printed = false;
  m_start = std::chrono::steady_clock::now();
  m_last_draw_ns = 0;
}

void ProgressBar::on_task_done(const TaskEvent&) {
  ++m_done;
  const auto now = std::chrono::steady_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_start).count();
  const double elapsed = static_cast<double>(ns) * 1e-9;
  if (elapsed < m_options.min_seconds) return;
  const std::int64_t every = m_tty ? 100'000'000 : static_cast<std::int64_t>(m_options.log_interval * 1e9);
  auto last = m_last_draw_ns.load(std::memory_order_relaxed);
  if (ns - last < every) return;
  if (!m_last_draw_ns.compare_exchange_strong(last, ns)) return;
  std::lock_guard lock(m_mutex);
  draw(false);
}

void ProgressBar::on_run_end(bool ok) {
  std::lock_guard lock(m_mutex);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  if (!m_printed && elapsed < m_options.min_seconds) return;
  draw(true);
  if (!ok) std::fprintf(m_options.stream, "tessera: run failed after %zu of %zu tasks\n",
                        m_done.load(), m_total);
}

std::string ProgressBar::line() const {
  const std::size_t done = m_done.load();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  constexpr int width = 30;
  const int filled = m_total ? static_cast<int>(width * static_cast<double>(done) / static_cast<double>(m_total)) : width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  char buf[160];
  std::snprintf(buf, sizeof buf, "[%s] %zu/%zu tasks | %.1f s | %.0f tasks/s", bar.c_str(), done,
                m_total, elapsed, elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
  return buf;
}

void ProgressBar::draw(bool final) {
  const std::string l = line();
  if (m_tty) std::fprintf(m_options.stream, "\r%s%s", l.c_str(), final ? "\n" : "");
  else std::fprintf(m_options.stream, "%s\n", l.c_str());
  std::fflush(m_options.stream);
  m_printed = true;
}

bool progress_from_env() { return env_flag("TESSERA_PROGRESS", false); }

}  // namespace tessera
