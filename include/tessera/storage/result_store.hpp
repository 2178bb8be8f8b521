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
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tessera
