#pragma once

// Private: the results a rank holds, and the worker-to-worker exchange of them. Every rank has
// one: workers hold task results; rank 0 holds literal inputs and receives gathered outputs.

#include "scheduling/mpi/protocol_data.hpp"
#include "scheduling/mpi/protocol_tasks.hpp"

#include <tessera/serialization/value.hpp>
#include <tessera/storage/result_store.hpp>
#include <tessera/transport/messenger.hpp>

#include <chrono>
#include <exception>
#include <memory>

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

  /// Called (on the comm thread) when a peer's message could not be decoded, with the
  /// ProtocolError (naming the sender): the owner stops, the exchange cannot go on.
  using Failure = std::function<void(std::exception_ptr error)>;

  /// `memory_limit` 0: no limit, nothing is spilled (rank 0).
  DataPlane(Messenger& messenger, Arrival on_arrival, Failure on_failure,
            std::uint64_t memory_limit = 0, MemoryThresholds thresholds = {});
  ~DataPlane();

  /// Spill and memory counters of this rank.
  using MemoryStats = ResultStore::Stats;
  [[nodiscard]] MemoryStats memory_stats() const { return m_store.stats(); }

  /// Data movements for the task stream: results fetched from peers, spilled, read back.
  using Event = TransferEvent;
  /// The events since the last call (times in seconds since `clock_origin`).
  std::vector<Event> take_events();
  void set_clock_origin(std::chrono::steady_clock::time_point t0) {
    m_t0 = t0;
    m_store.set_clock_origin(t0);
  }
  [[nodiscard]] bool above_pause() const { return m_store.above_pause(); }
  /// Marks results as in use by a running task: they are never chosen for spilling.
  void pin(const std::vector<DataId>& ids);
  void unpin(const std::vector<DataId>& ids);

  /// The store of this rank's results (working-memory charges and take()).
  [[nodiscard]] ResultStore& store() noexcept { return m_store; }

  void put(DataId id, Value v);
  /// The held value, or an empty Value.
  [[nodiscard]] Value get(DataId id) const;
  [[nodiscard]] bool has(DataId id) const;
  [[nodiscard]] bool is_spilled(DataId id) const { return m_store.is_spilled(id); }
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
  /// Runs a message handler; a ProtocolError goes to m_on_failure, naming `source`.
  template <class F>
  void guarded(int source, F&& f);
  void on_data_header(int source, std::vector<std::byte>&& bytes);
  void on_data_body(int source, std::vector<std::byte>&& bytes);
  /// Moves the store's spill and read-back events into m_events. Caller holds m_mutex.
  void collect_store_events_locked();

  Messenger& m_messenger;
  Arrival m_on_arrival;
  Failure m_on_failure;
  mutable ResultStore m_store;  // the results this rank holds, spilled under its memory limit
  bool m_spill_failure_reported = false;  // guarded by m_mutex
  [[nodiscard]] double seconds() const;
  std::chrono::steady_clock::time_point m_t0 = std::chrono::steady_clock::now();
  std::unordered_map<DataId, double> m_requested_at;
  std::vector<Event> m_events;
  mutable std::mutex m_mutex;  // guards the exchange state below; taken before the store's
  std::unordered_set<DataId> m_requested;
  std::unordered_map<int, DataId> m_header_from;  // source -> id of the body to come
  std::atomic<std::uint64_t> m_fetched{0};
  std::atomic<std::uint64_t> m_served{0};
};

}  // namespace tessera::detail::mpi
