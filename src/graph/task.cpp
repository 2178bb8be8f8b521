#include <tessera/graph/task.hpp>

#include <tessera/core/hash.hpp>

namespace tessera::detail {

namespace {
// Nodes whose last reference dies while another node is being destroyed on this thread are
// parked here and released by the outermost destructor, in a loop instead of a recursion.
thread_local std::vector<std::shared_ptr<const TaskNode>>* t_parking = nullptr;
}  // namespace

TaskNode::~TaskNode() {
  if (inputs.empty()) return;
  if (t_parking != nullptr) {
    for (auto& in : inputs) {
      if (in) t_parking->push_back(std::move(in));
    }
    return;
  }
  std::vector<std::shared_ptr<const TaskNode>> parking;
  t_parking = &parking;
  for (auto& in : inputs) {
    if (in) parking.push_back(std::move(in));
  }
  inputs.clear();
  while (!parking.empty()) {
    auto next = std::move(parking.back());
    parking.pop_back();
    next.reset();  // may park further inputs
  }
  t_parking = nullptr;
}

void set_key(TaskNode& node, std::string_view name, std::uint64_t hash) {
  node.hash = hash;
  node.name_length = static_cast<std::uint32_t>(name.size());
  node.key.reserve(name.size() + 17);
  node.key.assign(name);
  node.key.push_back('-');
  node.key += to_hex(hash);
}

}  // namespace tessera::detail
