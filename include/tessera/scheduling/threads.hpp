#pragma once

/// @file
/// ThreadScheduler: a work-stealing pool of threads in this process. C++ has no GIL, so
/// CPU-bound tasks scale with cores. Each worker keeps a LIFO deque of ready tasks (good cache
/// locality: a task's consumer tends to run right after it on the same core) and steals the
/// oldest task from other workers when its own deque is empty.
///
/// @code
/// tessera::ThreadScheduler threads({.num_threads = 8});
/// int r = tessera::compute(result, threads);
/// @endcode
///
/// Thread safety: several compute() calls (from different threads) may run at once on one
/// scheduler object; they share its threads. A compute() called from inside a task of this
/// pool runs inline on the calling worker.

#include <tessera/scheduling/scheduler.hpp>

#include <memory>

namespace tessera {

class ThreadScheduler final : public Scheduler {
public:
  struct Options {
    /// 0: TESSERA_NUM_THREADS, else the cores in this process's CPU affinity mask.
    unsigned num_threads = 0;
  };
  ThreadScheduler() : ThreadScheduler(Options{}) {}
  explicit ThreadScheduler(Options options);
  ~ThreadScheduler() override;
  ThreadScheduler(const ThreadScheduler&) = delete;
  ThreadScheduler& operator=(const ThreadScheduler&) = delete;

  [[nodiscard]] std::string name() const override { return "threads"; }
  [[nodiscard]] unsigned num_threads() const noexcept;
  std::vector<Value> run(const ExecGraph& graph, RunContext& ctx) override;
  /// Under TESSERA_MEMORY_LIMIT the results stay in local_result_store() (and may be spilled).
  std::vector<detail::NodePtr> persist(const ExecGraph& graph, RunContext& ctx) override;

private:
  class Pool;
  std::unique_ptr<Pool> m_pool;
};

}  // namespace tessera
