#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace {
int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }
std::atomic<int> g_calls{0};
int counted_inc(int x) {
  ++g_calls;
  return x + 1;
}
}  // namespace

TEST_SUITE("graph") {

TEST_CASE("calling a delayed function runs nothing") {
  g_calls = 0;
  auto x = tessera::delayed(counted_inc)(1);
  auto y = tessera::delayed(counted_inc)(x);
  CHECK(g_calls.load() == 0);
  CHECK(tessera::compute(y, tessera::SyncScheduler{}) == 3);
  CHECK(g_calls.load() == 2);
}

TEST_CASE("keys are readable, deterministic and depend on function and arguments") {
  auto a1 = tessera::delayed(inc)(1);
  auto a2 = tessera::delayed(inc)(1);
  auto b = tessera::delayed(inc)(2);
  auto c = tessera::delayed(add)(1, 1);
  CHECK(std::regex_match(a1.key(), std::regex("inc-[0-9a-f]{16}")));
  CHECK(a1.key() == a2.key());
  CHECK(a1.key() != b.key());
  CHECK(std::regex_match(c.key(), std::regex("add-[0-9a-f]{16}")));
  auto named = tessera::delayed(inc, {.name = "increment"})(1);
  CHECK(named.key().rfind("increment-", 0) == 0);
  auto lam = tessera::delayed([](int v) { return v; })(1);
  CHECK(lam.key().rfind("lambda-", 0) == 0);
  // Keys of dependants change when an input changes.
  CHECK(tessera::delayed(add)(a1, b).key() != tessera::delayed(add)(b, a1).key());
}

TEST_CASE("impure functions get a fresh key per call") {
  auto f = tessera::delayed(inc, {.name = "draw", .pure = false});
  CHECK(f(1).key() != f(1).key());
}

TEST_CASE("equal calls are one task and run once") {
  g_calls = 0;
  auto x1 = tessera::delayed(counted_inc)(5);
  auto x2 = tessera::delayed(counted_inc)(5);
  auto s = tessera::delayed(add)(x1, x2);
  CHECK(tessera::TaskGraph::of(s).size() == 2);
  CHECK(tessera::compute(s, tessera::SyncScheduler{}) == 12);
  CHECK(g_calls.load() == 1);
}

TEST_CASE("only what the requested outputs need runs") {
  g_calls = 0;
  auto a = tessera::delayed(counted_inc)(100);
  auto unused = tessera::delayed(counted_inc)(a);
  (void)unused;
  auto wanted = tessera::delayed(counted_inc)(200);
  CHECK(tessera::compute(wanted, tessera::SyncScheduler{}) == 201);
  CHECK(g_calls.load() == 1);
}

TEST_CASE("a graph can be inspected: tasks, dependencies, dependents, counts, depth") {
  std::vector<tessera::Delayed<int>> xs;
  for (int i = 0; i < 4; ++i) xs.push_back(tessera::delayed(inc)(i));
  auto total = tessera::delayed([](const std::vector<int>& v) { return v.size(); },
                                {.name = "count"})(xs);
  auto g = tessera::TaskGraph::of(total);
  CHECK(g.size() == 5);
  CHECK(g.depth() == 2);
  CHECK(g.count_by_name() == std::map<std::string, std::size_t>{{"count", 1}, {"inc", 4}});
  CHECK(g.dependencies(total.key()).size() == 4);
  CHECK(g.dependents(xs[0].key()) == std::vector<std::string>{total.key()});
  CHECK(g.keys().back() == total.key());
  CHECK_THROWS_WITH_AS((void)g.dependencies("nope-0"), doctest::Contains("'nope-0'"), tessera::GraphError);
}

TEST_CASE("the graph is drawn as DOT with one node per task and one edge per dependency") {
  auto x = tessera::delayed(inc)(1);
  auto y = tessera::delayed(inc)(2);
  auto z = tessera::delayed(add)(x, y);
  const std::string dot = tessera::TaskGraph::of(z).to_dot();
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(dot.find("label=\"inc\"") != std::string::npos);
  CHECK(dot.find("label=\"add\"") != std::string::npos);
  std::size_t edges = 0;
  for (std::size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 2)) ++edges;
  CHECK(edges == 2);
  const std::string path = "test_graph_diamond.dot";
  tessera::TaskGraph::of(z).visualize(path);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK(ss.str() == dot);
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(tessera::TaskGraph::of(z).visualize("graph.bmp"), doctest::Contains("graph.bmp"),
                       tessera::GraphError);
}

TEST_CASE("an SVG is drawn through Graphviz when it is installed") {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    MESSAGE("graphviz not installed; skipped");
    return;
  }
  auto z = tessera::delayed(add)(tessera::delayed(inc)(1), tessera::delayed(inc)(2));
  const std::string path = "test_graph_diamond.svg";
  tessera::TaskGraph::of(z).visualize(path);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK(ss.str().find("<svg") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("an empty handle is rejected with a clear error") {
  tessera::Delayed<int> empty;
  CHECK_THROWS_AS((void)empty.key(), tessera::GraphError);
  CHECK_THROWS_AS(tessera::delayed(inc)(empty), tessera::GraphError);
}

TEST_CASE("values survive a serialization round trip, and bad bytes are reported") {
  const std::vector<double> v{1.0, 2.5, -3.0};
  auto bytes = tessera::encode(v);
  CHECK(bytes.size() == 8 + 3 * sizeof(double));
  CHECK(tessera::decode<std::vector<double>>(bytes) == v);
  const std::map<std::string, std::vector<int>> m{{"a", {1, 2}}, {"b", {}}};
  CHECK(tessera::decode<std::map<std::string, std::vector<int>>>(tessera::encode(m)) == m);
  bytes.resize(10);
  CHECK_THROWS_AS(tessera::decode<std::vector<double>>(bytes), tessera::SerializationError);
  auto val = tessera::Value::of(std::string("hello"));
  auto ser = tessera::Value::serialized(val.bytes());
  CHECK(ser.is_serialized());
  CHECK(ser.decoded<std::string>().get<std::string>() == "hello");
  CHECK_THROWS_WITH_AS((void)val.get<int>(), doctest::Contains("std::__cxx11::basic_string"),
                       tessera::SerializationError);
}

TEST_CASE("function pointers travel as module offsets") {
  int (*fp)(int) = &inc;
  auto bytes = tessera::encode(fp);
  auto back = tessera::decode<int (*)(int)>(bytes);
  CHECK(reinterpret_cast<const void*>(back) == reinterpret_cast<const void*>(fp));
  CHECK(back(41) == 42);
}

}  // TEST_SUITE("graph")
