#pragma once

/// @file
/// Internal: FlatMap, the hash map of Bag's counting and grouping kernels (frequencies, foldby,
/// distinct, groupby). Entries live in one vector in insertion order, found through an
/// open-addressing index of (hash, position) slots probed linearly. Against std::unordered_map
/// (one heap node per entry, a pointer chase per lookup) a word count over 44k distinct words
/// spends about half the time in the map (bench/README.md, Bag word count). Iteration is in
/// insertion order, so results do not depend on the hash. Not thread-safe (one per task).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <utility>
#include <vector>

namespace tessera::bag::detail {

template <class K, class V, class Hash = std::hash<K>>
class FlatMap {
public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  FlatMap() = default;

  /// The entry of `key`, inserted as {key, V(args...)} if missing; `second` is whether it was.
  template <class Key, class... Args>
  std::pair<iterator, bool> try_emplace(Key&& key, Args&&... args) {
    if ((m_entries.size() + 1) * 2 > m_slots.size()) grow();
    const std::uint64_t h = mixed_hash(key);
    Slot& slot = m_slots[probe(key, h)];
    if (slot.pos != 0) return {m_entries.begin() + static_cast<std::ptrdiff_t>(slot.pos - 1), false};
    m_entries.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::forward<Key>(key)),
                           std::forward_as_tuple(std::forward<Args>(args)...));
    slot = {tag_of(h), static_cast<std::uint32_t>(m_entries.size())};
    return {m_entries.end() - 1, true};
  }
  template <class Key, class Value>
  std::pair<iterator, bool> emplace(Key&& key, Value&& value) {
    return try_emplace(std::forward<Key>(key), std::forward<Value>(value));
  }
  /// The entry of `key`, or end().
  template <class Key>
  iterator find(const Key& key) {
    if (m_entries.empty()) return end();
    const Slot& slot = m_slots[probe(key, mixed_hash(key))];
    return slot.pos == 0 ? end() : m_entries.begin() + static_cast<std::ptrdiff_t>(slot.pos - 1);
  }
  template <class Key>
  V& operator[](Key&& key) {
    return try_emplace(std::forward<Key>(key)).first->second;
  }

  [[nodiscard]] std::size_t size() const noexcept { return m_entries.size(); }
  [[nodiscard]] bool empty() const noexcept { return m_entries.empty(); }
  iterator begin() noexcept { return m_entries.begin(); }
  iterator end() noexcept { return m_entries.end(); }
  const_iterator begin() const noexcept { return m_entries.begin(); }
  const_iterator end() const noexcept { return m_entries.end(); }
  /// The entries, in insertion order; the map is left empty.
  std::vector<value_type> release() && {
    m_slots.clear();
    m_mask = 0;
    return std::move(m_entries);
  }

private:
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t pos = 0;  // 1 + index in m_entries; 0: empty
  };

  template <class Key>
  std::uint64_t mixed_hash(const Key& key) const {
    // Fibonacci hashing spreads whatever bits the key's hash has over the whole word.
    return static_cast<std::uint64_t>(Hash{}(key)) * 0x9E3779B97F4A7C15ULL;
  }
  static std::uint32_t tag_of(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h); }

  /// The slot holding `key` (hash h), or the empty slot where it would go. Needs a free slot.
  template <class Key>
  std::size_t probe(const Key& key, std::uint64_t h) const {
    const std::uint32_t tag = tag_of(h);
    for (std::size_t s = slot_of(h);; s = (s + 1) & m_mask) {
      const Slot& slot = m_slots[s];
      if (slot.pos == 0 || (slot.tag == tag && m_entries[slot.pos - 1].first == key)) return s;
    }
  }
  std::size_t slot_of(std::uint64_t h) const noexcept { return static_cast<std::size_t>(h >> 32) & m_mask; }

  void grow() {
    const std::size_t n = m_slots.empty() ? 16 : m_slots.size() * 2;
    m_slots.assign(n, Slot{});
    m_mask = n - 1;
    m_entries.reserve(n / 2);
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
      const std::uint64_t h = mixed_hash(m_entries[i].first);
      std::size_t s = slot_of(h);
      while (m_slots[s].pos != 0) s = (s + 1) & m_mask;
      m_slots[s] = {tag_of(h), static_cast<std::uint32_t>(i + 1)};
    }
  }

  std::vector<value_type> m_entries;
  std::vector<Slot> m_slots;
  std::size_t m_mask = 0;
};

}  // namespace tessera::bag::detail
