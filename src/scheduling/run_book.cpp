#include "scheduling/run_book.hpp"

namespace tessera::detail {

RunBook::RunBook(const ExecGraph& graph, RunContext& ctx, int retries)
    : m_graph(graph), m_ctx(ctx), m_retries(retries) {
  const auto n = static_cast<std::uint32_t>(graph.size());
  m_pending = std::make_unique<std::atomic<std::uint32_t>[]>(n);
  m_consumers = std::make_unique<std::atomic<std::uint32_t>[]>(n);
  m_tries.assign(n, 0);
  if (ctx.keep_going) m_errors.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    m_pending[i].store(static_cast<std::uint32_t>(graph.inputs_of(i).size()), std::memory_order_relaxed);
    m_consumers[i].store(graph.consumers[i], std::memory_order_relaxed);
  }
}

std::vector<std::uint32_t> RunBook::start(std::size_t to_run, std::string_view scheduler) {
  m_ctx.run_start(to_run, scheduler);
  std::vector<std::uint32_t> ready;
  for (std::uint32_t i = 0; i < m_graph.size(); ++i) {
    if (m_graph.inputs_of(i).empty()) ready.push_back(i);
  }
  return ready;
}

std::exception_ptr RunBook::inherited_error(std::uint32_t i) const {
  if (m_errors.empty()) return nullptr;
  for (auto j : m_graph.inputs_of(i)) {
    if (m_errors[j]) return m_errors[j];
  }
  return nullptr;
}

bool RunBook::retry(std::uint32_t i) {
  return m_tries[i]++ < m_retries && !cancelled();
}

bool RunBook::fail(std::uint32_t i, std::exception_ptr error) {
  if (m_errors.empty()) {
    cancel(std::move(error));
    return false;
  }
  m_errors[i] = std::move(error);
  return true;
}

void RunBook::cancel(std::exception_ptr error) {
  std::lock_guard lock(m_error_mutex);
  if (!m_error) m_error = std::move(error);
  m_cancelled.store(true, std::memory_order_release);
}

bool RunBook::end() {
  {
    std::lock_guard lock(m_error_mutex);
    if (m_error) {
      m_ctx.run_end(false);
      std::rethrow_exception(m_error);
    }
  }
  bool ok = true;
  if (m_ctx.keep_going) {
    m_ctx.output_errors.assign(m_graph.outputs.size(), nullptr);
    for (std::size_t k = 0; k < m_graph.outputs.size(); ++k) {
      m_ctx.output_errors[k] = m_errors[m_graph.outputs[k]];
      ok = ok && !m_ctx.output_errors[k];
    }
  }
  m_ctx.run_end(ok);
  return ok;
}

}  // namespace tessera::detail
