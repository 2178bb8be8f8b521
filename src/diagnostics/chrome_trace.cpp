#include <tessera/diagnostics/chrome_trace.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/diagnostics/progress.hpp>
#include <tessera/diagnostics/summary.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace tessera {

namespace {

// Tracks of rank 0 that hold no tasks (task threads are small non-negative numbers).
constexpr int kRunsTid = 1'000'000;
constexpr int kTransfersTid = 1'000'001;

void append_number(std::string& out, double v, int decimals) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  out.append(buf, static_cast<std::size_t>(n));
}

void append_int(std::string& out, long long v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%lld", v);
  out.append(buf, static_cast<std::size_t>(n));
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  out += json_escape(s);
  out += '"';
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1Fu;
  else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0Fu;
  else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07u;
  else return 0;
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3Fu);
  }
  // Reject overlong forms, surrogates and code points beyond U+10FFFF.
  static constexpr std::uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        }
      }
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t len = utf8_length(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out;
}

ChromeTrace::ChromeTrace() = default;

ChromeTrace::ChromeTrace(std::string path) : m_path(std::move(path)) {}

ChromeTrace::~ChromeTrace() {
  if (m_path.empty() || !m_dirty) return;
  try {
    write_file(m_path, json_unlocked());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: could not write the trace: %s\n", e.what());
  }
}

double ChromeTrace::now() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_origin).count();
}

void ChromeTrace::note_clock(Run& run, int rank, double reported_stop) {
  const double shift = now() - reported_stop;
  auto [it, inserted] = run.shift.try_emplace(rank, shift);
  if (!inserted) it->second = std::min(it->second, shift);
}

std::uint32_t ChromeTrace::intern(std::string_view name) {
  auto it = m_name_index.find(name);
  if (it != m_name_index.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(m_names.size());
  m_names.emplace_back(name);
  m_name_index.emplace(std::string(name), id);
  return id;
}

void ChromeTrace::start_run_unlocked(std::size_t num_tasks, std::string_view scheduler) {
  Run run;
  run.scheduler = scheduler;
  run.num_tasks = num_tasks;
  run.start = now();
  m_runs.push_back(std::move(run));
  m_dirty = true;
}

void ChromeTrace::on_run_start(std::size_t num_tasks, std::string_view scheduler) {
  std::lock_guard lock(m_mutex);
  start_run_unlocked(num_tasks, scheduler);
}

void ChromeTrace::on_task_done(const TaskEvent& e) {
  std::lock_guard lock(m_mutex);
  if (m_runs.empty()) start_run_unlocked(0, "unknown");  // events outside a run: give them one
  const auto run = static_cast<std::uint32_t>(m_runs.size() - 1);
  note_clock(m_runs.back(), e.rank, e.stop);
  m_tasks.push_back(Task{std::string(e.key), intern(e.name), run, e.rank, e.thread, e.start,
                         std::max(e.start, e.stop), e.bytes_in, e.bytes_out, e.failed});
  m_dirty = true;
}

void ChromeTrace::on_transfer(std::string_view key, int from, int to, std::size_t bytes,
                              double start, double stop) {
  std::lock_guard lock(m_mutex);
  if (m_runs.empty()) start_run_unlocked(0, "unknown");
  const auto run = static_cast<std::uint32_t>(m_runs.size() - 1);
  note_clock(m_runs.back(), to, stop);
  m_transfers.push_back(Transfer{std::string(key), run, from, to, bytes, start, std::max(start, stop)});
  m_dirty = true;
}

void ChromeTrace::on_run_end(bool ok) {
  std::lock_guard write_lock(m_write_mutex);
  std::string text;
  double t0 = 0;
  {
    std::lock_guard lock(m_mutex);
    if (!m_runs.empty()) {
      m_runs.back().stop = now();
      m_runs.back().ok = ok;
    }
    if (m_path.empty()) return;
    t0 = now();
    if (t0 - m_last_write_at < 10 * m_last_write_cost) return;  // the destructor writes the rest
    text = json_unlocked();
    m_dirty = false;
  }
  try {
    write_file(m_path, text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: could not write the trace: %s\n", e.what());
  }
  std::lock_guard lock(m_mutex);
  m_last_write_at = now();
  m_last_write_cost = m_last_write_at - t0;
}

std::string ChromeTrace::json() const {
  std::lock_guard lock(m_mutex);
  return json_unlocked();
}

std::string ChromeTrace::json_unlocked() const {
  std::string out;
  out.reserve(256 + m_tasks.size() * 200);
  out += "{\"traceEvents\":[\n";
  bool first = true;
  auto begin_event = [&] {
    if (!first) out += ",\n";
    first = false;
  };

  // Metadata: name every process (rank) and thread that appears.
  std::set<int> ranks{0};
  std::set<std::pair<int, int>> threads;
  for (const auto& t : m_tasks) {
    ranks.insert(t.rank);
    threads.emplace(t.rank, t.thread);
  }
  for (const auto& x : m_transfers) {
    ranks.insert(x.to);
    threads.emplace(x.to, kTransfersTid);
  }
  if (!m_runs.empty()) threads.emplace(0, kRunsTid);
  for (int r : ranks) {
    begin_event();
    out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":";
    append_int(out, r);
    out += ",\"tid\":0,\"args\":{\"name\":\"rank ";
    append_int(out, r);
    out += "\"}},\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":";
    append_int(out, r);
    out += ",\"tid\":0,\"args\":{\"sort_index\":";
    append_int(out, r);
    out += "}}";
  }
  for (const auto& [r, t] : threads) {
    begin_event();
    out += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":";
    append_int(out, r);
    out += ",\"tid\":";
    append_int(out, t);
    out += ",\"args\":{\"name\":\"";
    if (t == kRunsTid) out += "runs";
    else if (t == kTransfersTid) out += "transfers";
    else {
      out += "thread ";
      append_int(out, t);
    }
    out += "\"}}";
  }

  auto shift_of = [&](std::uint32_t run, int rank) {
    const auto& s = m_runs[run].shift;
    const auto it = s.find(rank);
    return it == s.end() ? m_runs[run].start : it->second;
  };
  auto append_time = [&](double start, double stop) {
    // A task reported as started before the trace began is cut at 0 (its end is kept).
    const double ts = std::max(0.0, start);
    out += ",\"ts\":";
    append_number(out, ts * 1e6, 3);
    out += ",\"dur\":";
    append_number(out, std::max(0.0, stop - ts) * 1e6, 3);
  };

  for (std::size_t i = 0; i < m_runs.size(); ++i) {
    const auto& run = m_runs[i];
    begin_event();
    out += "{\"name\":";
    append_string(out, "compute (" + run.scheduler + ")");
    out += ",\"cat\":\"run\",\"ph\":\"X\",\"pid\":0,\"tid\":";
    append_int(out, kRunsTid);
    append_time(run.start, run.stop >= run.start ? run.stop : now());
    out += ",\"args\":{\"run\":";
    append_int(out, static_cast<long long>(i));
    out += ",\"tasks\":";
    append_int(out, static_cast<long long>(run.num_tasks));
    out += ",\"ok\":";
    out += run.ok ? "true" : "false";
    out += "}}";
  }
  for (const auto& t : m_tasks) {
    const double shift = shift_of(t.run, t.rank);
    begin_event();
    out += "{\"name\":";
    append_string(out, m_names[t.name]);
    out += ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":";
    append_int(out, t.rank);
    out += ",\"tid\":";
    append_int(out, t.thread);
    append_time(t.start + shift, t.stop + shift);
    out += ",\"args\":{\"key\":";
    append_string(out, t.key);
    out += ",\"bytes_out\":";
    append_int(out, static_cast<long long>(t.bytes_out));
    if (t.bytes_in) {
      out += ",\"bytes_in\":";
      append_int(out, static_cast<long long>(t.bytes_in));
    }
    out += ",\"failed\":";
    out += t.failed ? "true" : "false";
    out += "}}";
  }
  for (const auto& x : m_transfers) {
    const double shift = shift_of(x.run, x.to);
    begin_event();
    out += "{\"name\":";
    append_string(out, "transfer");
    out += ",\"cat\":\"transfer\",\"ph\":\"X\",\"pid\":";
    append_int(out, x.to);
    out += ",\"tid\":";
    append_int(out, kTransfersTid);
    append_time(x.start + shift, x.stop + shift);
    out += ",\"args\":{\"key\":";
    append_string(out, x.key);
    out += ",\"from\":";
    append_int(out, x.from);
    out += ",\"to\":";
    append_int(out, x.to);
    out += ",\"bytes\":";
    append_int(out, static_cast<long long>(x.bytes));
    out += "}}";
  }
  out += "\n],\"displayTimeUnit\":\"ms\"}\n";
  return out;
}

void ChromeTrace::write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) TESSERA_THROW(StorageError, "cannot open trace file '", tmp, "': ", std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    TESSERA_THROW(StorageError, "cannot write trace file '", tmp, "': ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rerr = errno;
    std::remove(tmp.c_str());
    TESSERA_THROW(StorageError, "cannot rename '", tmp, "' to trace file '", path, "': ",
                  std::strerror(rerr));
  }
}

void ChromeTrace::write(const std::string& path) const {
  std::lock_guard write_lock(m_write_mutex);
  write_file(path, json());
}

void ChromeTrace::flush() {
  if (m_path.empty()) TESSERA_THROW(ConfigError, "ChromeTrace::flush(): the trace has no path");
  std::lock_guard write_lock(m_write_mutex);
  std::string text;
  {
    std::lock_guard lock(m_mutex);
    text = json_unlocked();
    m_dirty = false;
  }
  write_file(m_path, text);
}

std::size_t ChromeTrace::num_tasks() const {
  std::lock_guard lock(m_mutex);
  return m_tasks.size();
}

std::size_t ChromeTrace::num_runs() const {
  std::lock_guard lock(m_mutex);
  return m_runs.size();
}

void ChromeTrace::clear() {
  std::lock_guard lock(m_mutex);
  m_runs.clear();
  m_tasks.clear();
  m_transfers.clear();
  m_names.clear();
  m_name_index.clear();
  m_dirty = true;
}

std::vector<std::shared_ptr<Observer>> default_observers_from_env() {
  std::vector<std::shared_ptr<Observer>> out;
  if (progress_from_env()) out.push_back(std::make_shared<ProgressBar>());
  if (auto path = env_string("TESSERA_TRACE"); path && !path->empty()) {
    // One trace for the whole process: every run appends; written after runs and at exit.
    static std::mutex mutex;
    static std::shared_ptr<ChromeTrace> trace;
    std::lock_guard lock(mutex);
    if (!trace || trace->path() != *path) trace = std::make_shared<ChromeTrace>(*path);
    out.push_back(trace);
  }
  if (env_flag("TESSERA_SUMMARY", false)) {
    out.push_back(std::make_shared<RunSummary>(RunSummary::Options{.stream = stderr}));
  }
  return out;
}

}  // namespace tessera
