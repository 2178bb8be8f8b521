#include <tessera/graph/exec_graph.hpp>

#include <tessera/core/error.hpp>

#include <unordered_map>

namespace tessera {

std::size_t ExecGraph::num_to_run() const noexcept {
  std::size_t n = 0;
  for (const auto* node : nodes) n += node->is_computed() ? 0 : 1;
  return n;
}

ExecGraph ExecGraph::build(std::span<const detail::NodePtr> outputs) {
  static const std::unordered_map<std::uint64_t, detail::NodePtr> none;
  return build(outputs, none);
}

ExecGraph ExecGraph::build(std::span<const detail::NodePtr> outputs,
                           const std::unordered_map<std::uint64_t, detail::NodePtr>& known) {
  ExecGraph g;
  g.roots.assign(outputs.begin(), outputs.end());
  std::unordered_map<std::uint64_t, std::uint32_t> index_of;  // node hash -> index
  constexpr std::uint32_t visiting = 0xFFFFFFFFu;
  std::vector<std::uint32_t> slot_of;  // slot -> final index, visiting while on the stack
  std::vector<const detail::TaskNode*> slots;

  auto lookup = [&](const detail::TaskNode* n, bool& fresh) -> std::uint32_t {
    auto [it, inserted] = index_of.try_emplace(n->hash, static_cast<std::uint32_t>(slots.size()));
    fresh = inserted;
    if (inserted) {
      if (!known.empty() && !n->is_computed()) {
        if (auto k = known.find(n->hash); k != known.end() && k->second->key == n->key) {
          n = k->second.get();
          g.roots.push_back(k->second);  // keep it alive with the graph
        }
      }
      slots.push_back(n);
      slot_of.push_back(visiting);
    } else {
      const auto* other = slots[it->second];
      if (other != n && other->key != n->key) {
        TESSERA_THROW(GraphError, "task keys collide: '", other->key, "' and '", n->key,
                      "' have the same hash");
      }
      // Prefer a node whose result is already known (a persisted copy of the same task).
      if (other != n && !other->is_computed() && n->is_computed()) slots[it->second] = n;
    }
    return it->second;
  };

  // Iterative depth-first post-order: a node gets its index after all its inputs.
  struct Frame {
    std::uint32_t slot;
    std::uint32_t next_input;
  };
  std::vector<Frame> stack;
  for (const auto& out : outputs) {
    if (!out) TESSERA_THROW(GraphError, "compute() was given an empty Delayed handle");
    bool fresh = false;
    const auto s = lookup(out.get(), fresh);
    if (!fresh) continue;
    stack.push_back({s, 0});
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto* node = slots[f.slot];
      const bool expand = !node->is_computed();
      if (expand && f.next_input < node->inputs.size()) {
        const auto* in = node->inputs[f.next_input++].get();
        bool in_fresh = false;
        const auto is = lookup(in, in_fresh);
        if (in_fresh) stack.push_back({is, 0});
        continue;
      }
      slot_of[f.slot] = static_cast<std::uint32_t>(g.nodes.size());
      g.nodes.push_back(node);
      stack.pop_back();
    }
  }

  const auto n = static_cast<std::uint32_t>(g.nodes.size());
  g.input_begin.assign(n + 1, 0);
  g.consumers.assign(n, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto* node = g.nodes[i];
    const std::size_t k = node->is_computed() ? 0 : node->inputs.size();
    g.input_begin[i + 1] = g.input_begin[i] + static_cast<std::uint32_t>(k);
  }
  g.input_index.resize(g.input_begin[n]);
  std::vector<std::uint32_t> dep_count(n, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto* node = g.nodes[i];
    if (node->is_computed()) continue;
    std::uint32_t at = g.input_begin[i];
    for (const auto& in : node->inputs) {
      const auto j = slot_of[index_of.at(in->hash)];
      g.input_index[at++] = j;
      ++dep_count[j];
    }
  }
  g.dependent_begin.assign(n + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) g.dependent_begin[i + 1] = g.dependent_begin[i] + dep_count[i];
  g.dependent_index.resize(g.dependent_begin[n]);
  std::vector<std::uint32_t> fill(g.dependent_begin.begin(), g.dependent_begin.end() - 1);
  for (std::uint32_t i = 0; i < n; ++i) {
    for (auto j : g.inputs_of(i)) g.dependent_index[fill[j]++] = i;
  }
  for (std::uint32_t i = 0; i < n; ++i) g.consumers[i] = dep_count[i];
  g.outputs.reserve(outputs.size());
  for (const auto& out : outputs) {
    const auto idx = slot_of[index_of.at(out->hash)];
    g.outputs.push_back(idx);
    ++g.consumers[idx];
  }
  return g;
}

}  // namespace tessera
