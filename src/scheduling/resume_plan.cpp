#include "scheduling/resume_plan.hpp"

#include <tessera/core/config.hpp>
#include <tessera/core/hash.hpp>

#include <cstdio>

namespace tessera::detail {

std::uint64_t ResumePlan::fingerprint(const ExecGraph& graph) {
  Hasher h;
  h.u64(graph.size());
  for (const auto* node : graph.nodes) h.str(node->key);
  for (auto o : graph.outputs) h.u64(o);
  return h.digest();
}

ResumePlan::ResumePlan(const ExecGraph& graph, std::shared_ptr<Checkpoint> checkpoint)
    : m_checkpoint(std::move(checkpoint)) {
  if (!m_checkpoint) return;
  const auto n = static_cast<std::uint32_t>(graph.size());
  m_fingerprint = fingerprint(graph);
  m_run = m_checkpoint->begin_run(m_fingerprint, n);
  // Backwards from the outputs: a task is needed if an output is, or a needed task that will
  // run reads it; a needed task with a recorded result is loaded, and its inputs are not needed
  // on its account.
  std::vector<char> needed(n, 0);
  for (auto o : graph.outputs) needed[o] = 1;
  m_actions.assign(n, Action::skip);
  for (std::uint32_t k = n; k-- > 0;) {
    const auto& node = *graph.nodes[k];
    if (!needed[k]) continue;
    if (!node.is_computed() && m_checkpoint->contains(m_run, node.key)) {
      m_actions[k] = Action::load;
      ++m_loads;
      continue;
    }
    m_actions[k] = Action::run;
    for (auto j : graph.inputs_of(k)) needed[j] = 1;
  }
  for (auto a : m_actions) m_skips += a == Action::skip ? 1 : 0;
}

Value ResumePlan::load(const ExecGraph& graph, std::uint32_t i) const {
  return m_checkpoint->find(m_run, graph.nodes[i]->key);
}

std::optional<Checkpoint::Entry> ResumePlan::locate(const ExecGraph& graph, std::uint32_t i) const {
  return m_checkpoint->locate(m_run, graph.nodes[i]->key);
}

void ResumePlan::record(const ExecGraph& graph, std::uint32_t i, const Value& v) const {
  m_checkpoint->add(m_run, graph.nodes[i]->key, v);
}

void ResumePlan::finish() const {
  if (!m_checkpoint) return;
  m_checkpoint->flush();
  if (runtime_config().summary) {
    std::fprintf(stderr, "tessera: checkpoint %s: run %u: %zu of %zu tasks loaded, %zu not needed, %zu computed\n",
                 m_checkpoint->path().c_str(), m_run, m_loads, m_actions.size(), m_skips,
                 m_actions.size() - m_loads - m_skips);
  }
}

}  // namespace tessera::detail
