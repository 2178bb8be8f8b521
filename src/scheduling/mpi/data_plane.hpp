#pragma once

// Private: the results a rank holds, and the worker-to-worker exchange of them. Every rank has
// one: workers hold task results; rank 0 holds literal inputs and receives gathered outputs.

#include "scheduling/mpi/protocol.hpp"

#include <tessera/serialization/value.hpp>
#include <tessera/transport/messenger.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tessera::detail::mpi {

class DataPlane {
public:
  /// Called (on the comm thread) when a requested result arrived, or failed to (ok=false).
  using Arrival = std::function<void(DataId id, bool ok, int from)>;

  DataPlane(Messenger& messenger, Arrival on_arrival);

  void put(DataId id, Value v);
  /// The held value, or an empty Value.
  [[nodiscard]] Value get(DataId id) const;
  [[nodiscard]] bool has(DataId id) const;
  void erase(DataId id);
  void erase(const std::vector<DataId>& ids);
  /// Asks `holder` for these results (each at most once until it arrives).
  /// Returns the ids that were not already requested.
  void request(int holder, const std::vector<DataId>& ids);
  /// Sends held results to `dest` (a data header + body each).
  void serve(int dest, const std::vector<DataId>& ids);

  [[nodiscard]] std::uint64_t held_bytes() const;
  [[nodiscard]] std::uint64_t bytes_fetched() const noexcept { return m_fetched.load(); }
  [[nodiscard]] std::uint64_t bytes_served() const noexcept { return m_served.load(); }

private:
  void on_data_header(int source, std::vector<std::byte>&& bytes);
  void on_data_body(int source, std::vector<std::byte>&& bytes);

  Messenger& m_messenger;
  Arrival m_on_arrival;
  mutable std::mutex m_mutex;
  std::unordered_map<DataId, Value> m_store;
  std::unordered_set<DataId> m_requested;
  std::unordered_map<int, DataId> m_header_from;  // source -> id of the body to come
  std::atomic<std::uint64_t> m_fetched{0};
  std::atomic<std::uint64_t> m_served{0};
};

}  // namespace tessera::detail::mpi
