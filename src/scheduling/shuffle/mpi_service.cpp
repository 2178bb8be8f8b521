#include "scheduling/shuffle/mpi_service.hpp"

#include "scheduling/mpi/protocol.hpp"

#include <tessera/core/error.hpp>
#include <tessera/graph/task.hpp>

#include <chrono>
#include <cstdio>
#include <deque>

namespace {
// A string as its length and bytes (the shuffle's acknowledgements carry an error text).
void put_string(tessera::ByteWriter& w, std::string_view s) {
  w.pod<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
  w.write(s.data(), s.size());
}
std::string get_string(tessera::ByteReader& r) {
  const auto n = r.pod<std::uint32_t>();
  auto b = r.take(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

namespace tessera::detail::mpi {

namespace {

struct PutHeader {
  std::uint64_t token = 0;
  ShuffleSpec spec;
  std::uint32_t input = 0;
  std::uint32_t count = 0;
};
struct PieceHeader {
  std::uint32_t output = 0;
  std::uint32_t separate = 0;  // 1: the bytes follow as a body message of their own
  std::uint64_t size = 0;
};

/// Pieces from this size up travel as body messages of their own (received without a copy).
constexpr std::size_t separate_body_bytes = std::size_t{64} << 10;

template <class T>
void append_pod(Bytes& out, const T& v) {
  ByteWriter w(out);
  w.pod(v);
}

/// How long a transfer waits for an owner's acknowledgement before it gives up.
constexpr auto ack_timeout = std::chrono::minutes(10);

}  // namespace

MpiShuffleService::MpiShuffleService(Messenger& messenger, DataPlane& data)
    : m_messenger(messenger), m_data(data) {}

std::shared_ptr<MpiShuffleService> MpiShuffleService::create(Messenger& messenger, DataPlane& data) {
  auto service = std::make_shared<MpiShuffleService>(messenger, data);
  std::weak_ptr<MpiShuffleService> weak = service;
  messenger.on(tag_shuffle_put, [weak](int source, std::vector<std::byte>&& b) {
    if (auto s = weak.lock()) s->on_put(source, std::move(b));
  });
  messenger.on(tag_shuffle_body, [weak](int source, std::vector<std::byte>&& b) {
    if (auto s = weak.lock()) s->on_body(source, std::move(b));
  });
  messenger.on(tag_shuffle_ack, [weak](int, std::vector<std::byte>&& b) {
    if (auto s = weak.lock()) s->on_ack(std::move(b));
  });
  messenger.on(tag_shuffle_drop, [weak, &messenger](int source, std::vector<std::byte>&&) {
    Stats st;
    if (auto s = weak.lock()) {
      s->drop_all();
      st = s->stats();
    }
    Bytes out;
    append_pod(out, st);
    messenger.send(source, tag_shuffle_dropped, std::move(out));
  });
  messenger.on(tag_shuffle_stats, [weak, &messenger](int source, std::vector<std::byte>&&) {
    Stats st;
    if (auto s = weak.lock()) st = s->stats();
    Bytes out;
    append_pod(out, st);
    messenger.send(source, tag_shuffle_stats_reply, std::move(out));
  });
  return service;
}

int MpiShuffleService::rank() const noexcept { return m_messenger.rank(); }

int MpiShuffleService::owner_of(std::uint32_t output) const noexcept {
  return hinted_worker(shuffle_worker_hint(output), m_messenger.size() - 1);
}

void MpiShuffleService::store(const ShuffleSpec& spec, std::uint32_t output, std::uint32_t input, Value piece) {
  const auto id = spec.piece_id(output, input);
  const auto bytes = piece.nbytes();
  const bool replaced = m_data.has(id);
  {
    std::lock_guard lock(m_mutex);
    m_specs.emplace(spec.id, spec);
  }
  m_data.put(id, std::move(piece));  // may spill (throws StorageError when that fails)
  std::lock_guard lock(m_mutex);
  m_stats.pieces_put += 1;
  m_stats.bytes_put += bytes;
  if (!replaced) m_stats.pieces_held += 1;
}

void MpiShuffleService::send_pieces(int owner, std::uint64_t token, const ShuffleSpec& spec, std::uint32_t input,
                                    const std::vector<std::uint32_t>& outputs, const std::vector<Value>& pieces) {
  // Small pieces travel inside the put message; large ones each as a body message of their
  // own, sent from the piece's memory and kept by the owner as received (no copy on either
  // side). The put message lists them; the owner takes the bodies from this source in order.
  struct Keep {
    std::deque<Bytes> heads;
    std::vector<Value::Wire> wires;
  };
  auto keep = std::make_shared<Keep>();
  keep->wires.reserve(outputs.size());
  std::vector<std::span<const std::byte>> spans;
  std::vector<std::size_t> big;  // indexes into keep->wires
  std::size_t size = 0, total = 0;
  auto head = [&](auto&& fill) {
    Bytes& h = keep->heads.emplace_back();
    fill(h);
    spans.emplace_back(h.data(), h.size());
    size += h.size();
  };
  head([&](Bytes& h) {
    append_pod(h, PutHeader{token, spec, input, static_cast<std::uint32_t>(outputs.size())});
  });
  for (auto j : outputs) {
    const auto& wire = keep->wires.emplace_back(pieces[j].wire());
    const bool inline_piece = wire.size < separate_body_bytes;
    head([&](Bytes& h) { append_pod(h, PieceHeader{j, inline_piece ? 0u : 1u, wire.size}); });
    total += wire.size;
    if (!inline_piece) {
      big.push_back(keep->wires.size() - 1);
      continue;
    }
    for (const auto& p : wire.pieces) {
      if (p.empty()) continue;
      spans.push_back(p);
      size += p.size();
    }
  }
  {
    std::lock_guard lock(m_mutex);
    m_stats.bytes_sent += total;
  }
  // One put's messages must reach the owner back to back: the bodies are matched by order.
  std::lock_guard send_lock(m_send_mutex);
  m_messenger.send(owner, tag_shuffle_put, std::move(spans), std::shared_ptr<const void>(keep), size);
  for (auto k : big) {
    const auto& wire = keep->wires[k];
    std::vector<std::span<const std::byte>> body;
    for (const auto& p : wire.pieces) {
      if (!p.empty()) body.push_back(p);
    }
    m_messenger.send(owner, tag_shuffle_body, std::move(body), std::shared_ptr<const void>(keep), wire.size);
  }
}

void MpiShuffleService::put(const ShuffleSpec& spec, const std::string& name, std::uint32_t input,
                            std::vector<Value> pieces) {
  std::unordered_map<int, std::vector<std::uint32_t>> by_owner;
  for (std::uint32_t j = 0; j < pieces.size(); ++j) by_owner[owner_of(j)].push_back(j);
  const int me = rank();
  std::uint64_t token = 0;
  int remote = 0;
  {
    std::lock_guard lock(m_mutex);
    token = (static_cast<std::uint64_t>(me) << 48) | m_next_token++;
    for (const auto& [owner, outputs] : by_owner) remote += owner != me ? 1 : 0;
    if (remote > 0) m_pending[token].remaining = remote;
  }
  try {
    for (const auto& [owner, outputs] : by_owner) {
      if (owner != me) send_pieces(owner, token, spec, input, outputs, pieces);
    }
    // This worker's own outputs are stored while the others' pieces travel.
    if (auto mine = by_owner.find(me); mine != by_owner.end()) {
      for (auto j : mine->second) store(spec, j, input, std::move(pieces[j]));
    }
  } catch (...) {
    std::lock_guard lock(m_mutex);
    m_pending.erase(token);  // later acknowledgements find nothing and are ignored
    throw;
  }
  if (remote == 0) return;
  std::unique_lock lock(m_mutex);
  const auto deadline = std::chrono::steady_clock::now() + ack_timeout;
  auto& pending = m_pending[token];
  while (pending.remaining > 0) {
    if (m_acked.wait_until(lock, deadline) == std::cv_status::timeout && pending.remaining > 0) {
      m_pending.erase(token);
      TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": the pieces of input partition ", input,
                    " sent from rank ", me, " were not acknowledged by their owners within 10 minutes");
    }
  }
  const std::string error = std::move(pending.error);
  m_pending.erase(token);
  if (!error.empty()) {
    TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": storing the pieces of input partition ", input,
                  " (sent from rank ", me, ") failed: ", error);
  }
}

void MpiShuffleService::on_put(int source, std::vector<std::byte>&& bytes) {
  ByteReader r(bytes);
  const auto h = r.pod<PutHeader>();
  Incoming in;
  in.token = h.token;
  in.spec = h.spec;
  in.input = h.input;
  try {
    for (std::uint32_t k = 0; k < h.count; ++k) {
      const auto ph = r.pod<PieceHeader>();
      if (ph.separate != 0) {
        in.bodies.push_back(ph.output);
        continue;
      }
      auto body = r.take(ph.size);
      auto piece = std::make_shared<Bytes>(body.begin(), body.end());
      store(h.spec, ph.output, h.input, Value::serialized(std::move(piece)));
      note_received(body.size());
    }
  } catch (const std::exception& e) {
    in.error = "rank " + std::to_string(rank()) + ": " + current_exception_type() + ": " + e.what();
  }
  recycle_byte_buffer(std::move(bytes));
  if (in.bodies.empty()) {
    acknowledge(source, in);
    return;
  }
  std::lock_guard lock(m_mutex);
  m_incoming[source].push_back(std::move(in));
}

void MpiShuffleService::on_body(int source, std::vector<std::byte>&& bytes) {
  Incoming* in = nullptr;
  {
    std::lock_guard lock(m_mutex);
    auto& queue = m_incoming[source];
    if (queue.empty()) return;  // cannot happen: a body follows its put message
    in = &queue.front();
  }
  const auto output = in->bodies.front();
  in->bodies.erase(in->bodies.begin());
  const auto n = bytes.size();
  // The received buffer becomes the piece; it goes back to the pool when the piece is gone.
  auto piece = std::shared_ptr<Bytes>(new Bytes(std::move(bytes)), [](Bytes* b) {
    recycle_byte_buffer(std::move(*b));
    delete b;
  });
  if (in->error.empty()) {
    try {
      store(in->spec, output, in->input, Value::serialized(std::move(piece)));
    } catch (const std::exception& e) {
      in->error = "rank " + std::to_string(rank()) + ": " + current_exception_type() + ": " + e.what();
    }
  }
  note_received(n);
  if (!in->bodies.empty()) return;
  Incoming done;
  {
    std::lock_guard lock(m_mutex);
    auto& queue = m_incoming[source];
    done = std::move(queue.front());
    queue.pop_front();
  }
  acknowledge(source, done);
}

void MpiShuffleService::note_received(std::size_t n) {
  std::lock_guard lock(m_mutex);
  m_stats.bytes_received += n;
}

void MpiShuffleService::acknowledge(int source, const Incoming& in) {
  Bytes ack;
  ByteWriter w(ack);
  w.pod<std::uint64_t>(in.token);
  w.pod<std::uint8_t>(in.error.empty() ? 1 : 0);
  put_string(w, in.error);
  m_messenger.send(source, tag_shuffle_ack, std::move(ack));
}

void MpiShuffleService::on_ack(std::vector<std::byte>&& bytes) {
  ByteReader r(bytes);
  const auto token = r.pod<std::uint64_t>();
  const bool ok = r.pod<std::uint8_t>() != 0;
  std::string error = get_string(r);
  std::lock_guard lock(m_mutex);
  auto it = m_pending.find(token);
  if (it == m_pending.end()) return;  // the transfer gave up waiting
  if (!ok && it->second.error.empty()) it->second.error = std::move(error);
  --it->second.remaining;
  m_acked.notify_all();
}

std::vector<Value> MpiShuffleService::take(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) {
  m_failed.check(spec, name, output);
  std::vector<Value> out;
  out.reserve(spec.n_in);
  std::vector<DataId> ids;
  ids.reserve(spec.n_in);
  std::uint64_t read_back = 0, bytes = 0, bytes_read_back = 0;
  std::vector<std::size_t> spilled;  // indexes in `out` of pieces read back
  for (std::uint32_t i = 0; i < spec.n_in; ++i) {
    const auto id = spec.piece_id(output, i);
    if (m_data.is_spilled(id)) {
      ++read_back;
      spilled.push_back(out.size());
    }
    Value v = m_data.get(id);
    if (v.empty()) {
      TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": the piece of input partition ", i,
                    " for output partition ", output, " of ", spec.n_out, " is not stored on rank ", rank(),
                    " (its owner is rank ", owner_of(output), ")");
    }
    bytes += v.nbytes();
    out.push_back(std::move(v));
    ids.push_back(id);
  }
  for (auto k : spilled) bytes_read_back += out[k].nbytes();
  m_data.erase(ids);
  std::lock_guard lock(m_mutex);
  m_stats.pieces_collected += out.size();
  m_stats.bytes_collected += bytes;
  m_stats.pieces_read_back += read_back;
  m_stats.bytes_read_back += bytes_read_back;
  m_stats.pieces_held -= std::min<std::uint64_t>(m_stats.pieces_held, out.size());
  return out;
}

void MpiShuffleService::note_failed_output(const ShuffleSpec& spec, std::uint32_t output,
                                           std::string error) noexcept {
  m_failed.note(spec, output, std::move(error));
}

void MpiShuffleService::drop(std::uint64_t id) noexcept {
  m_failed.forget(id);
  ShuffleSpec spec;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_specs.find(id);
    if (it == m_specs.end()) return;
    spec = it->second;
    m_specs.erase(it);
  }
  std::vector<DataId> ids;
  for (std::uint32_t j = 0; j < spec.n_out; ++j) {
    if (owner_of(j) != rank()) continue;
    for (std::uint32_t i = 0; i < spec.n_in; ++i) {
      if (m_data.has(spec.piece_id(j, i))) ids.push_back(spec.piece_id(j, i));
    }
  }
  m_data.erase(ids);
  std::lock_guard lock(m_mutex);
  m_stats.pieces_held -= std::min<std::uint64_t>(m_stats.pieces_held, ids.size());
}

void MpiShuffleService::drop_all() noexcept {
  std::vector<std::uint64_t> ids;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, spec] : m_specs) ids.push_back(id);
  }
  for (auto id : ids) drop(id);
}

ShuffleService::Stats MpiShuffleService::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

namespace {

std::mutex g_driver_mutex;
Messenger* g_driver = nullptr;

std::unordered_map<int, ShuffleService::Stats> g_reported;  // by worker: stats at the last run's end

/// Sends `ask` to every worker and waits for one `answer` from each; calls on_answer(source, bytes).
template <class F>
void ask_workers(Messenger& m, int ask, int answer, F&& on_answer) {
  for (int r = 1; r < m.size(); ++r) m.send(r, ask, std::vector<std::byte>{});
  for (int got = 1; got < m.size(); ++got) {
    auto msg = m.receive_for(answer, std::chrono::minutes(2));
    if (!msg) TESSERA_THROW(TransportError, "a worker did not answer the shuffle service within 2 minutes");
    on_answer(msg->source, msg->bytes);
  }
}

}  // namespace

void attach_shuffle_driver(Messenger* messenger) {
  {
    std::lock_guard lock(g_driver_mutex);
    g_driver = messenger;
  }
  if (messenger == nullptr) {
    set_worker_shuffle_stats(nullptr);
    return;
  }
  set_worker_shuffle_stats([] {
    std::lock_guard lock(g_driver_mutex);
    ShuffleService::Stats total;
    if (g_driver == nullptr) return total;
    ask_workers(*g_driver, tag_shuffle_stats, tag_shuffle_stats_reply, [&](int, const std::vector<std::byte>& b) {
      ByteReader r(b);
      const auto s = r.pod<ShuffleService::Stats>();
      total.pieces_put += s.pieces_put;
      total.bytes_put += s.bytes_put;
      total.pieces_collected += s.pieces_collected;
      total.bytes_collected += s.bytes_collected;
      total.pieces_read_back += s.pieces_read_back;
      total.bytes_read_back += s.bytes_read_back;
      total.pieces_held += s.pieces_held;
      total.bytes_sent += s.bytes_sent;
      total.bytes_received += s.bytes_received;
    });
    return total;
  });
}

void end_mpi_shuffle_run(const RunContext& ctx) noexcept {
  if (shuffles_built() == 0) return;
  std::lock_guard lock(g_driver_mutex);
  if (g_driver == nullptr) return;
  try {
    ask_workers(*g_driver, tag_shuffle_drop, tag_shuffle_dropped, [&](int source, const std::vector<std::byte>& b) {
      ByteReader r(b);
      const auto now = r.pod<ShuffleService::Stats>();
      auto& before = g_reported[source];
      const auto t = shuffle_traffic(source, before, now);
      before = now;
      if (ctx.observed() && t.pieces_stored + t.bytes_sent + t.bytes_read_back > 0) ctx.shuffle(t);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: rank 0: dropping the shuffle pieces after the run: %s\n", e.what());
  }
}

}  // namespace tessera::detail::mpi
