#include "scheduling/mpi/protocol_control.hpp"

namespace tessera::detail::mpi {

StatsRequest StatsRequest::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  r.finish();
  return {};
}

Bytes StatsReply::encode() const {
  WireWriter w(kind);
  w.pod(tasks_run);
  w.pod(bytes_fetched);
  w.pod(bytes_served);
  w.pod(peak_rss);
  w.pod(held_bytes);
  w.pod(busy_seconds);
  w.pod(memory_limit);
  w.pod(held_peak);
  w.pod(bytes_spilled);
  w.pod(bytes_unspilled);
  w.pod(spill_seconds);
  w.pod(pauses);
  w.pod(ready_rss);
  return std::move(w).take();
}

StatsReply StatsReply::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  StatsReply s;
  s.tasks_run = r.pod<std::uint64_t>("tasks_run");
  s.bytes_fetched = r.pod<std::uint64_t>("bytes_fetched");
  s.bytes_served = r.pod<std::uint64_t>("bytes_served");
  s.peak_rss = r.pod<std::uint64_t>("peak_rss");
  s.held_bytes = r.pod<std::uint64_t>("held_bytes");
  s.busy_seconds = r.pod<double>("busy_seconds");
  s.memory_limit = r.pod<std::uint64_t>("memory_limit");
  s.held_peak = r.pod<std::uint64_t>("held_peak");
  s.bytes_spilled = r.pod<std::uint64_t>("bytes_spilled");
  s.bytes_unspilled = r.pod<std::uint64_t>("bytes_unspilled");
  s.spill_seconds = r.pod<double>("spill_seconds");
  s.pauses = r.pod<std::uint64_t>("pauses");
  s.ready_rss = r.pod<std::uint64_t>("ready_rss");
  r.finish();
  return s;
}

Bytes Shutdown::encode() const {
  WireWriter w(kind);
  w.pod(exit_code);
  return std::move(w).take();
}

Shutdown Shutdown::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  Shutdown s;
  s.exit_code = r.pod<std::int32_t>("exit_code");
  r.finish();
  return s;
}

}  // namespace tessera::detail::mpi
