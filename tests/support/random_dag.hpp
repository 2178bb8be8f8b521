#pragma once

// Random DAGs with fixed seeds: every scheduler must give the sync scheduler's results.

#include <tessera/tessera.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace tessera::testing {

/// Mixes inputs so that any wrong, missing or repeated input changes the result.
inline std::uint64_t mix_node(std::uint64_t id, const std::vector<std::uint64_t>& inputs) {
  std::uint64_t h = id * 0x9E3779B97F4A7C15ULL + 1;
  for (auto v : inputs) h = (h ^ v) * 0xBF58476D1CE4E5B9ULL + (h >> 31);
  return h;
}

/// `n` tasks; task i reads up to `max_inputs` random earlier tasks. Returns the last `outputs`
/// tasks (and, through `all`, every task).
inline std::vector<Delayed<std::uint64_t>> random_dag(std::uint32_t seed, std::size_t n,
                                                      std::size_t max_inputs,
                                                      std::size_t outputs) {
  std::mt19937_64 rng(seed);
  std::vector<Delayed<std::uint64_t>> tasks;
  tasks.reserve(n);
  auto node_fn = delayed(&mix_node, {.name = "node"});
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<Delayed<std::uint64_t>> ins;
    if (i > 0) {
      const std::size_t k = rng() % (max_inputs + 1);
      for (std::size_t j = 0; j < k; ++j) ins.push_back(tasks[rng() % i]);
    }
    tasks.push_back(node_fn(static_cast<std::uint64_t>(i), ins));
  }
  return {tasks.end() - static_cast<std::ptrdiff_t>(std::min(outputs, n)), tasks.end()};
}

}  // namespace tessera::testing
