#include "scheduling/mpi/data_plane.hpp"

#include <tessera/core/buffer_pool.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace tessera::detail::mpi {

namespace {
/// Shares `bytes`; the buffer goes back to the buffer pool when the last owner (the Value, or
/// an array viewing it) lets go.
std::shared_ptr<const Bytes> recycled_bytes(Bytes&& bytes) {
  return std::shared_ptr<const Bytes>(new Bytes(std::move(bytes)), [](const Bytes* b) {
    BufferPool::instance().recycle(std::move(*const_cast<Bytes*>(b)));
    delete b;
  });
}

ResultStore::Options store_options(int rank, std::uint64_t memory_limit, MemoryThresholds thresholds) {
  ResultStore::Options o;
  o.limit = memory_limit;
  o.thresholds = thresholds;
  o.rank = rank;
  // Results read back from the spill file use the buffer pool's recycled vectors.
  o.buffers.make = [](std::size_t n) { return BufferPool::instance().take_bytes(n); };
  o.buffers.recycle = [](Bytes&& b) { BufferPool::instance().recycle(std::move(b)); };
  return o;
}
}  // namespace

DataPlane::~DataPlane() = default;

double DataPlane::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
}

void DataPlane::collect_store_events_locked() {
  const int me = m_messenger.rank();
  for (const auto& e : m_store.take_events()) {
    m_events.push_back(Event{e.id, me, me, e.bytes, e.start, e.stop,
                             e.kind == ResultStore::Event::spill ? Event::spill : Event::unspill});
  }
}

std::vector<DataPlane::Event> DataPlane::take_events() {
  std::lock_guard lock(m_mutex);
  collect_store_events_locked();
  std::vector<Event> out;
  out.swap(m_events);
  return out;
}

template <class F>
void DataPlane::guarded(int source, F&& f) {
  try {
    f();
  } catch (const ProtocolError& e) {
    m_on_failure(std::make_exception_ptr(e.from_rank(source)));
  }
}

DataPlane::DataPlane(Messenger& messenger, Arrival on_arrival, Failure on_failure,
                     std::uint64_t memory_limit, MemoryThresholds thresholds)
    : m_messenger(messenger),
      m_on_arrival(std::move(on_arrival)),
      m_on_failure(std::move(on_failure)),
      m_store(store_options(messenger.rank(), memory_limit, thresholds)) {
  m_messenger.on(tag_fetch, [this](int source, std::vector<std::byte>&& bytes) {
    guarded(source, [&] { serve(source, FetchRequest::decode(bytes).ids); });
  });
  m_messenger.on(tag_data, [this](int s, std::vector<std::byte>&& b) {
    guarded(s, [&] { on_data_header(s, std::move(b)); });
  });
  m_messenger.on(tag_data_body, [this](int s, std::vector<std::byte>&& b) {
    guarded(s, [&] { on_data_body(s, std::move(b)); });
  });
}

void DataPlane::put(DataId id, Value v) { m_store.put(id, std::move(v)); }

Value DataPlane::get(DataId id) const { return m_store.get(id); }

bool DataPlane::has(DataId id) const { return m_store.has(id); }

void DataPlane::erase(DataId id) { m_store.erase(id); }

void DataPlane::erase(const std::vector<DataId>& ids) { m_store.erase(ids); }

void DataPlane::pin(const std::vector<DataId>& ids) { m_store.pin(ids); }

void DataPlane::unpin(const std::vector<DataId>& ids) { m_store.unpin(ids); }

void DataPlane::request(int holder, const std::vector<DataId>& ids) {
  std::vector<DataId> fresh;
  {
    std::lock_guard lock(m_mutex);
    for (auto id : ids) {
      if (!m_store.has(id) && m_requested.insert(id).second) {
        fresh.push_back(id);
        m_requested_at[id] = seconds();
      }
    }
  }
  if (fresh.empty()) return;
  m_messenger.send(holder, tag_fetch, FetchRequest{std::move(fresh)}.encode());
}

void DataPlane::serve(int dest, const std::vector<DataId>& ids) {
  for (auto id : ids) {
    Value v;
    Value::Wire body;
    DataHeader header{id, DataHeader::ok, {}};
    try {
      v = get(id);  // may read it back from the spill file
    } catch (const std::exception& e) {
      header.status = DataHeader::failed;
      header.error = e.what();
    }
    if (header.status != DataHeader::ok) {
      // reported to the requester below
    } else if (v.empty()) {
      header.status = DataHeader::not_held;
      header.error = "result " + std::to_string(id) + " is not held by rank " + std::to_string(m_messenger.rank());
    } else {
      try {
        // Large blocks (array chunks, vectors) are sent from the object itself: no copy.
        body = v.wire();
      } catch (const std::exception& e) {
        header.status = DataHeader::failed;
        header.error = e.what();
      }
    }
    m_messenger.send(dest, tag_data, header.encode());
    if (header.status == DataHeader::ok) {
      m_served += body.size;
      m_messenger.send(dest, tag_data_body, std::move(body.pieces), std::move(body.keep), body.size);
    }
  }
}

void DataPlane::on_data_header(int source, std::vector<std::byte>&& bytes) {
  const auto [id, status, error] = DataHeader::decode(bytes);
  if (status == DataHeader::ok) {
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
    if (it == m_header_from.end()) {
      throw ProtocolError("data_body", "header", "", std::nullopt, 0, bytes.size(),
                          "no ok data header came before it");
    }
    id = it->second;
    m_header_from.erase(it);
    m_fetched += bytes.size();
    // The buffer goes back to the buffer pool when the value (and any array viewing it) is
    // dropped.
    Value v = Value::serialized(recycled_bytes(std::move(bytes)));
    const auto nbytes = v.nbytes();
    m_requested.erase(id);
    double asked = seconds();
    if (auto at = m_requested_at.find(id); at != m_requested_at.end()) {
      asked = at->second;
      m_requested_at.erase(at);
    }
    m_events.push_back(Event{id, source, m_messenger.rank(), nbytes, asked, seconds(), Event::fetch});
    // On the comm thread: a failed spill (full disk) must not stop the messenger. The result
    // stays in memory; the next task that spills reports the error with its key.
    try {
      m_store.put(id, std::move(v));
    } catch (const std::exception& e) {
      if (!m_spill_failure_reported) {
        m_spill_failure_reported = true;
        std::fprintf(stderr, "tessera: rank %d: spilling failed, results stay in memory: %s\n",
                     m_messenger.rank(), e.what());
      }
    }
  }
  m_on_arrival(id, true, source);
}

std::uint64_t DataPlane::held_bytes() const { return m_store.held_bytes(); }

}  // namespace tessera::detail::mpi
