// FlatMap, the hash map of Bag's counting kernels: the same contents as std::unordered_map for
// any sequence of insertions and lookups, in insertion order, also when every hash collides.
#include <tessera/collections/bag/detail/flat_map.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using tessera::bag::detail::FlatMap;

struct CollidingHash {  // every key in the same slot chain
  std::size_t operator()(const std::string&) const { return 42; }
};

template <class Map>
void check_against_oracle(Map& m, int n, std::uint32_t seed) {
  std::unordered_map<std::string, std::int64_t> oracle;
  std::vector<std::string> order;
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    const std::string k = "w" + std::to_string(rng() % static_cast<std::uint32_t>(n / 3 + 1));
    if (!oracle.count(k)) order.push_back(k);
    ++oracle[k];
    ++m[k];
  }
  REQUIRE(m.size() == oracle.size());
  std::size_t i = 0;
  for (const auto& [k, c] : m) {  // insertion order
    REQUIRE(i < order.size());
    CHECK(k == order[i++]);
    CHECK(c == oracle.at(k));
  }
  for (const auto& [k, c] : oracle) {
    auto it = m.find(k);
    REQUIRE(it != m.end());
    CHECK(it->second == c);
  }
  CHECK(m.find(std::string("absent")) == m.end());
}

}  // namespace

TEST_SUITE("bag.flat_map") {

TEST_CASE("counts like std::unordered_map, in insertion order, across many growths") {
  FlatMap<std::string, std::int64_t> m;
  CHECK(m.empty());
  CHECK(m.find(std::string("x")) == m.end());
  check_against_oracle(m, 200000, 7);
}

TEST_CASE("keys whose hashes all collide are still told apart") {
  FlatMap<std::string, std::int64_t, CollidingHash> m;
  check_against_oracle(m, 600, 11);
}

TEST_CASE("try_emplace keeps the first value, release hands over the entries") {
  FlatMap<int, std::string> m;
  auto [a, fresh_a] = m.try_emplace(3, "three");
  CHECK(fresh_a);
  auto [b, fresh_b] = m.try_emplace(3, "drei");
  CHECK_FALSE(fresh_b);
  CHECK(b->second == "three");
  m.emplace(-1, "minus one");
  m[7] = "seven";
  const auto entries = std::move(m).release();
  REQUIRE(entries.size() == 3);
  CHECK(entries[0] == std::pair<int, std::string>{3, "three"});
  CHECK(entries[1] == std::pair<int, std::string>{-1, "minus one"});
  CHECK(entries[2] == std::pair<int, std::string>{7, "seven"});
}

}  // TEST_SUITE
