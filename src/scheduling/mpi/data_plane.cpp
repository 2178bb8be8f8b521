#include "scheduling/mpi/data_plane.hpp"

#include <cstdio>

namespace tessera::detail::mpi {

DataPlane::DataPlane(Messenger& messenger, Arrival on_arrival)
    : m_messenger(messenger), m_on_arrival(std::move(on_arrival)) {
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
  m_store[id] = std::move(v);
}

Value DataPlane::get(DataId id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_store.find(id);
  return it == m_store.end() ? Value{} : it->second;
}

bool DataPlane::has(DataId id) const {
  std::lock_guard lock(m_mutex);
  return m_store.count(id) != 0;
}

void DataPlane::erase(DataId id) {
  Value dropped;  // released outside the lock
  std::lock_guard lock(m_mutex);
  auto it = m_store.find(id);
  if (it != m_store.end()) {
    dropped = std::move(it->second);
    m_store.erase(it);
  }
}

void DataPlane::erase(const std::vector<DataId>& ids) {
  std::vector<Value> dropped;
  std::lock_guard lock(m_mutex);
  for (auto id : ids) {
    auto it = m_store.find(id);
    if (it != m_store.end()) {
      dropped.push_back(std::move(it->second));
      m_store.erase(it);
    }
  }
}

void DataPlane::request(int holder, const std::vector<DataId>& ids) {
  std::vector<DataId> fresh;
  {
    std::lock_guard lock(m_mutex);
    for (auto id : ids) {
      if (m_store.count(id) == 0 && m_requested.insert(id).second) fresh.push_back(id);
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
    Value v = get(id);
    std::shared_ptr<const Bytes> body;
    std::uint8_t status = 0;
    std::string error;
    if (v.empty()) {
      status = 1;
      error = "result " + std::to_string(id) + " is not held by rank " + std::to_string(m_messenger.rank());
    } else {
      try {
        body = v.bytes();
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
      m_served += body->size();
      m_messenger.send(dest, tag_data_body, std::shared_ptr<const std::vector<std::byte>>(body));
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
    m_store[id] = Value::serialized(std::make_shared<const Bytes>(std::move(bytes)));
    m_requested.erase(id);
  }
  m_on_arrival(id, true, source);
}

std::uint64_t DataPlane::held_bytes() const {
  std::lock_guard lock(m_mutex);
  std::uint64_t n = 0;
  for (const auto& [id, v] : m_store) n += v.nbytes();
  return n;
}

}  // namespace tessera::detail::mpi
