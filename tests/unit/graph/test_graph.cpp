#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <numeric>
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
  auto pure_inc = tessera::delayed(inc, {.pure = true});
  auto pure_add = tessera::delayed(add, {.pure = true});
  auto a1 = pure_inc(1);
  auto a2 = pure_inc(1);
  auto b = pure_inc(2);
  auto c = pure_add(1, 1);
  CHECK(std::regex_match(a1.key(), std::regex("inc-[0-9a-f]{16}")));
  CHECK(a1.key() == a2.key());
  CHECK(a1.key() != b.key());
  CHECK(std::regex_match(c.key(), std::regex("add-[0-9a-f]{16}")));
  auto named = tessera::delayed(inc, {.name = "increment"})(1);
  CHECK(named.key().rfind("increment-", 0) == 0);
  auto lam = tessera::delayed([](int v) { return v; })(1);
  CHECK(lam.key().rfind("lambda-", 0) == 0);
  // Keys of dependants change when an input changes.
  CHECK(pure_add(a1, b).key() != pure_add(b, a1).key());
  // A pure key does not depend on how many calls came before it (it is the function and the
  // arguments only), so it is the same in every run and on every rank.
  for (int i = 0; i < 3; ++i) (void)tessera::delayed(inc)(i);
  CHECK(pure_inc(1).key() == a1.key());
}

TEST_CASE("delayed is impure by default (Dask): every call gets a fresh key") {
  auto f = tessera::delayed(inc, {.name = "draw"});
  CHECK(f(1).key() != f(1).key());
  CHECK(tessera::delayed(inc)(1).key() != tessera::delayed(inc)(1).key());
  auto g = tessera::delayed(inc, {.name = "draw", .pure = false});
  CHECK(g(1).key() != g(1).key());
}

TEST_CASE("four equal impure calls are four tasks, four equal pure calls are one") {
  const auto sum = tessera::delayed(
      [](const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); }, {.name = "sum"});
  for (const bool pure : {false, true}) {
    CAPTURE(pure);
    g_calls = 0;
    std::vector<tessera::Delayed<int>> parts;
    for (int i = 0; i < 4; ++i) parts.push_back(tessera::delayed(counted_inc, {.pure = pure})(5));
    auto total = sum(parts);
    const auto counts = tessera::TaskGraph::of(total).count_by_name();
    CHECK(counts.at("counted_inc") == (pure ? 1U : 4U));
    CHECK(tessera::compute(total, tessera::ThreadScheduler({.num_threads = 2})) == 24);
    CHECK(g_calls.load() == (pure ? 1 : 4));
  }
}

TEST_CASE("equal pure calls are one task and run once") {
  g_calls = 0;
  auto x1 = tessera::delayed(counted_inc, {.pure = true})(5);
  auto x2 = tessera::delayed(counted_inc, {.pure = true})(5);
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

namespace {
std::vector<std::byte> concat(const tessera::Value::Wire& w) {
  std::vector<std::byte> out;
  for (auto p : w.pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}
}  // namespace

TEST_CASE("a vector of unpadded pairs travels as one block, in the same bytes as field by field") {
  using Rec = std::pair<std::uint64_t, std::uint64_t>;
  static_assert(!std::is_trivially_copyable_v<Rec> || tessera::Bitwise<Rec>);
  static_assert(tessera::RawLayout<Rec>);
  static_assert(tessera::RawLayout<std::pair<std::int32_t, std::pair<float, std::uint32_t>>>);
  static_assert(!tessera::RawLayout<std::pair<std::uint8_t, std::uint64_t>>);  // padded
  static_assert(!tessera::RawLayout<std::pair<std::string, int>>);
  std::vector<Rec> recs(10'000);
  for (std::size_t i = 0; i < recs.size(); ++i) recs[i] = {i * 0x9e3779b97f4a7c15ull, ~i};
  tessera::Bytes by_field;
  tessera::ByteWriter w(by_field);
  w.pod<std::uint64_t>(recs.size());
  for (const auto& [k, v] : recs) {
    w.pod(k);
    w.pod(v);
  }
  CHECK(tessera::encode(recs) == by_field);
  CHECK(tessera::decode<std::vector<Rec>>(by_field) == recs);
  const auto v = tessera::Value::of(recs);
  bool in_place = false;
  for (auto p : v.wire().pieces) in_place = in_place || p.data() == reinterpret_cast<const std::byte*>(v.get<std::vector<Rec>>().data());
  CHECK(in_place);
  // Padded pairs still go field by field (their padding is not sent).
  const std::vector<std::pair<std::uint8_t, std::uint64_t>> padded{{1, 2}, {3, 4}};
  CHECK(tessera::encode(padded).size() == 8 + 2 * 9);
  CHECK(tessera::decode<std::vector<std::pair<std::uint8_t, std::uint64_t>>>(tessera::encode(padded)) == padded);
}

TEST_CASE("the wire form references large blocks in place and concatenates to the bytes") {
  std::vector<double> big(100'000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) * 0.5;
  using Obj = std::tuple<int, std::vector<double>, std::string, std::vector<double>>;
  const Obj obj{
      7, big, std::string(70'000, 'x'), std::vector<double>{1.0, 2.0}};
  const auto v = tessera::Value::of(obj);
  const auto wire = v.wire();
  const auto& live = v.get<Obj>();
  // The vector's and the string's elements are sent from the object itself.
  bool refs_vector = false, refs_string = false;
  for (auto p : wire.pieces) {
    refs_vector = refs_vector || p.data() == reinterpret_cast<const std::byte*>(std::get<1>(live).data());
    refs_string = refs_string || p.data() == reinterpret_cast<const std::byte*>(std::get<2>(live).data());
  }
  CHECK(refs_vector);
  CHECK(refs_string);
  CHECK(wire.size == v.bytes()->size());
  CHECK(concat(wire) == *v.bytes());
  CHECK(tessera::decode<Obj>(concat(wire)) == obj);
  // Small values and serialized values are one piece.
  const auto small = tessera::Value::of(std::vector<int>{1, 2, 3}).wire();
  CHECK(small.pieces.size() == 1);
  const auto flat = v.bytes();
  const auto ser = tessera::Value::serialized(flat).wire();
  REQUIRE(ser.pieces.size() == 1);
  CHECK(ser.pieces[0].data() == flat->data());
  // An unserializable type says so.
  struct Opaque {
    std::unique_ptr<int> p;
  };
  CHECK_THROWS_AS((void)tessera::Value::of(std::make_shared<Opaque>()).wire(), tessera::SerializationError);
}

TEST_CASE("align pads the serialized position, the reader skips the same padding") {
  tessera::Bytes head;
  std::vector<tessera::BulkRef> refs;
  tessera::ByteWriter w(head, refs, 16);
  w.pod<std::uint8_t>(1);
  const std::vector<std::byte> block(40, std::byte{3});
  w.bulk(block.data(), block.size());  // referenced: position counts it, the head does not
  CHECK(head.size() == 1);
  CHECK(w.position() == 41);
  w.align(64);
  CHECK(w.position() == 64);
  w.pod<std::uint8_t>(2);
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].offset == 1);
  std::vector<std::byte> flat(head.begin(), head.begin() + 1);
  flat.insert(flat.end(), block.begin(), block.end());
  flat.insert(flat.end(), head.begin() + 1, head.end());
  tessera::ByteReader r(flat);
  CHECK(r.pod<std::uint8_t>() == 1);
  CHECK(r.take(40).size() == 40);
  r.align(64);
  CHECK(r.pod<std::uint8_t>() == 2);
  CHECK(r.remaining() == 0);
}

TEST_CASE("function pointers travel as module offsets") {
  int (*fp)(int) = &inc;
  auto bytes = tessera::encode(fp);
  auto back = tessera::decode<int (*)(int)>(bytes);
  CHECK(reinterpret_cast<const void*>(back) == reinterpret_cast<const void*>(fp));
  CHECK(back(41) == 42);
}

}  // TEST_SUITE("graph")
