#include <tessera/scheduling/task_context.hpp>

#include <tessera/scheduling/scheduler.hpp>

namespace tessera {

namespace {
thread_local Scheduler* t_scheduler = nullptr;
thread_local detail::TaskSlot* t_slot = nullptr;
}  // namespace

std::shared_ptr<Scheduler> current_scheduler() noexcept {
  if (t_scheduler == nullptr) return nullptr;
  if (auto owned = t_scheduler->weak_from_this().lock()) return owned;
  return std::shared_ptr<Scheduler>(std::shared_ptr<Scheduler>{}, t_scheduler);  // not owning
}

void secede() {
  if (t_slot != nullptr) t_slot->secede();
}

void rejoin() {
  if (t_slot != nullptr) t_slot->rejoin();
}

namespace detail {

void set_thread_slot(TaskSlot* slot) noexcept { t_slot = slot; }

CurrentSchedulerScope::CurrentSchedulerScope(Scheduler* scheduler) noexcept : m_previous(t_scheduler) {
  if (t_scheduler == nullptr) t_scheduler = scheduler;
}

CurrentSchedulerScope::~CurrentSchedulerScope() { t_scheduler = m_previous; }

}  // namespace detail
}  // namespace tessera
