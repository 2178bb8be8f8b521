#include <tessera/storage/memory_ledger.hpp>

#include <tessera/core/error.hpp>

#include <algorithm>

namespace tessera {

MemoryLedger::MemoryLedger(std::uint64_t limit_bytes, MemoryThresholds thresholds)
    : m_limit(limit_bytes), m_thresholds(thresholds) {
  m_thresholds.validate();
}

void MemoryLedger::account_add(std::uint64_t bytes) {
  m_held += bytes;
  m_peak = std::max(m_peak, m_held);
}

void MemoryLedger::add(const std::string& key, std::uint64_t bytes) {
  std::lock_guard lock(m_mutex);
  auto [it, inserted] = m_entries.try_emplace(key);
  Entry& e = it->second;
  if (inserted) {
    e.bytes = bytes;
    e.lru = m_lru.insert(m_lru.end(), &it->first);
    account_add(bytes);
    return;
  }
  m_held -= e.bytes;
  if (e.pins > 0) {
    m_pinned -= e.bytes;
    m_pinned += bytes;
  } else {
    m_lru.splice(m_lru.end(), m_lru, e.lru);
  }
  e.bytes = bytes;
  account_add(bytes);
}

bool MemoryLedger::touch(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) return false;
  if (it->second.pins == 0) m_lru.splice(m_lru.end(), m_lru, it->second.lru);
  return true;
}

bool MemoryLedger::remove(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) return false;
  Entry& e = it->second;
  if (e.pins > 0) m_pinned -= e.bytes;
  else m_lru.erase(e.lru);
  m_held -= e.bytes;
  m_entries.erase(it);
  return true;
}

void MemoryLedger::pin(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    TESSERA_THROW(StorageError, "memory ledger: cannot pin unknown key '", key, "'");
  }
  Entry& e = it->second;
  if (e.pins++ == 0) {
    m_lru.erase(e.lru);
    m_pinned += e.bytes;
  }
}

void MemoryLedger::unpin(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    TESSERA_THROW(StorageError, "memory ledger: cannot unpin unknown key '", key, "'");
  }
  Entry& e = it->second;
  if (e.pins == 0) {
    TESSERA_THROW(StorageError, "memory ledger: cannot unpin key '", key,
                  "': it is not pinned");
  }
  if (--e.pins == 0) {
    e.lru = m_lru.insert(m_lru.end(), &it->first);
    m_pinned -= e.bytes;
  }
}

void MemoryLedger::charge(std::uint64_t bytes) {
  std::lock_guard lock(m_mutex);
  m_charged += bytes;
  m_pinned += bytes;
  account_add(bytes);
}

void MemoryLedger::discharge(std::uint64_t bytes) noexcept {
  std::lock_guard lock(m_mutex);
  bytes = std::min(bytes, m_charged);
  m_charged -= bytes;
  m_pinned -= bytes;
  m_held -= bytes;
}

std::uint64_t MemoryLedger::charged_bytes() const {
  std::lock_guard lock(m_mutex);
  return m_charged;
}

std::vector<std::string> MemoryLedger::choose_victims(std::uint64_t bytes_to_free) const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  std::uint64_t freed = 0;
  for (auto it = m_lru.begin(); it != m_lru.end() && freed < bytes_to_free; ++it) {
    out.push_back(**it);
    freed += m_entries.find(**it)->second.bytes;
  }
  return out;
}

bool MemoryLedger::contains(const std::string& key) const {
  std::lock_guard lock(m_mutex);
  return m_entries.count(key) != 0;
}

std::uint64_t MemoryLedger::bytes_of(const std::string& key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    TESSERA_THROW(StorageError, "memory ledger: unknown key '", key, "'");
  }
  return it->second.bytes;
}

bool MemoryLedger::is_pinned(const std::string& key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  return it != m_entries.end() && it->second.pins > 0;
}

std::uint64_t MemoryLedger::held() const {
  std::lock_guard lock(m_mutex);
  return m_held;
}

std::uint64_t MemoryLedger::pinned_bytes() const {
  std::lock_guard lock(m_mutex);
  return m_pinned;
}

std::uint64_t MemoryLedger::peak() const {
  std::lock_guard lock(m_mutex);
  return m_peak;
}

void MemoryLedger::reset_peak() {
  std::lock_guard lock(m_mutex);
  m_peak = m_held;
}

std::size_t MemoryLedger::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::uint64_t MemoryLedger::limit() const {
  std::lock_guard lock(m_mutex);
  return m_limit;
}

void MemoryLedger::set_limit(std::uint64_t limit_bytes) {
  std::lock_guard lock(m_mutex);
  m_limit = limit_bytes;
}

MemoryThresholds MemoryLedger::thresholds() const {
  std::lock_guard lock(m_mutex);
  return m_thresholds;
}

void MemoryLedger::set_thresholds(MemoryThresholds thresholds) {
  thresholds.validate();
  std::lock_guard lock(m_mutex);
  m_thresholds = thresholds;
}

MemoryState MemoryLedger::state_of(std::uint64_t bytes, std::uint64_t limit,
                                   const MemoryThresholds& t) noexcept {
  if (limit == 0) return MemoryState::ok;
  const double b = static_cast<double>(bytes);
  const double l = static_cast<double>(limit);
  if (b > t.pause * l) return MemoryState::above_pause;
  if (b > t.spill * l) return MemoryState::above_spill;
  if (b > t.target * l) return MemoryState::above_target;
  return MemoryState::ok;
}

MemoryState MemoryLedger::state() const {
  std::lock_guard lock(m_mutex);
  return state_of(m_held, m_limit, m_thresholds);
}

bool MemoryLedger::above_target() const { return state() >= MemoryState::above_target; }
bool MemoryLedger::above_spill() const { return state() >= MemoryState::above_spill; }
bool MemoryLedger::above_pause() const { return state() >= MemoryState::above_pause; }

std::uint64_t MemoryLedger::excess_over_target() const {
  std::lock_guard lock(m_mutex);
  if (m_limit == 0) return 0;
  const auto target =
      static_cast<std::uint64_t>(m_thresholds.target * static_cast<double>(m_limit));
  return m_held > target ? m_held - target : 0;
}

}  // namespace tessera
