#pragma once

/// @file
/// MemoryLedger: exact accounting of the bytes a worker holds, per key, in least-recently-used
/// order, so the scheduler knows when to spill and which results to spill first.

#include <tessera/storage/memory_limit.hpp>

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tessera {

/// Where held bytes stand against the limit and thresholds.
enum class MemoryState {
  ok,          ///< at or below target
  above_target,///< spill LRU results down to target
  above_spill, ///< spill eagerly
  above_pause  ///< stop starting tasks
};

/// Bookkeeping only: the ledger never moves data. Every key is either unpinned (in LRU order,
/// a spill candidate) or pinned (in use by a running task, never a victim).
/// Cost: add/touch/remove/pin/unpin are O(1) on average; choose_victims is O(victims).
/// Thread safety: all members may be called concurrently from any thread.
class MemoryLedger {
public:
  /// A ledger for a rank with `limit_bytes` of memory and the given thresholds.
  /// Throws: ConfigError if `thresholds` are invalid.
  explicit MemoryLedger(std::uint64_t limit_bytes = 0, MemoryThresholds thresholds = {});

  /// Records that `key` now holds `bytes`, as the most recently used entry. If the key is already
  /// present its size is replaced (pins are kept).
  void add(const std::string& key, std::uint64_t bytes);
  /// Marks `key` most recently used. Returns false if the key is unknown.
  bool touch(const std::string& key);
  /// Forgets `key` (released or spilled), pinned or not. Returns false if the key is unknown.
  bool remove(const std::string& key);
  /// Pins `key` (counted: n pins need n unpins). A pinned key is never chosen as victim.
  /// Throws: StorageError naming the key if it is unknown.
  void pin(const std::string& key);
  /// Drops one pin of `key`; with the last pin it becomes the most recently used entry.
  /// Throws: StorageError naming the key if it is unknown or not pinned.
  void unpin(const std::string& key);
  /// Counts `bytes` of working memory: bytes a running task holds outside any key (pieces it
  /// took, a buffer it is about to fill). They are in held() and pinned_bytes() (never victims),
  /// so choose_victims and the thresholds see them, until discharge() gives them back.
  void charge(std::uint64_t bytes);
  /// Gives back `bytes` of charged working memory (at most what is charged). Never throws.
  void discharge(std::uint64_t bytes) noexcept;
  /// Bytes of working memory charged now.
  [[nodiscard]] std::uint64_t charged_bytes() const;

  /// Least recently used unpinned keys whose sizes add up to at least `bytes_to_free` (all
  /// unpinned keys if they do not suffice). Does not remove them.
  [[nodiscard]] std::vector<std::string> choose_victims(std::uint64_t bytes_to_free) const;

  /// Whether `key` is recorded.
  [[nodiscard]] bool contains(const std::string& key) const;
  /// Bytes recorded for `key`. Throws: StorageError naming the key if it is unknown.
  [[nodiscard]] std::uint64_t bytes_of(const std::string& key) const;
  /// Whether `key` is recorded and pinned at least once.
  [[nodiscard]] bool is_pinned(const std::string& key) const;
  /// Bytes held by all keys.
  [[nodiscard]] std::uint64_t held() const;
  /// Bytes held by pinned keys.
  [[nodiscard]] std::uint64_t pinned_bytes() const;
  /// Largest held() ever seen (since construction or reset_peak()).
  [[nodiscard]] std::uint64_t peak() const;
  /// Restarts peak() from the current held().
  void reset_peak();
  /// Number of keys.
  [[nodiscard]] std::size_t size() const;

  /// The memory limit in bytes the thresholds apply to (0: unlimited).
  [[nodiscard]] std::uint64_t limit() const;
  /// Changes the memory limit (0: unlimited).
  void set_limit(std::uint64_t limit_bytes);
  /// The thresholds in use.
  [[nodiscard]] MemoryThresholds thresholds() const;
  /// Changes the thresholds.
  /// Throws: ConfigError if `thresholds` are invalid.
  void set_thresholds(MemoryThresholds thresholds);

  /// held() > target x limit (false when the limit is 0, meaning unlimited).
  [[nodiscard]] bool above_target() const;
  /// held() > spill x limit.
  [[nodiscard]] bool above_spill() const;
  /// held() > pause x limit.
  [[nodiscard]] bool above_pause() const;
  /// The highest threshold held() is above.
  [[nodiscard]] MemoryState state() const;
  /// Bytes to free to get back to target x limit (0 if at or below it).
  [[nodiscard]] std::uint64_t excess_over_target() const;

  /// The state of `bytes` against `limit` and `thresholds` (ok when the limit is 0).
  [[nodiscard]] static MemoryState state_of(std::uint64_t bytes, std::uint64_t limit,
                                            const MemoryThresholds& thresholds) noexcept;

private:
  struct Entry {
    std::uint64_t bytes = 0;
    unsigned pins = 0;
    std::list<const std::string*>::iterator lru;  // valid only when pins == 0
  };

  void account_add(std::uint64_t bytes);

  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;
  std::list<const std::string*> m_lru;  // front: least recently used; unpinned keys (map-owned)
  std::uint64_t m_held = 0;
  std::uint64_t m_pinned = 0;
  std::uint64_t m_charged = 0;  // working memory, part of m_held and m_pinned
  std::uint64_t m_peak = 0;
  std::uint64_t m_limit = 0;
  MemoryThresholds m_thresholds;
};

}  // namespace tessera
