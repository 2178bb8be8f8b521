#pragma once

/// @file
/// What a running task can learn about where it runs, and how it gives its thread back while it
/// waits (Dask's `get_worker`-side helpers `secede` / `rejoin`).
///
/// @code
/// // Inside a task on the thread pool: wait for other work without holding a pool thread.
/// tessera::secede();            // the pool starts a replacement thread
/// auto r = other_future.result();
/// tessera::rejoin();            // the replacement retires after its current task
/// @endcode
///
/// Futures' tessera::worker_client() (futures/client.hpp) wraps this in a scope; most code wants
/// that instead.

#include <memory>

namespace tessera {

class Scheduler;

/// The scheduler running the calling task, or null when the caller is not inside a task of a
/// local scheduler (sync or threads). It is owned by whoever made it; when the scheduler was not
/// made by std::make_shared the pointer does not own it and is valid while the task runs.
/// Thread safety: thread-local, always safe.
[[nodiscard]] std::shared_ptr<Scheduler> current_scheduler() noexcept;

/// Inside a task on a ThreadScheduler: takes the calling thread out of the pool's count and
/// starts a replacement thread, so that tasks the caller waits for can run (a recursive task
/// tree then cannot deadlock a pool of two threads). A no-op outside a pool thread, on the sync
/// scheduler, or when the thread has already seceded. Throws: std::system_error if no thread can
/// be started. Thread safety: affects only the calling thread.
void secede();

/// Undoes secede(): the replacement thread retires once its current task ends (the pool is
/// briefly one thread over its size, never under it). A no-op if the thread has not seceded.
void rejoin();

/// secede() now, rejoin() at the end of the scope.
class SecededScope {
public:
  SecededScope() { secede(); }
  ~SecededScope() { rejoin(); }
  SecededScope(const SecededScope&) = delete;
  SecededScope& operator=(const SecededScope&) = delete;
};

namespace detail {

/// What a pool thread does on secede/rejoin (implemented by the ThreadScheduler's pool).
class TaskSlot {
public:
  virtual ~TaskSlot() = default;
  virtual void secede() = 0;
  virtual void rejoin() = 0;
};

/// Sets the calling thread's slot (null: none) for the thread's lifetime or until reset.
void set_thread_slot(TaskSlot* slot) noexcept;

/// Marks the calling thread as running tasks of `scheduler` for the scope's lifetime; keeps an
/// outer scheduler already set (a compute() run inline inside a task belongs to the outer one).
class CurrentSchedulerScope {
public:
  explicit CurrentSchedulerScope(Scheduler* scheduler) noexcept;
  ~CurrentSchedulerScope();
  CurrentSchedulerScope(const CurrentSchedulerScope&) = delete;
  CurrentSchedulerScope& operator=(const CurrentSchedulerScope&) = delete;

private:
  Scheduler* m_previous;
};

}  // namespace detail
}  // namespace tessera
