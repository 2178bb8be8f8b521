#pragma once

/// @file
/// TaskGraph: a read-only view of the tasks behind one or more Delayed values, for inspection
/// and drawing (Dask's `dask.visualize`). Building the view runs nothing.
///
/// @code
/// auto g = tessera::TaskGraph::of(total);
/// std::cout << g.size() << " tasks\n" << g.to_dot();
/// g.visualize("graph.svg");   // needs Graphviz's `dot` on PATH
/// @endcode

#include <tessera/graph/delayed.hpp>
#include <tessera/graph/exec_graph.hpp>

#include <map>
#include <string>
#include <vector>

namespace tessera {

class TaskGraph {
public:
  /// The graph of everything `values` need.
  template <class... T>
  static TaskGraph of(const Delayed<T>&... values) {
    std::vector<detail::NodePtr> roots{values.node()...};
    return TaskGraph(ExecGraph::build(roots));
  }
  template <class T>
  static TaskGraph of(const std::vector<Delayed<T>>& values) {
    std::vector<detail::NodePtr> roots;
    for (const auto& v : values) roots.push_back(v.node());
    return TaskGraph(ExecGraph::build(roots));
  }
  explicit TaskGraph(ExecGraph g) : m_graph(std::move(g)) {}

  /// Number of tasks (nodes), including already computed ones.
  [[nodiscard]] std::size_t size() const noexcept { return m_graph.size(); }
  /// Keys in dependency order.
  [[nodiscard]] std::vector<Key> keys() const;
  [[nodiscard]] bool contains(const Key& key) const;
  /// Keys a task reads, in argument order. Throws: GraphError naming an unknown key.
  [[nodiscard]] std::vector<Key> dependencies(const Key& key) const;
  /// Keys of the tasks that read this one. Throws: GraphError naming an unknown key.
  [[nodiscard]] std::vector<Key> dependents(const Key& key) const;
  /// Number of tasks per name prefix ("inc" -> 8, "sum" -> 1).
  [[nodiscard]] std::map<std::string, std::size_t> count_by_name() const;
  /// Longest dependency chain, in tasks.
  [[nodiscard]] std::size_t depth() const;

  /// Graphviz DOT text: one node per task labelled with its name, edges from input to consumer.
  [[nodiscard]] std::string to_dot(const std::string& graph_name = "tessera") const;
  /// Writes DOT to `path` when it ends in .dot (or .gv); for .svg/.png/.pdf runs Graphviz's
  /// `dot`. Throws: GraphError naming the file if it cannot be written or `dot` fails or is
  /// missing (install Debian's graphviz).
  void visualize(const std::string& path) const;

  [[nodiscard]] const ExecGraph& exec() const noexcept { return m_graph; }

private:
  [[nodiscard]] std::uint32_t index_of(const Key& key) const;
  ExecGraph m_graph;
};

}  // namespace tessera
