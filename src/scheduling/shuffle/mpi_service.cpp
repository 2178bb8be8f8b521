#include "scheduling/shuffle/mpi_service.hpp"

#include <tessera/core/buffer_pool.hpp>
#include <tessera/core/error.hpp>
#include <tessera/graph/task.hpp>

#include <chrono>
#include <cstdio>
#include <deque>

namespace tessera::detail::mpi {

namespace {

/// Pieces from this size up travel as body messages of their own (received without a copy).
constexpr std::size_t separate_body_bytes = std::size_t{64} << 10;

/// How long a transfer waits for an owner's acknowledgement before it gives up.
constexpr auto ack_timeout = std::chrono::minutes(10);

}  // namespace

MpiShuffleService::MpiShuffleService(Messenger& messenger, DataPlane& data, Failure on_failure)
    : m_messenger(messenger), m_data(data), m_on_failure(std::move(on_failure)) {}

template <class H>
void MpiShuffleService::handle(Messenger& messenger, const std::shared_ptr<MpiShuffleService>& service, int tag,
                               H handler) {
  std::weak_ptr<MpiShuffleService> weak = service;
  messenger.on(tag, [weak, handler = std::move(handler)](int source, std::vector<std::byte>&& b) {
    auto s = weak.lock();
    if (!s) return;
    try {
      handler(*s, source, std::move(b));
    } catch (const ProtocolError& e) {
      if (s->m_on_failure) {
        s->m_on_failure(std::make_exception_ptr(e.from_rank(source)));
      } else {
        throw e.from_rank(source);
      }
    }
  });
}

std::shared_ptr<MpiShuffleService> MpiShuffleService::create(Messenger& messenger, DataPlane& data,
                                                             Failure on_failure) {
  auto service = std::make_shared<MpiShuffleService>(messenger, data, std::move(on_failure));
  handle(messenger, service, tag_shuffle_put,
         [](MpiShuffleService& s, int source, std::vector<std::byte>&& b) { s.on_put(source, std::move(b)); });
  handle(messenger, service, tag_shuffle_body,
         [](MpiShuffleService& s, int source, std::vector<std::byte>&& b) { s.on_body(source, std::move(b)); });
  handle(messenger, service, tag_shuffle_ack,
         [](MpiShuffleService& s, int, std::vector<std::byte>&& b) { s.on_ack(std::move(b)); });
  handle(messenger, service, tag_shuffle_drop, [](MpiShuffleService& s, int source, std::vector<std::byte>&& b) {
    (void)ShuffleDrop::decode(b);
    s.on_stats_request(source, tag_shuffle_dropped, true);
  });
  handle(messenger, service, tag_shuffle_stats, [](MpiShuffleService& s, int source, std::vector<std::byte>&& b) {
    (void)ShuffleStatsRequest::decode(b);
    s.on_stats_request(source, tag_shuffle_stats_reply, false);
  });
  return service;
}

void MpiShuffleService::on_stats_request(int source, int reply_tag, bool drop) {
  if (drop) drop_all();
  m_messenger.send(source, reply_tag, ShuffleStatsReply{stats()}.encode());
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
  // side). The put's frames (its head, each piece's head) are written into one buffer and
  // sent between the pieces' bytes; the owner takes the bodies from this source in order.
  struct Keep {
    Bytes frames;
    std::vector<Value::Wire> wires;
  };
  auto keep = std::make_shared<Keep>();
  keep->wires.reserve(outputs.size());
  std::size_t total = 0;
  ShufflePut msg{token, spec, input, {}};
  msg.pieces.resize(outputs.size());  // the count; encode_head() writes nothing else of them
  WireWriter w(ShufflePut::kind);
  w.reserve(ShufflePut::head_bytes + outputs.size() * ShufflePut::piece_head_bytes);
  msg.encode_head(w);
  for (auto j : outputs) {
    const auto& wire = keep->wires.emplace_back(pieces[j].wire());
    ShufflePut::encode_piece_head(w, j, wire.size >= separate_body_bytes, wire.size);
    total += wire.size;
  }
  keep->frames = std::move(w).take();
  const std::span<const std::byte> frames(keep->frames);
  std::vector<std::span<const std::byte>> spans{frames.first(ShufflePut::head_bytes)};
  std::vector<std::size_t> big;  // indexes into keep->wires
  std::size_t size = ShufflePut::head_bytes;
  for (std::size_t k = 0; k < keep->wires.size(); ++k) {
    const auto& wire = keep->wires[k];
    spans.push_back(frames.subspan(ShufflePut::head_bytes + k * ShufflePut::piece_head_bytes,
                                   ShufflePut::piece_head_bytes));
    size += ShufflePut::piece_head_bytes;
    if (wire.size >= separate_body_bytes) {
      big.push_back(k);
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
  const auto msg = ShufflePut::decode(bytes);  // a ProtocolError stops the worker (handle())
  Incoming in;
  in.token = msg.token;
  in.spec = msg.spec;
  in.input = msg.input;
  for (const auto& p : msg.pieces) {
    if (p.separate) {
      in.bodies.push_back({p.output, p.size});
      continue;
    }
    if (!in.error.empty()) continue;
    try {
      auto piece = std::make_shared<Bytes>(p.bytes.begin(), p.bytes.end());
      store(msg.spec, p.output, msg.input, Value::serialized(std::move(piece)));
      note_received(p.bytes.size());
    } catch (const std::exception& e) {
      in.error = "rank " + std::to_string(rank()) + ": " + current_exception_type() + ": " + e.what();
    }
  }
  BufferPool::instance().recycle(std::move(bytes));
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
    if (queue.empty()) {
      throw ProtocolError("shuffle_body", "body", "", std::nullopt, 0, bytes.size(),
                          "a piece's body without a put message announcing it");
    }
    in = &queue.front();
  }
  const auto body = in->bodies.front();
  if (bytes.size() != body.size) {
    throw ProtocolError("shuffle_body", "size", "piece", in->next_body, 0, bytes.size(),
                        "the put of input partition " + std::to_string(in->input) + " announced " +
                            std::to_string(body.size) + " bytes for output partition " +
                            std::to_string(body.output));
  }
  in->bodies.pop_front();
  ++in->next_body;
  const auto n = bytes.size();
  // The received buffer becomes the piece; it goes back to the pool when the piece is gone.
  auto piece = std::shared_ptr<Bytes>(new Bytes(std::move(bytes)), [](Bytes* b) {
    BufferPool::instance().recycle(std::move(*b));
    delete b;
  });
  if (in->error.empty()) {
    try {
      store(in->spec, body.output, in->input, Value::serialized(std::move(piece)));
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
  m_messenger.send(source, tag_shuffle_ack, ShuffleAck{in.token, in.error.empty(), in.error}.encode());
}

void MpiShuffleService::on_ack(std::vector<std::byte>&& bytes) {
  auto ack = ShuffleAck::decode(bytes);
  std::lock_guard lock(m_mutex);
  auto it = m_pending.find(ack.token);
  if (it == m_pending.end()) return;  // the transfer gave up waiting
  if (!ack.ok && it->second.error.empty()) {
    it->second.error = ack.error.empty() ? std::string("the owner gave no reason") : std::move(ack.error);
  }
  --it->second.remaining;
  m_acked.notify_all();
}

ResultStore::Taken MpiShuffleService::take(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) {
  m_failed.check(spec, name, output);
  std::vector<DataId> ids;
  ids.reserve(spec.n_in);
  std::uint64_t read_back = 0;
  std::vector<std::size_t> spilled;  // indexes of the pieces read back
  for (std::uint32_t i = 0; i < spec.n_in; ++i) {
    const auto id = spec.piece_id(output, i);
    if (!m_data.has(id)) {
      TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": the piece of input partition ", i,
                    " for output partition ", output, " of ", spec.n_out, " is not stored on rank ", rank(),
                    " (its owner is rank ", owner_of(output), ")");
    }
    if (m_data.is_spilled(id)) {
      ++read_back;
      spilled.push_back(ids.size());
    }
    ids.push_back(id);
  }
  // Out of the store, still counted against the limit: the unpack task holds them now.
  auto taken = m_data.store().take(ids);
  std::uint64_t bytes = 0, bytes_read_back = 0;
  for (const auto& v : taken.values) bytes += v.nbytes();
  for (auto k : spilled) bytes_read_back += taken.values[k].nbytes();
  std::lock_guard lock(m_mutex);
  m_stats.pieces_collected += taken.values.size();
  m_stats.bytes_collected += bytes;
  m_stats.pieces_read_back += read_back;
  m_stats.bytes_read_back += bytes_read_back;
  m_stats.pieces_held -= std::min<std::uint64_t>(m_stats.pieces_held, taken.values.size());
  return taken;
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

/// Sends `ask` to every worker and waits for one `answer` (a ShuffleStatsReply) from each;
/// calls on_answer(source, stats). Throws: TransportError (ProtocolError: a reply that does
/// not decode, naming its rank) or one that does not come within 2 minutes.
template <class F>
void ask_workers(Messenger& m, int ask, int answer, F&& on_answer) {
  for (int r = 1; r < m.size(); ++r) m.send(r, ask, Bytes{});
  for (int got = 1; got < m.size(); ++got) {
    auto msg = m.receive_for(answer, std::chrono::minutes(2));
    if (!msg) TESSERA_THROW(TransportError, "a worker did not answer the shuffle service within 2 minutes");
    try {
      on_answer(msg->source, ShuffleStatsReply::decode(msg->bytes).stats);
    } catch (const ProtocolError& e) {
      throw e.from_rank(msg->source);
    }
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
    ask_workers(*g_driver, tag_shuffle_stats, tag_shuffle_stats_reply, [&](int, const ShuffleService::Stats& s) {
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
    ask_workers(*g_driver, tag_shuffle_drop, tag_shuffle_dropped, [&](int source, const ShuffleService::Stats& now) {
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
