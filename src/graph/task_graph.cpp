#include <tessera/graph/task_graph.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace tessera {

std::vector<Key> TaskGraph::keys() const {
  std::vector<Key> out;
  out.reserve(size());
  for (const auto* n : m_graph.nodes) out.push_back(n->key);
  return out;
}

bool TaskGraph::contains(const Key& key) const {
  return std::any_of(m_graph.nodes.begin(), m_graph.nodes.end(),
                     [&](const auto* n) { return n->key == key; });
}

std::uint32_t TaskGraph::index_of(const Key& key) const {
  for (std::uint32_t i = 0; i < m_graph.size(); ++i) {
    if (m_graph.nodes[i]->key == key) return i;
  }
  TESSERA_THROW(GraphError, "no task with key '", key, "' in this graph of ", size(), " tasks");
}

std::vector<Key> TaskGraph::dependencies(const Key& key) const {
  std::vector<Key> out;
  for (auto j : m_graph.inputs_of(index_of(key))) out.push_back(m_graph.nodes[j]->key);
  return out;
}

std::vector<Key> TaskGraph::dependents(const Key& key) const {
  std::vector<Key> out;
  for (auto j : m_graph.dependents_of(index_of(key))) out.push_back(m_graph.nodes[j]->key);
  return out;
}

std::map<std::string, std::size_t> TaskGraph::count_by_name() const {
  std::map<std::string, std::size_t> out;
  for (const auto* n : m_graph.nodes) ++out[std::string(n->name())];
  return out;
}

std::size_t TaskGraph::depth() const {
  std::vector<std::size_t> d(size(), 1);
  std::size_t best = 0;
  for (std::uint32_t i = 0; i < size(); ++i) {
    for (auto j : m_graph.inputs_of(i)) d[i] = std::max(d[i], d[j] + 1);
    best = std::max(best, d[i]);
  }
  return best;
}

namespace {
std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}
}  // namespace

std::string TaskGraph::to_dot(const std::string& graph_name) const {
  std::ostringstream os;
  os << "digraph \"" << dot_escape(graph_name) << "\" {\n"
     << "  rankdir=BT;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  for (std::uint32_t i = 0; i < size(); ++i) {
    const auto* n = m_graph.nodes[i];
    os << "  n" << i << " [label=\"" << dot_escape(n->name()) << "\", tooltip=\""
       << dot_escape(n->key) << "\"";
    if (n->is_computed()) os << ", shape=ellipse";
    os << "];\n";
  }
  for (std::uint32_t i = 0; i < size(); ++i) {
    // One edge per distinct input, even when an argument repeats.
    std::vector<std::uint32_t> ins(m_graph.inputs_of(i).begin(), m_graph.inputs_of(i).end());
    std::sort(ins.begin(), ins.end());
    ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
    for (auto j : ins) os << "  n" << j << " -> n" << i << ";\n";
  }
  os << "}\n";
  return os.str();
}

void TaskGraph::visualize(const std::string& path) const {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "dot" || ext == "gv") {
    std::ofstream f(path);
    f << to_dot();
    if (!f) TESSERA_THROW(GraphError, "cannot write the graph to '", path, "'");
    return;
  }
  if (ext != "svg" && ext != "png" && ext != "pdf") {
    TESSERA_THROW(GraphError, "cannot draw the graph to '", path,
                  "': use a .dot, .gv, .svg, .png or .pdf file name");
  }
  const std::string tmp = path + ".tmp.dot";
  {
    std::ofstream f(tmp);
    f << to_dot();
    if (!f) TESSERA_THROW(GraphError, "cannot write the graph to '", tmp, "'");
  }
  const std::string cmd = "dot -T" + ext + " '" + tmp + "' -o '" + path + "' 2>/dev/null";
  const int rc = std::system(cmd.c_str());
  std::remove(tmp.c_str());
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    TESSERA_THROW(GraphError, "drawing the graph to '", path, "' failed: Graphviz's `dot` ",
                  (WIFEXITED(rc) && WEXITSTATUS(rc) == 127) ? "is not installed (apt-get install graphviz)"
                                                            : "returned an error");
  }
}

}  // namespace tessera
