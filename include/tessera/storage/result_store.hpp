#pragma once

/// @file
/// ResultStore: where one process keeps task results, by id, under a memory limit. Results
/// are held in memory in least-recently-used order; when the held bytes pass the limit's target
/// fraction, the least recently used results that no running task uses (unpinned) are written,
/// in their wire form, to an HDF5 spill file in a private spill directory and dropped from
/// memory. get() reads a spilled result back; its blob stays in the file while the result is
/// kept, so spilling it again is free (a read-mostly working set is written once). MPI workers keep their results here, and so does
/// the threads scheduler when a memory limit is set: both spill the same way.

#include <tessera/serialization/value.hpp>
#include <tessera/storage/memory_limit.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace tessera {

class ResultStore;

/// Working memory of a running task (pieces it took from a store, a buffer it is about to fill)
/// counted against a ResultStore's limit while the charge lives, so that the store spills its
/// unpinned results before the task allocates instead of after (ResultStore::charge). A
/// default-constructed charge counts nothing. The store must outlive its charges.
/// Thread safety: one charge is used by one thread at a time; charges of one store may live on
/// any threads.
class MemoryCharge {
public:
  MemoryCharge() noexcept = default;
  MemoryCharge(MemoryCharge&& other) noexcept;
  MemoryCharge& operator=(MemoryCharge&& other) noexcept;
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;
  /// Gives the bytes back (release()).
  ~MemoryCharge();

  /// Bytes counted now.
  [[nodiscard]] std::uint64_t bytes() const noexcept { return m_bytes; }
  /// Counts `bytes` more, spilling first as ResultStore::charge does (nothing without a store).
  /// Throws: StorageError if that spilling fails; the charge is unchanged then.
  void add(std::uint64_t bytes);
  /// Gives every byte back to the store. Never throws.
  void release() noexcept;

private:
  friend class ResultStore;
  MemoryCharge(ResultStore* store, std::uint64_t bytes) noexcept : m_store(store), m_bytes(bytes) {}
  ResultStore* m_store = nullptr;
  std::uint64_t m_bytes = 0;
};

/// Thread safety: every member may be called concurrently from any thread.
class ResultStore {
public:
  using Id = std::uint64_t;

  /// Where read-back results get their buffers (e.g. a pool of recycled receive buffers), and
  /// where such a buffer goes when the last owner of the result lets go. Unset: plain vectors.
  struct Buffers {
    std::function<std::vector<std::byte>(std::size_t)> make;
    std::function<void(std::vector<std::byte>&&)> recycle;
  };

  struct Options {
    std::uint64_t limit = 0;         ///< bytes of results to hold in memory; 0: no limit, no spill
    MemoryThresholds thresholds{};   ///< fractions of `limit` (target: where spilling starts)
    int rank = 0;                    ///< names the spill directory (tessera-<job>-rank<r>-...)
    Buffers buffers{};
  };

  /// A spill or a read-back, for traces (times in seconds since the clock origin).
  struct Event {
    enum Kind : std::uint8_t { spill = 1, unspill = 2 };
    Id id = 0;
    std::uint64_t bytes = 0;
    double start = 0, stop = 0;
    Kind kind = spill;
  };

  struct Stats {
    std::uint64_t limit = 0, held = 0, peak = 0;
    std::uint64_t bytes_spilled = 0, bytes_unspilled = 0, spills = 0, unspills = 0;
    double spill_seconds = 0, unspill_seconds = 0;
  };

  /// Throws: ConfigError if the thresholds are invalid. Creates no file: the spill directory
  /// and file appear with the first spill.
  explicit ResultStore(Options options);
  /// Removes the spill file and directory. Never throws.
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  /// Keeps `value` under `id` (replacing any earlier one) as the most recently used result,
  /// then spills down to the target if the store is above it.
  /// Throws: StorageError naming the spill file and the result if spilling fails (disk full);
  /// `value` is kept in memory then.
  void put(Id id, Value value);
  /// The result under `id`, read back from the spill file if it was spilled (it is then held
  /// in memory again, which may spill others); an empty Value if there is none.
  /// Throws: StorageError naming the spill file and the result if the read fails.
  [[nodiscard]] Value get(Id id);
  /// Whether a result is kept under `id` (in memory or spilled).
  [[nodiscard]] bool has(Id id) const;
  /// Whether the result under `id` is in the spill file right now.
  [[nodiscard]] bool is_spilled(Id id) const;
  /// Forgets these results (in memory or spilled). Unknown ids are ignored. Never throws.
  void erase(const std::vector<Id>& ids) noexcept;
  void erase(Id id) noexcept { erase(std::vector<Id>{id}); }
  /// Counts `bytes` of a running task's working memory against the limit, as if held and
  /// pinned, and spills unpinned results down to the target first: call it before allocating.
  /// Throws: StorageError naming the spill file if spilling fails (nothing is charged then).
  [[nodiscard]] MemoryCharge charge(std::uint64_t bytes);

  /// Results taken out of the store (take()) and the charge that still counts their bytes.
  struct Taken {
    std::vector<Value> values;  ///< in the order of the ids; an empty Value for an unknown id
    MemoryCharge charge;
  };
  /// Removes these results from the store (memory and spill file) and hands them over; their
  /// bytes stay counted as the caller's working memory (Taken::charge) until it lets go. Spilled
  /// ones are read back one at a time, each charged (and room spilled for it) before it is read;
  /// the results taken are never spilled for one another.
  /// Throws: StorageError if a read-back fails; nothing is removed then.
  [[nodiscard]] Taken take(const std::vector<Id>& ids);

  /// Marks results as in use by a running task (counted): they are never spilled while pinned.
  /// Ids that are not held in memory are ignored.
  void pin(const std::vector<Id>& ids);
  void unpin(const std::vector<Id>& ids);

  /// Bytes of results held in memory.
  [[nodiscard]] std::uint64_t held_bytes() const;
  /// Whether the held bytes are above the pause threshold (workers stop starting tasks).
  [[nodiscard]] bool above_pause() const;
  [[nodiscard]] Stats stats() const;
  /// The spills and read-backs since the last call.
  [[nodiscard]] std::vector<Event> take_events();
  /// The HDF5 spill file; empty until the first spill.
  [[nodiscard]] std::filesystem::path spill_path() const;
  /// Event times count from here (default: construction).
  void set_clock_origin(std::chrono::steady_clock::time_point t0);

private:
  friend class MemoryCharge;
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tessera
