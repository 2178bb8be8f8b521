#pragma once

/// @file
/// ExecGraph: the flat, topologically ordered form of everything the requested outputs need
/// (culled by construction), as schedulers consume it. Built once per compute().

#include <tessera/graph/task.hpp>

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace tessera {

/// Tasks in dependency order with compressed input/dependent lists.
///
/// Thread safety: immutable after build(); share freely.
struct ExecGraph {
  /// nodes[i] for i in [0, size()): every input of nodes[i] has a smaller index.
  std::vector<const detail::TaskNode*> nodes;
  /// Inputs of node i in argument order (repeats kept): input_index[input_begin[i]..input_begin[i+1]).
  std::vector<std::uint32_t> input_begin;
  std::vector<std::uint32_t> input_index;
  /// Dependents of node i (one entry per input edge): dependent_index[dependent_begin[i]..).
  std::vector<std::uint32_t> dependent_begin;
  std::vector<std::uint32_t> dependent_index;
  /// Index of each requested output, in request order.
  std::vector<std::uint32_t> outputs;
  /// How many times each node's result is consumed: its dependents plus each output request.
  std::vector<std::uint32_t> consumers;
  /// Keeps the nodes alive while the graph is in use.
  std::vector<detail::NodePtr> roots;

  [[nodiscard]] std::size_t size() const noexcept { return nodes.size(); }
  [[nodiscard]] std::span<const std::uint32_t> inputs_of(std::uint32_t i) const noexcept {
    return {input_index.data() + input_begin[i], input_begin[i + 1] - input_begin[i]};
  }
  [[nodiscard]] std::span<const std::uint32_t> dependents_of(std::uint32_t i) const noexcept {
    return {dependent_index.data() + dependent_begin[i], dependent_begin[i + 1] - dependent_begin[i]};
  }
  /// Number of tasks that still have to run (nodes without a known result).
  [[nodiscard]] std::size_t num_to_run() const noexcept;

  /// Collects everything reachable from `outputs`. Nodes with equal keys are one task; a node
  /// whose result is known (persisted) is not expanded.
  /// Throws: GraphError if two different tasks hash to the same key.
  static ExecGraph build(std::span<const detail::NodePtr> outputs);
  /// As above; a reached node whose hash is in `known` is replaced by that (computed) node, so
  /// results kept from earlier runs (futures) are reused instead of recomputed.
  static ExecGraph build(std::span<const detail::NodePtr> outputs,
                         const std::unordered_map<std::uint64_t, detail::NodePtr>& known);
};

}  // namespace tessera
