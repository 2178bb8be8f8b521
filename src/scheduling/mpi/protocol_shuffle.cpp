#include "scheduling/mpi/protocol_shuffle.hpp"

namespace tessera::detail::mpi {

// ---- put -------------------------------------------------------------------------------------

void ShufflePut::encode_head(WireWriter& w) const {
  w.pod(token);
  w.pod(spec.id);
  w.pod(spec.seq);
  w.pod(spec.n_in);
  w.pod(spec.n_out);
  w.pod(input);
  w.count("count", pieces.size());
}

void ShufflePut::encode_piece_head(WireWriter& w, std::uint32_t output, bool separate, std::uint64_t size) {
  w.pod(output);
  w.flag(separate);
  w.pod(size);
}

Bytes ShufflePut::encode() const {
  WireWriter w(kind);
  std::size_t size = head_bytes + pieces.size() * piece_head_bytes;
  for (const auto& p : pieces) size += p.bytes.size();
  w.reserve(size);
  encode_head(w);
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const auto& p = pieces[k];
    w.at_item("piece", k);
    const std::size_t carried = p.separate ? 0 : p.size;
    if (p.bytes.size() != carried) {
      throw ProtocolError(kind, "size", "piece", k, 0, 0,
                          "a piece of " + std::to_string(p.size) + " bytes " +
                              (p.separate ? "sent separately carries no" : "sent inline carries") + " " +
                              std::to_string(p.bytes.size()) + " inline bytes",
                          true);
    }
    encode_piece_head(w, p.output, p.separate, p.size);
    w.raw(p.bytes);
  }
  return std::move(w).take();
}

ShufflePut ShufflePut::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  ShufflePut m;
  m.token = r.pod<std::uint64_t>("token");
  m.spec.id = r.pod<std::uint64_t>("spec id");
  m.spec.seq = r.pod<std::uint64_t>("spec seq");
  m.spec.n_in = r.pod<std::uint32_t>("spec n_in");
  m.spec.n_out = r.pod<std::uint32_t>("spec n_out");
  const std::size_t input_at = r.offset();
  m.input = r.pod<std::uint32_t>("input");
  if (m.input >= m.spec.n_in) {
    r.fail_at("input", input_at, "input partition " + std::to_string(m.input) + " of a shuffle of " +
                                     std::to_string(m.spec.n_in) + " inputs");
  }
  const std::size_t count_at = r.offset();
  const auto n = r.count("count", piece_head_bytes);
  if (n > m.spec.n_out) {
    r.fail_at("count", count_at, std::to_string(n) + " pieces for a shuffle of " +
                                     std::to_string(m.spec.n_out) + " outputs");
  }
  m.pieces.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    auto& p = m.pieces[k];
    r.at_item("piece", k);
    const std::size_t output_at = r.offset();
    p.output = r.pod<std::uint32_t>("output");
    if (p.output >= m.spec.n_out) {
      r.fail_at("output", output_at, "output partition " + std::to_string(p.output) + " of a shuffle of " +
                                         std::to_string(m.spec.n_out) + " outputs");
    }
    p.separate = r.flag("separate");
    const std::size_t size_at = r.offset();
    p.size = r.pod<std::uint64_t>("size");
    if (p.separate) continue;
    if (p.size > r.remaining()) {
      r.fail_at("size", size_at, "inline piece of " + std::to_string(p.size) + " bytes exceeds the " +
                                     std::to_string(r.remaining()) + " bytes left");
    }
    p.bytes = r.take("bytes", static_cast<std::size_t>(p.size));
  }
  r.finish();
  return m;
}

// ---- ack -------------------------------------------------------------------------------------

Bytes ShuffleAck::encode() const {
  WireWriter w(kind);
  w.pod(token);
  w.flag(ok);
  if (!ok) w.string("error", error);
  return std::move(w).take();
}

ShuffleAck ShuffleAck::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  ShuffleAck a;
  a.token = r.pod<std::uint64_t>("token");
  a.ok = r.flag("ok");
  if (!a.ok) a.error = r.string("error");
  r.finish();
  return a;
}

// ---- drop and stats --------------------------------------------------------------------------

ShuffleDrop ShuffleDrop::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  r.finish();
  return {};
}

ShuffleStatsRequest ShuffleStatsRequest::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  r.finish();
  return {};
}

Bytes ShuffleStatsReply::encode() const {
  WireWriter w(kind);
  w.pod(stats.pieces_put);
  w.pod(stats.bytes_put);
  w.pod(stats.pieces_collected);
  w.pod(stats.bytes_collected);
  w.pod(stats.pieces_read_back);
  w.pod(stats.bytes_read_back);
  w.pod(stats.pieces_held);
  w.pod(stats.bytes_sent);
  w.pod(stats.bytes_received);
  return std::move(w).take();
}

ShuffleStatsReply ShuffleStatsReply::decode(std::span<const std::byte> bytes) {
  WireReader r(kind, bytes);
  ShuffleStatsReply m;
  auto& s = m.stats;
  s.pieces_put = r.pod<std::uint64_t>("pieces_put");
  s.bytes_put = r.pod<std::uint64_t>("bytes_put");
  s.pieces_collected = r.pod<std::uint64_t>("pieces_collected");
  s.bytes_collected = r.pod<std::uint64_t>("bytes_collected");
  s.pieces_read_back = r.pod<std::uint64_t>("pieces_read_back");
  s.bytes_read_back = r.pod<std::uint64_t>("bytes_read_back");
  s.pieces_held = r.pod<std::uint64_t>("pieces_held");
  s.bytes_sent = r.pod<std::uint64_t>("bytes_sent");
  s.bytes_received = r.pod<std::uint64_t>("bytes_received");
  r.finish();
  return m;
}

bool operator==(const ShuffleStatsReply& a, const ShuffleStatsReply& b) {
  const auto& x = a.stats;
  const auto& y = b.stats;
  return x.pieces_put == y.pieces_put && x.bytes_put == y.bytes_put && x.pieces_collected == y.pieces_collected &&
         x.bytes_collected == y.bytes_collected && x.pieces_read_back == y.pieces_read_back &&
         x.bytes_read_back == y.bytes_read_back && x.pieces_held == y.pieces_held &&
         x.bytes_sent == y.bytes_sent && x.bytes_received == y.bytes_received;
}

}  // namespace tessera::detail::mpi
