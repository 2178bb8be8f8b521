#include "scheduling/mpi/protocol_data.hpp"

namespace tessera::detail::mpi {

namespace {
// fetch, release and gather are one format: a count and the ids.
Bytes encode_ids(const char* kind, const std::vector<DataId>& ids) {
  WireWriter w(kind);
  w.count("count", ids.size());
  for (auto id : ids) w.pod(id);
  return std::move(w).take();
}

std::vector<DataId> decode_ids(const char* kind, std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  std::vector<DataId> ids(r.count("count", sizeof(DataId)));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    r.at_item("id", i);
    ids[i] = r.pod<DataId>("id");
  }
  r.finish();
  return ids;
}
}  // namespace

Bytes FetchRequest::encode() const { return encode_ids(kind, ids); }
FetchRequest FetchRequest::decode(std::span<const std::byte> bytes) { return {decode_ids(kind, bytes)}; }

Bytes ReleaseRequest::encode() const { return encode_ids(kind, ids); }
ReleaseRequest ReleaseRequest::decode(std::span<const std::byte> bytes) { return {decode_ids(kind, bytes)}; }

Bytes GatherRequest::encode() const { return encode_ids(kind, ids); }
GatherRequest GatherRequest::decode(std::span<const std::byte> bytes) { return {decode_ids(kind, bytes)}; }

Bytes DataHeader::encode() const {
  WireWriter w(kind);
  w.pod(id);
  w.enumerator(status);
  w.string("error", error);
  return std::move(w).take();
}

DataHeader DataHeader::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  DataHeader h;
  h.id = r.pod<DataId>("id");
  h.status = r.enumerator("status", failed);
  h.error = r.string("error");
  r.finish();
  return h;
}

}  // namespace tessera::detail::mpi
