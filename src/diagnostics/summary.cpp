#include <tessera/diagnostics/summary.hpp>

#include <tessera/core/config.hpp>

#include <algorithm>
#include <sstream>

namespace tessera {

namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string seconds(double s) {
  if (s >= 1.0) return fixed(s, 3) + " s";
  if (s >= 1e-3) return fixed(s * 1e3, 3) + " ms";
  return fixed(s * 1e6, 3) + " us";
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

}  // namespace

RunSummary::RunSummary(Options options) : m_options(options) {}

void RunSummary::on_run_start(std::size_t num_tasks, std::string_view scheduler) {
  std::lock_guard lock(m_mutex);
  m_scheduler = scheduler;
  m_expected = num_tasks;
  m_start = std::chrono::steady_clock::now();
  m_wall = -1;
  m_ok = true;
  m_failed = 0;
  m_failed_keys.clear();
  m_threads.clear();
  m_bytes.clear();
  m_groups.clear();
  m_shuffle.clear();
}

void RunSummary::on_task_done(const TaskEvent& e) {
  const double d = std::max(0.0, e.stop - e.start);
  std::lock_guard lock(m_mutex);
  auto& t = m_threads[{e.rank, e.thread}];
  t.rank = e.rank;
  t.thread = e.thread;
  ++t.tasks;
  t.busy_seconds += d;
  auto& b = m_bytes[e.rank];
  b.first += e.bytes_out;
  b.second += e.bytes_in;
  auto it = m_groups.find(e.name);
  if (it == m_groups.end()) it = m_groups.emplace(std::string(e.name), GroupAcc{}).first;
  auto& g = it->second;
  ++g.count;
  g.total += d;
  g.max = std::max(g.max, d);
  if (e.failed) {
    ++g.failed;
    ++m_failed;
    if (m_failed_keys.size() < m_options.max_failed_keys) m_failed_keys.emplace_back(e.key);
  }
}

void RunSummary::on_transfer(std::string_view, int, int to, std::size_t bytes, double, double) {
  std::lock_guard lock(m_mutex);
  m_bytes[to].second += bytes;
}

void RunSummary::on_shuffle(const ShuffleTraffic& t) {
  std::lock_guard lock(m_mutex);
  auto& acc = m_shuffle[t.rank];
  acc.rank = t.rank;
  acc.bytes_sent += t.bytes_sent;
  acc.bytes_received += t.bytes_received;
  acc.bytes_stored += t.bytes_stored;
  acc.bytes_read_back += t.bytes_read_back;
  acc.pieces_stored += t.pieces_stored;
}

void RunSummary::on_run_end(bool ok) {
  std::string text;
  {
    std::lock_guard lock(m_mutex);
    m_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    m_ok = ok;
    if (!m_options.stream) return;
    text = format_run_report(build_unlocked(), m_options.max_groups);
  }
  std::fputs(text.c_str(), m_options.stream);
  std::fflush(m_options.stream);
}

RunReport RunSummary::report() const {
  std::lock_guard lock(m_mutex);
  return build_unlocked();
}

std::string RunSummary::text() const { return format_run_report(report(), m_options.max_groups); }

RunReport RunSummary::build_unlocked() const {
  RunReport r;
  r.scheduler = m_scheduler;
  r.expected_tasks = m_expected;
  r.wall_seconds = m_wall >= 0 ? m_wall
                               : std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  r.ok = m_ok && m_failed == 0;
  r.failed = m_failed;
  r.failed_keys = m_failed_keys;
  for (const auto& [k, t] : m_threads) {
    r.threads.push_back(t);
    r.tasks += t.tasks;
    if (r.ranks.empty() || r.ranks.back().rank != t.rank) {
      r.ranks.push_back({});
      r.ranks.back().rank = t.rank;
    }
    auto& rank = r.ranks.back();
    rank.tasks += t.tasks;
    ++rank.threads;
    rank.busy_seconds += t.busy_seconds;
  }
  for (auto& rank : r.ranks) {
    const double capacity = r.wall_seconds * static_cast<double>(rank.threads);
    rank.busy_fraction = capacity > 0 ? std::min(1.0, rank.busy_seconds / capacity) : 0.0;
    if (auto it = m_bytes.find(rank.rank); it != m_bytes.end()) {
      rank.bytes_out = it->second.first;
      rank.bytes_in = it->second.second;
    }
    r.bytes_out += rank.bytes_out;
  }
  for (const auto& [rank_id, t] : m_shuffle) {
    auto it = std::find_if(r.ranks.begin(), r.ranks.end(), [&](const auto& k) { return k.rank == rank_id; });
    if (it == r.ranks.end()) {
      r.ranks.push_back({});
      r.ranks.back().rank = rank_id;
      it = r.ranks.end() - 1;
    }
    it->shuffle = t;
  }
  for (const auto& [name, g] : m_groups) {
    RunReport::Group group;
    group.name = name;
    group.count = g.count;
    group.failed = g.failed;
    group.total_seconds = g.total;
    group.mean_seconds = g.count ? g.total / static_cast<double>(g.count) : 0.0;
    group.max_seconds = g.max;
    r.groups.push_back(std::move(group));
  }
  std::stable_sort(r.groups.begin(), r.groups.end(), [](const auto& a, const auto& b) {
    return a.total_seconds > b.total_seconds;
  });
  return r;
}

std::string format_run_report(const RunReport& r, std::size_t max_groups) {
  std::ostringstream o;
  o << "tessera: run summary (" << r.scheduler << "): " << r.tasks << " tasks";
  if (r.expected_tasks != r.tasks) o << " of " << r.expected_tasks;
  o << " in " << seconds(r.wall_seconds) << ", " << format_bytes(r.bytes_out) << " produced, "
    << (r.ok ? "ok" : "FAILED") << "\n";
  o << "  rank  threads     tasks   busy time  busy %   bytes out    bytes in\n";
  for (const auto& k : r.ranks) {
    o << pad(std::to_string(k.rank), 6) << pad(std::to_string(k.threads), 9)
      << pad(std::to_string(k.tasks), 10) << pad(seconds(k.busy_seconds), 12)
      << pad(fixed(100.0 * k.busy_fraction, 1), 8) << pad(format_bytes(k.bytes_out), 12)
      << pad(format_bytes(k.bytes_in), 12) << "\n";
  }
  const bool shuffled = std::any_of(r.ranks.begin(), r.ranks.end(), [](const auto& k) {
    return k.shuffle.bytes_stored + k.shuffle.bytes_sent + k.shuffle.bytes_received > 0;
  });
  if (shuffled) {
    o << "  shuffle: rank        sent    received      stored   read back\n";
    for (const auto& k : r.ranks) {
      const auto& t = k.shuffle;
      o << pad(std::to_string(k.rank), 15) << pad(format_bytes(t.bytes_sent), 12)
        << pad(format_bytes(t.bytes_received), 12) << pad(format_bytes(t.bytes_stored), 12)
        << pad(format_bytes(t.bytes_read_back), 12) << "\n";
    }
  }
  o << "  tasks per thread:";
  int last_rank = -1;
  for (const auto& t : r.threads) {
    if (t.rank != last_rank) {
      o << (last_rank == -1 ? " " : "; ") << "rank " << t.rank << ":";
      last_rank = t.rank;
    }
    o << " t" << t.thread << "=" << t.tasks;
  }
  o << "\n";
  if (!r.groups.empty()) {
    o << "  slowest task groups (by total time):\n";
    o << "  name                              count       total        mean         max\n";
    for (std::size_t i = 0; i < r.groups.size() && i < max_groups; ++i) {
      const auto& g = r.groups[i];
      std::string name = g.name.size() > 30 ? g.name.substr(0, 27) + "..." : g.name;
      name.resize(30, ' ');
      o << "  " << name << pad(std::to_string(g.count), 9) << pad(seconds(g.total_seconds), 12)
        << pad(seconds(g.mean_seconds), 12) << pad(seconds(g.max_seconds), 12);
      if (g.failed) o << "  (" << g.failed << " failed)";
      o << "\n";
    }
    if (r.groups.size() > max_groups) o << "  ... " << r.groups.size() - max_groups << " more groups\n";
  }
  if (r.failed) {
    o << "  failed tasks: " << r.failed;
    for (const auto& k : r.failed_keys) o << " '" << k << "'";
    if (r.failed > r.failed_keys.size()) o << " ...";
    o << "\n";
  }
  return o.str();
}

}  // namespace tessera
