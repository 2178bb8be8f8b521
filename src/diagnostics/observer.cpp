#include <tessera/diagnostics/observer.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

namespace tessera {

namespace detail {
std::mutex& observers_mutex() {
  static std::mutex m;
  return m;
}
std::vector<std::shared_ptr<Observer>>& global_observers() {
  static std::vector<std::shared_ptr<Observer>> v;
  return v;
}
}  // namespace detail

void add_global_observer(std::shared_ptr<Observer> observer) {
  std::lock_guard lock(detail::observers_mutex());
  detail::global_observers().push_back(std::move(observer));
}

void remove_global_observer(const std::shared_ptr<Observer>& observer) {
  std::lock_guard lock(detail::observers_mutex());
  auto& v = detail::global_observers();
  v.erase(std::remove(v.begin(), v.end(), observer), v.end());
}

}  // namespace tessera
