#include "scheduling/mpi/data_plane.hpp"

#include <tessera/storage/spill_dir.hpp>
#include <tessera/storage/spill_file.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace tessera::detail::mpi {

namespace {
std::string ledger_key(DataId id) { return std::to_string(id); }

/// Shares `bytes`; the buffer goes back to the receive pool when the last owner (the Value, or
/// an array viewing it) lets go.
std::shared_ptr<const Bytes> recycled_bytes(Bytes&& bytes) {
  return std::shared_ptr<const Bytes>(new Bytes(std::move(bytes)), [](const Bytes* b) {
    recycle_byte_buffer(std::move(*const_cast<Bytes*>(b)));
    delete b;
  });
}
}  // namespace

/// The spill directory (private, unique per job and rank, removed at exit and on signals) and
/// the HDF5 spill file in it.
struct DataPlane::SpillState {
  SpillDirectory dir;
  SpillFile file;
  explicit SpillState(int rank) : dir(rank), file(dir.file("spill.h5")) {}
};

DataPlane::~DataPlane() = default;

double DataPlane::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
}

std::vector<DataPlane::Event> DataPlane::take_events() {
  std::lock_guard lock(m_mutex);
  std::vector<Event> out;
  out.swap(m_events);
  return out;
}

DataPlane::DataPlane(Messenger& messenger, Arrival on_arrival, std::uint64_t memory_limit,
                     MemoryThresholds thresholds)
    : m_messenger(messenger),
      m_on_arrival(std::move(on_arrival)),
      m_ledger(memory_limit, thresholds),
      m_spill_enabled(memory_limit > 0) {
  m_messenger.on(tag_fetch, [this](int source, std::vector<std::byte>&& bytes) {
    ByteReader r(bytes);
    const auto n = r.pod<std::uint32_t>();
    std::vector<DataId> ids(n);
    for (auto& id : ids) id = r.pod<DataId>();
    serve(source, ids);
  });
  m_messenger.on(tag_data, [this](int s, std::vector<std::byte>&& b) { on_data_header(s, std::move(b)); });
  m_messenger.on(tag_data_body, [this](int s, std::vector<std::byte>&& b) { on_data_body(s, std::move(b)); });
}

void DataPlane::put(DataId id, Value v) {
  std::lock_guard lock(m_mutex);
  m_ledger.add(ledger_key(id), v.nbytes());
  m_store[id] = std::move(v);
  if (m_spill_enabled && m_ledger.above_target()) spill_down_locked();
}

void DataPlane::spill_down_locked() {
  const auto victims = m_ledger.choose_victims(m_ledger.excess_over_target());
  for (const auto& key : victims) {
    const DataId id = std::stoull(key);
    auto it = m_store.find(id);
    if (it == m_store.end()) continue;
    if (!m_spill) m_spill = std::make_unique<SpillState>(m_messenger.rank());
    // Serialized values spill as they are; live objects in their wire form, large blocks
    // (array chunks) written straight from the object.
    const double t0 = seconds();
    const auto wire = it->second.wire();
    m_spill->file.put_pieces(key, wire.pieces);
    const int me = m_messenger.rank();
    m_events.push_back(Event{id, me, me, wire.size, t0, seconds(), Event::spill});
    m_store.erase(it);
    m_ledger.remove(key);
    m_spilled.insert(id);
  }
}

Value DataPlane::unspill_locked(DataId id) {
  const std::string key = ledger_key(id);
  const double t0 = seconds();
  // Read into a recycled buffer: fresh memory would cost a page fault per 4 KiB.
  Bytes buffer = make_byte_buffer(m_spill->file.size_of(key));
  (void)m_spill->file.get_into(key, buffer);
  auto bytes = recycled_bytes(std::move(buffer));
  const int me = m_messenger.rank();
  m_events.push_back(Event{id, me, me, bytes->size(), t0, seconds(), Event::unspill});
  m_spill->file.erase(key);
  m_spilled.erase(id);
  Value v = Value::serialized(std::move(bytes));
  m_ledger.add(key, v.nbytes());
  m_store[id] = v;
  if (m_ledger.above_target()) spill_down_locked();
  return v;
}

Value DataPlane::get(DataId id) const {
  auto* self = const_cast<DataPlane*>(this);
  std::lock_guard lock(m_mutex);
  auto it = m_store.find(id);
  if (it != m_store.end()) {
    self->m_ledger.touch(ledger_key(id));
    return it->second;
  }
  if (m_spilled.count(id)) return self->unspill_locked(id);
  return Value{};
}

bool DataPlane::has(DataId id) const {
  std::lock_guard lock(m_mutex);
  return m_store.count(id) != 0 || m_spilled.count(id) != 0;
}

void DataPlane::erase(DataId id) { erase(std::vector<DataId>{id}); }

void DataPlane::erase(const std::vector<DataId>& ids) {
  std::vector<Value> dropped;  // released outside the lock
  std::lock_guard lock(m_mutex);
  for (auto id : ids) {
    auto it = m_store.find(id);
    if (it != m_store.end()) {
      dropped.push_back(std::move(it->second));
      m_store.erase(it);
      m_ledger.remove(ledger_key(id));
    } else if (m_spilled.erase(id)) {
      m_spill->file.erase(ledger_key(id));
    }
  }
}

void DataPlane::pin(const std::vector<DataId>& ids) {
  std::lock_guard lock(m_mutex);
  for (auto id : ids) {
    if (m_ledger.contains(ledger_key(id))) m_ledger.pin(ledger_key(id));
  }
}

void DataPlane::unpin(const std::vector<DataId>& ids) {
  std::lock_guard lock(m_mutex);
  for (auto id : ids) {
    if (m_ledger.contains(ledger_key(id)) && m_ledger.is_pinned(ledger_key(id))) m_ledger.unpin(ledger_key(id));
  }
}

DataPlane::MemoryStats DataPlane::memory_stats() const {
  std::lock_guard lock(m_mutex);
  MemoryStats s;
  s.limit = m_ledger.limit();
  s.held = m_ledger.held();
  s.peak = m_ledger.peak();
  if (m_spill) {
    const auto st = m_spill->file.stats();
    s.bytes_spilled = st.bytes_written;
    s.bytes_unspilled = st.bytes_read;
    s.spills = st.spills;
    s.unspills = st.unspills;
    s.spill_seconds = st.write_seconds;
    s.unspill_seconds = st.read_seconds;
  }
  return s;
}

void DataPlane::request(int holder, const std::vector<DataId>& ids) {
  std::vector<DataId> fresh;
  {
    std::lock_guard lock(m_mutex);
    for (auto id : ids) {
      if (m_store.count(id) == 0 && m_spilled.count(id) == 0 && m_requested.insert(id).second) {
        fresh.push_back(id);
        m_requested_at[id] = seconds();
      }
    }
  }
  if (fresh.empty()) return;
  std::vector<std::byte> msg;
  ByteWriter w(msg);
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(fresh.size()));
  for (auto id : fresh) w.pod<DataId>(id);
  m_messenger.send(holder, tag_fetch, std::move(msg));
}

void DataPlane::serve(int dest, const std::vector<DataId>& ids) {
  for (auto id : ids) {
    Value v;
    Value::Wire body;
    std::uint8_t status = 0;
    std::string error;
    try {
      v = get(id);  // may read it back from the spill file
    } catch (const std::exception& e) {
      status = 2;
      error = e.what();
    }
    if (status != 0) {
      // reported to the requester below
    } else if (v.empty()) {
      status = 1;
      error = "result " + std::to_string(id) + " is not held by rank " + std::to_string(m_messenger.rank());
    } else {
      try {
        // Large blocks (array chunks, vectors) are sent from the object itself: no copy.
        body = v.wire();
      } catch (const std::exception& e) {
        status = 2;
        error = e.what();
      }
    }
    std::vector<std::byte> header;
    ByteWriter w(header);
    w.pod<DataId>(id);
    w.pod<std::uint8_t>(status);
    put_string(w, error);
    m_messenger.send(dest, tag_data, std::move(header));
    if (status == 0) {
      m_served += body.size;
      m_messenger.send(dest, tag_data_body, std::move(body.pieces), std::move(body.keep), body.size);
    }
  }
}

void DataPlane::on_data_header(int source, std::vector<std::byte>&& bytes) {
  ByteReader r(bytes);
  const auto id = r.pod<DataId>();
  const auto status = r.pod<std::uint8_t>();
  const std::string error = get_string(r);
  if (status == 0) {
    std::lock_guard lock(m_mutex);
    m_header_from[source] = id;
    return;
  }
  std::fprintf(stderr, "tessera: rank %d could not get result %llu from rank %d: %s\n",
               m_messenger.rank(), static_cast<unsigned long long>(id), source, error.c_str());
  {
    std::lock_guard lock(m_mutex);
    m_requested.erase(id);
  }
  m_on_arrival(id, false, source);
}

void DataPlane::on_data_body(int source, std::vector<std::byte>&& bytes) {
  DataId id = 0;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_header_from.find(source);
    if (it == m_header_from.end()) return;  // protocol guarantees a header first
    id = it->second;
    m_header_from.erase(it);
    m_fetched += bytes.size();
    // The buffer goes back to the receive pool when the value (and any array viewing it) is
    // dropped.
    Value v = Value::serialized(recycled_bytes(std::move(bytes)));
    m_ledger.add(ledger_key(id), v.nbytes());
    m_store[id] = std::move(v);
    m_requested.erase(id);
    double asked = seconds();
    if (auto at = m_requested_at.find(id); at != m_requested_at.end()) {
      asked = at->second;
      m_requested_at.erase(at);
    }
    m_events.push_back(Event{id, source, m_messenger.rank(), m_store[id].nbytes(), asked, seconds(), Event::fetch});
    if (m_spill_enabled && m_ledger.above_target()) {
      // On the comm thread: a failed spill (full disk) must not stop the messenger. The
      // results stay in memory; the next task that spills reports the error with its key.
      try {
        spill_down_locked();
      } catch (const std::exception& e) {
        if (!m_spill_failure_reported) {
          m_spill_failure_reported = true;
          std::fprintf(stderr, "tessera: rank %d: spilling failed, results stay in memory: %s\n",
                       m_messenger.rank(), e.what());
        }
      }
    }
  }
  m_on_arrival(id, true, source);
}

std::uint64_t DataPlane::held_bytes() const {
  std::lock_guard lock(m_mutex);
  return m_ledger.held();
}

}  // namespace tessera::detail::mpi
