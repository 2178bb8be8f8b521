// Diagnostics observers: ChromeTrace (Chrome Trace Event JSON) and RunSummary, on real runs of
// the local schedulers. The trace is parsed back with a strict JSON parser written here (and
// with Python's json module when python3 is installed).
#include <tessera/diagnostics/chrome_trace.hpp>
#include <tessera/diagnostics/summary.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <variant>
#include <vector>

namespace {

// ---- a strict JSON parser (RFC 8259), enough to read traces back -----------------------------

struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;
struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> v;
  [[nodiscard]] bool is_object() const { return std::holds_alternative<JsonObject>(v); }
  [[nodiscard]] bool is_number() const { return std::holds_alternative<double>(v); }
  [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(v); }
  [[nodiscard]] const JsonObject& obj() const { return std::get<JsonObject>(v); }
  [[nodiscard]] const JsonArray& arr() const { return std::get<JsonArray>(v); }
  [[nodiscard]] const std::string& str() const { return std::get<std::string>(v); }
  [[nodiscard]] double num() const { return std::get<double>(v); }
  [[nodiscard]] bool boolean() const { return std::get<bool>(v); }
  [[nodiscard]] bool has(const std::string& k) const { return is_object() && obj().count(k) > 0; }
  const Json& operator[](const std::string& k) const { return obj().at(k); }
};

class JsonParser {
public:
  explicit JsonParser(std::string_view text) : m_s(text) {}

  Json parse() {
    Json v = value();
    ws();
    if (m_i != m_s.size()) fail("trailing characters");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("invalid JSON at offset " + std::to_string(m_i) + ": " + what);
  }
  void ws() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t')) ++m_i;
  }
  char peek() {
    ws();
    if (m_i >= m_s.size()) fail("unexpected end");
    return m_s[m_i];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++m_i;
  }
  void literal(std::string_view word) {
    if (m_s.substr(m_i, word.size()) != word) fail("bad literal");
    m_i += word.size();
  }
  Json value() {
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (c == 't') return literal("true"), Json{true};
    if (c == 'f') return literal("false"), Json{false};
    if (c == 'n') return literal("null"), Json{nullptr};
    return Json{number()};
  }
  Json object() {
    expect('{');
    JsonObject o;
    if (peek() == '}') return ++m_i, Json{o};
    while (true) {
      if (peek() != '"') fail("expected a key");
      std::string k = string();
      expect(':');
      if (o.count(k)) fail("duplicate key " + k);
      o.emplace(std::move(k), value());
      if (peek() == ',') {
        ++m_i;
        continue;
      }
      expect('}');
      return Json{o};
    }
  }
  Json array() {
    expect('[');
    JsonArray a;
    if (peek() == ']') return ++m_i, Json{a};
    while (true) {
      a.push_back(value());
      if (peek() == ',') {
        ++m_i;
        continue;
      }
      expect(']');
      return Json{a};
    }
  }
  unsigned hex4() {
    if (m_i + 4 > m_s.size()) fail("short \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = m_s[m_i++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad hex digit");
    }
    return v;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (m_i >= m_s.size()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(m_s[m_i++]);
      if (c == '"') return out;
      if (c < 0x20) fail("raw control character in a string");
      if (c >= 0x80) {  // must be valid UTF-8
        int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || m_i + static_cast<std::size_t>(len - 1) > m_s.size()) fail("invalid UTF-8");
        out += static_cast<char>(c);
        for (int k = 1; k < len; ++k) {
          const auto d = static_cast<unsigned char>(m_s[m_i++]);
          if ((d & 0xC0) != 0x80) fail("invalid UTF-8 continuation");
          out += static_cast<char>(d);
        }
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (m_i >= m_s.size()) fail("dangling backslash");
      switch (m_s[m_i++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': put_utf8(out, hex4()); break;
        default: fail("bad escape");
      }
    }
  }
  double number() {
    const std::size_t b = m_i;
    if (m_i < m_s.size() && m_s[m_i] == '-') ++m_i;
    auto digits = [&] {
      const std::size_t d = m_i;
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') ++m_i;
      if (m_i == d) fail("expected digits");
      return m_i - d;
    };
    const std::size_t int_begin = m_i;
    const std::size_t n = digits();
    if (n > 1 && m_s[int_begin] == '0') fail("leading zero");
    if (m_i < m_s.size() && m_s[m_i] == '.') {
      ++m_i;
      digits();
    }
    if (m_i < m_s.size() && (m_s[m_i] == 'e' || m_s[m_i] == 'E')) {
      ++m_i;
      if (m_i < m_s.size() && (m_s[m_i] == '+' || m_s[m_i] == '-')) ++m_i;
      digits();
    }
    return std::stod(std::string(m_s.substr(b, m_i - b)));
  }

  std::string_view m_s;
  std::size_t m_i = 0;
};

Json parse_json(std::string_view text) { return JsonParser(text).parse(); }

// A key as it reads back from the trace (invalid UTF-8 becomes U+FFFD).
std::string as_traced(const std::string& key) {
  return parse_json("\"" + tessera::json_escape(key) + "\"").str();
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool python_accepts(const std::filesystem::path& p) {
  if (!std::filesystem::exists("/usr/bin/python3")) return true;  // nothing to ask
  const std::string cmd =
      "/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))' '" +
      p.string() + "'";
  return std::system(cmd.c_str()) == 0;
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("tessera_diag_" + std::to_string(::getpid()) + "_" + name);
}

// Keeps an observer registered for one test.
struct GlobalObserver {
  std::shared_ptr<tessera::Observer> o;
  explicit GlobalObserver(std::shared_ptr<tessera::Observer> obs) : o(std::move(obs)) {
    tessera::add_global_observer(o);
  }
  ~GlobalObserver() { tessera::remove_global_observer(o); }
  GlobalObserver(const GlobalObserver&) = delete;
  GlobalObserver& operator=(const GlobalObserver&) = delete;
};

int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }

// 16 leaves inc(i) summed by a binary tree of adds named with characters JSON must escape.
struct TreeGraph {
  std::vector<std::string> keys;
  tessera::Delayed<int> total;
  int expected = 0;
  explicit TreeGraph(int salt) {
    auto weird_add = tessera::delayed(add, {.name = "add \"q\" \\ \t\x01 \xc3\xa9 \xff"});
    std::vector<tessera::Delayed<int>> level;
    for (int i = 0; i < 16; ++i) {
      level.push_back(tessera::delayed(inc)(i + salt));
      keys.push_back(level.back().key());
      expected += i + salt + 1;
    }
    while (level.size() > 1) {
      std::vector<tessera::Delayed<int>> next;
      for (std::size_t i = 0; i < level.size(); i += 2) {
        next.push_back(weird_add(level[i], level[i + 1]));
        keys.push_back(next.back().key());
      }
      level = std::move(next);
    }
    total = level[0];
  }
};

std::vector<const Json*> events_with(const Json& trace, const std::string& ph, const std::string& cat = "") {
  std::vector<const Json*> out;
  for (const auto& e : trace["traceEvents"].arr()) {
    if (e["ph"].str() != ph) continue;
    if (!cat.empty() && (!e.has("cat") || e["cat"].str() != cat)) continue;
    out.push_back(&e);
  }
  return out;
}

// Every task of `g` appears exactly once as a well-formed "X" event inside its run's span.
void check_trace(const Json& trace, const std::vector<TreeGraph*>& graphs, unsigned threads) {
  REQUIRE(trace.is_object());
  REQUIRE(trace["displayTimeUnit"].str() == "ms");
  const auto runs = events_with(trace, "X", "run");
  REQUIRE(runs.size() == graphs.size());
  const auto tasks = events_with(trace, "X", "task");
  std::map<std::string, const Json*> by_key;
  for (const auto* e : tasks) {
    for (const char* field : {"name", "ph", "ts", "dur", "pid", "tid", "args"}) {
      INFO("field " << field);
      REQUIRE(e->has(field));
    }
    CHECK((*e)["name"].is_string());
    CHECK((*e)["ts"].num() >= 0);
    CHECK((*e)["dur"].num() >= 0);
    CHECK((*e)["pid"].num() == 0);
    CHECK((*e)["tid"].num() >= 0);
    CHECK((*e)["tid"].num() < threads);
    const auto& args = (*e)["args"];
    CHECK(args["bytes_out"].num() > 0);
    CHECK_FALSE(args["failed"].boolean());
    const auto& key = args["key"].str();
    CHECK(by_key.emplace(key, e).second);  // once
  }
  std::size_t expected = 0;
  for (std::size_t r = 0; r < graphs.size(); ++r) {
    const double run_begin = (*runs[r])["ts"].num();
    const double run_end = run_begin + (*runs[r])["dur"].num();
    CHECK((*runs[r])["args"]["ok"].boolean());
    if (r > 0) CHECK(run_begin >= (*runs[r - 1])["ts"].num() + (*runs[r - 1])["dur"].num());
    for (const auto& key : graphs[r]->keys) {
      ++expected;
      INFO("key " << key);
      const auto it = by_key.find(as_traced(key));
      REQUIRE(it != by_key.end());
      const auto& e = *it->second;
      // Times are rounded to 1 ns in the file.
      CHECK(e["ts"].num() >= run_begin - 0.002);
      CHECK(e["ts"].num() + e["dur"].num() <= run_end + 0.002);
      CHECK(e["name"].str() == as_traced(key.substr(0, key.rfind('-'))));
    }
  }
  CHECK(tasks.size() == expected);

  // Metadata names every process and thread that holds tasks.
  std::set<double> named_ranks;
  std::set<std::pair<double, double>> named_threads;
  for (const auto* m : events_with(trace, "M")) {
    if ((*m)["name"].str() == "process_name") {
      CHECK((*m)["args"]["name"].str() == "rank " + std::to_string(static_cast<int>((*m)["pid"].num())));
      named_ranks.insert((*m)["pid"].num());
    } else if ((*m)["name"].str() == "thread_name") {
      named_threads.emplace((*m)["pid"].num(), (*m)["tid"].num());
    }
  }
  for (const auto* e : tasks) {
    CHECK(named_ranks.count((*e)["pid"].num()) == 1);
    CHECK(named_threads.count({(*e)["pid"].num(), (*e)["tid"].num()}) == 1);
  }
}

}  // namespace

TEST_SUITE("diagnostics.json") {

TEST_CASE("json_escape escapes quotes, backslashes, control characters and bad UTF-8") {
  CHECK(tessera::json_escape("plain") == "plain");
  CHECK(tessera::json_escape("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(tessera::json_escape("\n\t\r\b\f") == "\\n\\t\\r\\b\\f");
  CHECK(tessera::json_escape(std::string("\x01\x1f", 2)) == "\\u0001\\u001f");
  CHECK(tessera::json_escape(std::string("nul\0x", 5)) == "nul\\u0000x");
  CHECK(tessera::json_escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(tessera::json_escape("\xff") == "\\ufffd");
  CHECK(tessera::json_escape("\xc3") == "\\ufffd");            // truncated sequence
  CHECK(tessera::json_escape("\xc0\xaf") == "\\ufffd\\ufffd");  // overlong '/'
  CHECK(tessera::json_escape("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");  // surrogate
  // Round trip through the strict parser.
  const std::string nasty = std::string("k\"\\\n\x02\xc3\xa9", 7);
  CHECK(parse_json("\"" + tessera::json_escape(nasty) + "\"").str() == nasty);
}

TEST_CASE("the test's JSON parser rejects what strict JSON rejects") {
  for (const char* bad : {"{", "[1,]", "{\"a\":1,}", "01", "\"a\nb\"", "{'a':1}", "[1] x", "\"\\x\"",
                          "nan", "{\"a\":1,\"a\":2}", "\"\xff\""}) {
    INFO(bad);
    CHECK_THROWS(parse_json(bad));
  }
  CHECK(parse_json(" {\"a\":[1,-2.5e3,true,null,\"x\\u00e9\"]} ")["a"].arr().size() == 5);
}

}  // TEST_SUITE

TEST_SUITE("diagnostics.trace") {

TEST_CASE("a traced threaded run has one well-formed event per task") {
  auto trace = std::make_shared<tessera::ChromeTrace>();
  GlobalObserver reg(trace);
  tessera::ThreadScheduler threads({.num_threads = 2});
  TreeGraph g(0);
  CHECK(tessera::compute(g.total, threads) == g.expected);
  CHECK(trace->num_tasks() == g.keys.size());
  CHECK(trace->num_runs() == 1);

  const auto path = temp_path("one_run.json");
  trace->write(path.string());
  const Json parsed = parse_json(read_file(path));
  check_trace(parsed, {&g}, 2);
  CHECK(python_accepts(path));
  std::filesystem::remove(path);
}

TEST_CASE("several runs append into one trace, one after the other") {
  const auto path = temp_path("runs.json");
  {
    auto trace = std::make_shared<tessera::ChromeTrace>(path.string());
    GlobalObserver reg(trace);
    tessera::ThreadScheduler threads({.num_threads = 2});
    TreeGraph a(100), b(200), c(300);
    CHECK(tessera::compute(a.total, threads) == a.expected);
    CHECK(tessera::compute(b.total, tessera::SyncScheduler{}) == b.expected);
    CHECK(tessera::compute(c.total, threads) == c.expected);
    trace->flush();
    const Json parsed = parse_json(read_file(path));
    check_trace(parsed, {&a, &b, &c}, 2);
    CHECK(python_accepts(path));
    const auto runs = events_with(parsed, "X", "run");
    CHECK((*runs[1])["name"].str() == "compute (sync)");
    CHECK((*runs[2])["name"].str() == "compute (threads)");
  }
  std::filesystem::remove(path);
}

TEST_CASE("a trace is written at the end of a run and when destroyed") {
  const auto path = temp_path("auto.json");
  std::filesystem::remove(path);
  TreeGraph g(400);
  {
    auto trace = std::make_shared<tessera::ChromeTrace>(path.string());
    GlobalObserver reg(trace);
    CHECK(tessera::compute(g.total, tessera::SyncScheduler{}) == g.expected);
    REQUIRE(std::filesystem::exists(path));  // first run: always written
    check_trace(parse_json(read_file(path)), {&g}, 1);
    std::filesystem::remove(path);
  }
  // Nothing new since the last write: the destructor does not rewrite.
  CHECK_FALSE(std::filesystem::exists(path));

  {
    tessera::ChromeTrace trace(path.string());
    trace.on_run_start(1, "manual");
    trace.on_task_done(tessera::TaskEvent{"k-1", "k", 0, 0, 0.0, 0.5, 0, 8, false});
  }
  REQUIRE(std::filesystem::exists(path));  // unfinished run: written by the destructor
  const Json parsed = parse_json(read_file(path));
  CHECK(events_with(parsed, "X", "task").size() == 1);
  std::filesystem::remove(path);
}

TEST_CASE("ranks become processes, clocks are aligned per rank, transfers are recorded") {
  // Events as the MPI scheduler reports them: worker clocks with different origins.
  tessera::ChromeTrace trace;
  trace.on_run_start(3, "mpi");
  // Short tasks (1 and 2 us) so that they fit after the trace's origin.
  trace.on_task_done(tessera::TaskEvent{"a-1", "a", 1, 0, 1000.0, 1000.000001, 0, 16, false});
  trace.on_task_done(tessera::TaskEvent{"b-2", "b", 2, 3, 5.0, 5.000002, 64, 16, true});
  trace.on_transfer("a-1", 1, 2, 16, 4.0, 4.5);
  trace.on_run_end(false);
  const Json parsed = parse_json(trace.json());
  const auto tasks = events_with(parsed, "X", "task");
  REQUIRE(tasks.size() == 2);
  const auto& a = *tasks[0];
  const auto& b = *tasks[1];
  CHECK(a["pid"].num() == 1);
  CHECK(b["pid"].num() == 2);
  CHECK(b["tid"].num() == 3);
  CHECK(a["dur"].num() <= 1.0 + 0.002);
  CHECK(b["dur"].num() <= 2.0 + 0.002);
  CHECK(b["args"]["failed"].boolean());
  CHECK(b["args"]["bytes_in"].num() == 64);
  // Mapped into the observer's clock: within the run, not at t = 1000 s.
  const auto runs = events_with(parsed, "X", "run");
  REQUIRE(runs.size() == 1);
  CHECK_FALSE((*runs[0])["args"]["ok"].boolean());
  const double run_end = (*runs[0])["ts"].num() + (*runs[0])["dur"].num();
  const double run_begin = (*runs[0])["ts"].num();
  for (const auto* e : tasks) {
    // One event per rank: its end is placed exactly where the observer received it.
    CHECK((*e)["ts"].num() + (*e)["dur"].num() <= run_end + 0.002);
    CHECK((*e)["ts"].num() + (*e)["dur"].num() >= run_begin - 0.002);
  }
  const auto transfers = events_with(parsed, "X", "transfer");
  REQUIRE(transfers.size() == 1);
  CHECK((*transfers[0])["pid"].num() == 2);
  CHECK((*transfers[0])["args"]["from"].num() == 1);
  CHECK((*transfers[0])["args"]["bytes"].num() == 16);
  std::set<std::string> names;
  for (const auto* m : events_with(parsed, "M")) {
    if ((*m)["name"].str() != "process_sort_index") names.insert((*m)["args"]["name"].str());
  }
  for (const char* n : {"rank 0", "rank 1", "rank 2", "thread 0", "thread 3", "runs", "transfers"}) {
    INFO(n);
    CHECK(names.count(n) == 1);
  }
}

TEST_CASE("events reported outside a run get a run of their own") {
  tessera::ChromeTrace trace;
  trace.on_task_done(tessera::TaskEvent{"x-1", "x", 0, 0, 0.0, 0.0, 0, 1, false});
  trace.on_transfer("x-1", 1, 0, 1, 0.0, 0.0);
  CHECK(trace.num_runs() == 1);
  CHECK(trace.num_tasks() == 1);
  const Json parsed = parse_json(trace.json());
  CHECK(events_with(parsed, "X", "run").size() == 1);
  CHECK(events_with(parsed, "X", "transfer").size() == 1);
}

TEST_CASE("write() names the path it cannot write") {
  tessera::ChromeTrace trace;
  CHECK_THROWS_WITH_AS(trace.write("/nonexistent-dir/x/trace.json"),
                       doctest::Contains("/nonexistent-dir/x/trace.json"), tessera::StorageError);
  CHECK_THROWS_AS(trace.flush(), tessera::ConfigError);
}

TEST_CASE("TESSERA_TRACE records every run of the process into one file") {
  const auto path = temp_path("env.json");
  ::setenv("TESSERA_TRACE", path.string().c_str(), 1);
  TreeGraph a(500), b(600);
  tessera::ThreadScheduler threads({.num_threads = 2});
  CHECK(tessera::compute(a.total, threads) == a.expected);
  CHECK(tessera::compute(b.total, threads) == b.expected);
  ::unsetenv("TESSERA_TRACE");
  CHECK(tessera::default_observers_from_env().empty());
  REQUIRE(std::filesystem::exists(path));
  // The second run may be left to the exit-time write when writes are slow; ask for it now.
  ::setenv("TESSERA_TRACE", path.string().c_str(), 1);
  auto observers = tessera::default_observers_from_env();
  ::unsetenv("TESSERA_TRACE");
  REQUIRE(observers.size() == 1);
  auto* trace = dynamic_cast<tessera::ChromeTrace*>(observers[0].get());
  REQUIRE(trace != nullptr);
  CHECK(trace->num_runs() == 2);
  trace->flush();
  check_trace(parse_json(read_file(path)), {&a, &b}, 2);
  CHECK(python_accepts(path));
  std::filesystem::remove(path);
}

}  // TEST_SUITE

TEST_SUITE("diagnostics.summary") {

TEST_CASE("RunSummary figures from known events") {
  tessera::RunSummary summary;
  summary.on_run_start(5, "mpi");
  // rank 1: two threads, 3 tasks; rank 2: one thread, 2 tasks, one failed.
  summary.on_task_done({"load-1", "load", 1, 0, 0.0, 2.0, 0, 1000, false});
  summary.on_task_done({"load-2", "load", 1, 1, 0.0, 1.0, 0, 1000, false});
  summary.on_task_done({"sum-1", "sum", 1, 0, 2.0, 2.5, 0, 8, false});
  summary.on_task_done({"load-3", "load", 2, 0, 0.0, 3.0, 2000, 1000, false});
  summary.on_task_done({"bad-\"1\"", "bad", 2, 0, 3.0, 3.1, 0, 0, true});
  summary.on_run_end(false);
  auto r = summary.report();
  CHECK(r.scheduler == "mpi");
  CHECK(r.tasks == 5);
  CHECK(r.expected_tasks == 5);
  CHECK_FALSE(r.ok);
  CHECK(r.failed == 1);
  REQUIRE(r.failed_keys.size() == 1);
  CHECK(r.failed_keys[0] == "bad-\"1\"");
  CHECK(r.bytes_out == 3008);
  REQUIRE(r.ranks.size() == 2);
  CHECK(r.ranks[0].rank == 1);
  CHECK(r.ranks[0].tasks == 3);
  CHECK(r.ranks[0].threads == 2);
  CHECK(r.ranks[0].busy_seconds == doctest::Approx(3.5));
  CHECK(r.ranks[0].bytes_out == 2008);
  CHECK(r.ranks[1].bytes_in == 2000);
  CHECK(r.ranks[1].threads == 1);
  CHECK(r.ranks[1].busy_seconds == doctest::Approx(3.1));
  REQUIRE(r.threads.size() == 3);
  CHECK(r.threads[1].rank == 1);
  CHECK(r.threads[1].thread == 1);
  CHECK(r.threads[1].tasks == 1);
  REQUIRE(r.groups.size() == 3);
  CHECK(r.groups[0].name == "load");
  CHECK(r.groups[0].count == 3);
  CHECK(r.groups[0].total_seconds == doctest::Approx(6.0));
  CHECK(r.groups[0].mean_seconds == doctest::Approx(2.0));
  CHECK(r.groups[0].max_seconds == doctest::Approx(3.0));
  CHECK(r.groups[1].name == "sum");
  CHECK(r.groups[2].name == "bad");
  CHECK(r.groups[2].failed == 1);
  // The busy fraction divides by the run's own wall time (measured, tiny here): capped at 1.
  CHECK(r.ranks[0].busy_fraction == doctest::Approx(1.0));

  const std::string text = summary.text();
  INFO(text);
  CHECK(text.find("run summary (mpi): 5 tasks") != std::string::npos);
  CHECK(text.find("FAILED") != std::string::npos);
  CHECK(text.find("rank 1: t0=2 t1=1; rank 2: t0=2") != std::string::npos);
  CHECK(text.find("failed tasks: 1 'bad-\"1\"'") != std::string::npos);
  CHECK(text.find("  load ") < text.find("  sum "));
  CHECK(text.find("  sum ") < text.find("  bad "));

  // A new run starts from zero.
  summary.on_run_start(0, "sync");
  summary.on_run_end(true);
  CHECK(summary.report().tasks == 0);
  CHECK(summary.report().ok);
}

TEST_CASE("RunSummary of a real threaded run") {
  using namespace std::chrono;
  auto summary = std::make_shared<tessera::RunSummary>(tessera::RunSummary::Options{.max_groups = 1});
  GlobalObserver reg(summary);
  auto heavy = tessera::delayed([](int i) {
    // Busy work of a known minimum duration (not synchronization).
    const auto until = steady_clock::now() + milliseconds(5);
    double x = i;
    while (steady_clock::now() < until) x = x * 0.5 + 1;
    return std::vector<double>(1000, x);
  }, {.name = "heavy"});
  auto light = tessera::delayed([](const std::vector<double>& v) { return v.size(); }, {.name = "light"});
  std::vector<tessera::Delayed<std::size_t>> parts;
  for (int i = 0; i < 6; ++i) parts.push_back(light(heavy(i)));
  auto total = tessera::delayed([](const std::vector<std::size_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::size_t{0});
  }, {.name = "total"})(parts);
  tessera::ThreadScheduler threads({.num_threads = 2});
  CHECK(tessera::compute(total, threads) == 6000);

  const auto r = summary->report();
  CHECK(r.scheduler == "threads");
  CHECK(r.ok);
  CHECK(r.tasks == 13);
  CHECK(r.expected_tasks == 13);
  REQUIRE(r.ranks.size() == 1);
  CHECK(r.ranks[0].tasks == 13);
  CHECK(r.ranks[0].threads >= 1);
  CHECK(r.ranks[0].threads <= 2);
  CHECK(r.ranks[0].busy_fraction > 0);
  CHECK(r.ranks[0].busy_fraction <= 1);
  CHECK(r.ranks[0].busy_seconds >= 0.030);
  CHECK(r.bytes_out >= 6 * 8000);
  REQUIRE(r.groups.size() == 3);
  CHECK(r.groups[0].name == "heavy");
  CHECK(r.groups[0].count == 6);
  CHECK(r.groups[0].mean_seconds >= 0.005);
  CHECK(r.groups[0].max_seconds >= r.groups[0].mean_seconds);
  std::size_t per_thread = 0;
  for (const auto& t : r.threads) per_thread += t.tasks;
  CHECK(per_thread == 13);
  const std::string text = summary->text();
  CHECK(text.find("heavy") != std::string::npos);
  CHECK(text.find("... 2 more groups") != std::string::npos);
}

TEST_CASE("TESSERA_SUMMARY=1 adds a summary printed to stderr") {
  ::setenv("TESSERA_SUMMARY", "1", 1);
  auto observers = tessera::default_observers_from_env();
  ::unsetenv("TESSERA_SUMMARY");
  REQUIRE(observers.size() == 1);
  CHECK(dynamic_cast<tessera::RunSummary*>(observers[0].get()) != nullptr);
}

}  // TEST_SUITE
