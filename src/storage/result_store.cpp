#include <tessera/storage/result_store.hpp>

#include <tessera/storage/memory_ledger.hpp>
#include <tessera/storage/spill_dir.hpp>
#include <tessera/storage/spill_file.hpp>

#include <mutex>
#include <utility>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace tessera {

namespace {
std::string key_of(ResultStore::Id id) { return std::to_string(id); }
}  // namespace

/// The spill directory (private, unique per job and rank, removed at exit and on signals) and
/// the HDF5 spill file in it; created with the first spill.
struct SpillPlace {
  SpillDirectory dir;
  SpillFile file;
  explicit SpillPlace(int rank) : dir(rank), file(dir.file("spill.h5")) {}
};

struct ResultStore::Impl {
  Options options;
  MemoryLedger ledger;
  mutable std::mutex mutex;
  std::unordered_map<Id, Value> held;
  std::unordered_set<Id> on_disk;  // ids with a blob in the spill file (a held one is a clean copy)
  std::unique_ptr<SpillPlace> place;
  std::vector<Event> events;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

  explicit Impl(Options o) : options(std::move(o)), ledger(options.limit, options.thresholds) {}

  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  /// Spills least recently used, unpinned results until the ledger is at its target.
  void spill_down_locked() {
    if (options.limit == 0 || !ledger.above_target()) return;
    for (const auto& key : ledger.choose_victims(ledger.excess_over_target())) {
      const Id id = std::stoull(key);
      auto it = held.find(id);
      if (it == held.end()) continue;
      if (on_disk.count(id) == 0) {  // not read back unchanged from the file: write it
        if (!place) place = std::make_unique<SpillPlace>(options.rank);
        // Live objects spill in their wire form: large blocks (array chunks) are written
        // straight from the object, without a gathering copy.
        const double start = seconds();
        const auto wire = it->second.wire();
        place->file.put_pieces(key, wire.pieces);
        events.push_back(Event{id, wire.size, start, seconds(), Event::spill});
        on_disk.insert(id);
      }
      held.erase(it);
      ledger.remove(key);
    }
  }

  std::shared_ptr<Bytes> buffer_of(std::size_t size) {
    if (!options.buffers.make) return std::make_shared<Bytes>(size);
    auto recycle = options.buffers.recycle;
    return std::shared_ptr<Bytes>(new Bytes(options.buffers.make(size)), [recycle](Bytes* b) {
      if (recycle) recycle(std::move(*b));
      delete b;
    });
  }

  Value unspill_locked(Id id) {
    const std::string key = key_of(id);
    const double start = seconds();
    // Read into a recycled buffer where the owner gives one: fresh memory would cost a page
    // fault per 4 KiB.
    auto bytes = buffer_of(place->file.size_of(key));
    (void)place->file.get_into(key, *bytes);
    events.push_back(Event{id, bytes->size(), start, seconds(), Event::unspill});
    // The blob stays: while the result is unchanged, spilling it again costs no write.
    Value v = Value::serialized(std::shared_ptr<const Bytes>(std::move(bytes)));
    ledger.add(key, v.nbytes());
    held[id] = v;
    spill_down_locked();
    return v;
  }
};

MemoryCharge::MemoryCharge(MemoryCharge&& other) noexcept
    : m_store(std::exchange(other.m_store, nullptr)), m_bytes(std::exchange(other.m_bytes, 0)) {}

MemoryCharge& MemoryCharge::operator=(MemoryCharge&& other) noexcept {
  if (this != &other) {
    release();
    m_store = std::exchange(other.m_store, nullptr);
    m_bytes = std::exchange(other.m_bytes, 0);
  }
  return *this;
}

MemoryCharge::~MemoryCharge() { release(); }

void MemoryCharge::add(std::uint64_t bytes) {
  if (m_store == nullptr || bytes == 0) return;
  MemoryCharge more = m_store->charge(bytes);
  m_bytes += std::exchange(more.m_bytes, 0);
}

void MemoryCharge::release() noexcept {
  if (m_store != nullptr && m_bytes != 0) m_store->m_impl->ledger.discharge(m_bytes);
  m_bytes = 0;
}

ResultStore::ResultStore(Options options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

ResultStore::~ResultStore() = default;

void ResultStore::put(Id id, Value value) {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  const std::string key = key_of(id);
  if (s.on_disk.erase(id) != 0) s.place->file.erase(key);
  s.ledger.add(key, value.nbytes());
  s.held[id] = std::move(value);
  s.spill_down_locked();
}

Value ResultStore::get(Id id) {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  if (auto it = s.held.find(id); it != s.held.end()) {
    s.ledger.touch(key_of(id));
    return it->second;
  }
  if (s.on_disk.count(id) != 0) return s.unspill_locked(id);
  return Value{};
}

bool ResultStore::has(Id id) const {
  const auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  return s.held.count(id) != 0 || s.on_disk.count(id) != 0;
}

bool ResultStore::is_spilled(Id id) const {
  const auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  return s.held.count(id) == 0 && s.on_disk.count(id) != 0;
}

void ResultStore::erase(const std::vector<Id>& ids) noexcept {
  auto& s = *m_impl;
  std::vector<Value> dropped;  // released after the lock
  dropped.reserve(ids.size());
  std::lock_guard lock(s.mutex);
  for (auto id : ids) {
    if (auto it = s.held.find(id); it != s.held.end()) {
      dropped.push_back(std::move(it->second));
      s.held.erase(it);
      s.ledger.remove(key_of(id));
    }
    if (s.on_disk.erase(id) != 0) {
      try {
        s.place->file.erase(key_of(id));
      } catch (...) {
        // The blob stays in the file until the file is removed with its directory.
      }
    }
  }
}

MemoryCharge ResultStore::charge(std::uint64_t bytes) {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  s.ledger.charge(bytes);
  try {
    s.spill_down_locked();
  } catch (...) {
    s.ledger.discharge(bytes);
    throw;
  }
  return MemoryCharge(this, bytes);
}

ResultStore::Taken ResultStore::take(const std::vector<Id>& ids) {
  auto& s = *m_impl;
  Taken out;
  out.values.resize(ids.size());
  std::lock_guard lock(s.mutex);
  // The ones in memory first, pinned: reading back the others must not spill them.
  std::vector<std::string> pinned;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto it = s.held.find(ids[k]);
    if (it == s.held.end()) continue;
    out.values[k] = it->second;
    pinned.push_back(key_of(ids[k]));
    s.ledger.pin(pinned.back());
  }
  std::uint64_t read = 0;  // charged for the read-backs
  try {
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (!out.values[k].empty() || s.on_disk.count(ids[k]) == 0) continue;
      const std::string key = key_of(ids[k]);
      const auto size = s.place->file.size_of(key);
      // Charged (and room spilled for it) before its buffer is allocated.
      s.ledger.charge(size);
      read += size;
      s.spill_down_locked();
      const double start = s.seconds();
      auto bytes = s.buffer_of(size);
      (void)s.place->file.get_into(key, *bytes);
      s.events.push_back(Event{ids[k], bytes->size(), start, s.seconds(), Event::unspill});
      out.values[k] = Value::serialized(std::shared_ptr<const Bytes>(std::move(bytes)));
      // Counted as put() counts it (the buffer's header too).
      const auto counted = out.values[k].nbytes();
      if (counted > size) s.ledger.charge(counted - size);
      read += counted > size ? counted - size : 0;
    }
  } catch (...) {
    s.ledger.discharge(read);
    for (const auto& key : pinned) s.ledger.unpin(key);
    throw;
  }
  // The held ones leave the store; their bytes move from the ledger's keys to the charge.
  std::uint64_t moved = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (auto it = s.held.find(ids[k]); it != s.held.end()) {
      const auto key = key_of(ids[k]);
      moved += s.ledger.bytes_of(key);
      s.ledger.remove(key);
      s.held.erase(it);
    }
    if (s.on_disk.erase(ids[k]) != 0) {
      try {
        s.place->file.erase(key_of(ids[k]));
      } catch (...) {
        // The blob stays in the file until the file is removed with its directory.
      }
    }
  }
  s.ledger.charge(moved);
  out.charge = MemoryCharge(this, read + moved);
  return out;
}

void ResultStore::pin(const std::vector<Id>& ids) {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  for (auto id : ids) {
    const auto key = key_of(id);
    if (s.ledger.contains(key)) s.ledger.pin(key);
  }
}

void ResultStore::unpin(const std::vector<Id>& ids) {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  for (auto id : ids) {
    const auto key = key_of(id);
    if (s.ledger.contains(key) && s.ledger.is_pinned(key)) s.ledger.unpin(key);
  }
}

std::uint64_t ResultStore::held_bytes() const { return m_impl->ledger.held(); }

bool ResultStore::above_pause() const { return m_impl->ledger.above_pause(); }

ResultStore::Stats ResultStore::stats() const {
  const auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  Stats out;
  out.limit = s.ledger.limit();
  out.held = s.ledger.held();
  out.peak = s.ledger.peak();
  if (s.place) {
    const auto st = s.place->file.stats();
    out.bytes_spilled = st.bytes_written;
    out.bytes_unspilled = st.bytes_read;
    out.spills = st.spills;
    out.unspills = st.unspills;
    out.spill_seconds = st.write_seconds;
    out.unspill_seconds = st.read_seconds;
  }
  return out;
}

std::vector<ResultStore::Event> ResultStore::take_events() {
  auto& s = *m_impl;
  std::lock_guard lock(s.mutex);
  std::vector<Event> out;
  out.swap(s.events);
  return out;
}

std::filesystem::path ResultStore::spill_path() const {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->place ? m_impl->place->file.path() : std::filesystem::path{};
}

void ResultStore::set_clock_origin(std::chrono::steady_clock::time_point t0) {
  std::lock_guard lock(m_impl->mutex);
  m_impl->t0 = t0;
}

}  // namespace tessera
