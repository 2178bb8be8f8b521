#include "scheduling/mpi/protocol_tasks.hpp"

namespace tessera::detail::mpi {

namespace {
// Smallest encodings, which bound the counts a decoder accepts.
constexpr std::size_t min_task_bytes = 8 + 4 + 16 + 4 + 4;  // id, key, entry, state, inputs
constexpr std::size_t input_bytes = 8 + 4;
constexpr std::size_t min_completion_bytes = 8 + 1 + 8 + 8 + 8 + 4;
constexpr std::size_t event_bytes = 8 + 4 + 4 + 8 + 8 + 8 + 1;

std::int32_t read_rank(WireReader& r, const char* field, int ranks) {
  const std::size_t at = r.offset();
  const auto v = r.pod<std::int32_t>(field);
  if (v < 0 || v >= ranks) {
    r.fail_at(field, at, "rank " + std::to_string(v) + " is not one of 0.." + std::to_string(ranks - 1));
  }
  return v;
}
}  // namespace

// ---- run -------------------------------------------------------------------------------------

Bytes RunBatch::encode() const {
  WireWriter w(kind);
  std::size_t size = 4;
  for (const auto& t : tasks) size += min_task_bytes + t.key.size() + t.state.size() + t.inputs.size() * input_bytes;
  w.reserve(size);
  w.count("count", tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto& t = tasks[i];
    w.at_item("task", i);
    w.pod(t.id);
    w.string("key", t.key);
    w.pod(t.entry.module);
    w.pod(t.entry.offset);
    w.blob("state", t.state);
    w.count("inputs", t.inputs.size());
    for (const auto& in : t.inputs) {
      w.pod(in.id);
      w.pod(in.holder);
    }
  }
  return std::move(w).take();
}

RunBatch RunBatch::decode(std::span<const std::byte> bytes, int ranks) {
  WireReader r(kind, bytes);
  RunBatch b;
  b.tasks.resize(r.count("count", min_task_bytes));
  for (std::size_t i = 0; i < b.tasks.size(); ++i) {
    auto& t = b.tasks[i];
    r.at_item("task", i);
    t.id = r.pod<DataId>("id");
    t.key = r.string("key");
    t.entry.module = r.pod<std::uint64_t>("entry module");
    t.entry.offset = r.pod<std::uint64_t>("entry offset");
    const auto state = r.blob("state");
    t.state.assign(state.begin(), state.end());
    t.inputs.resize(r.count("inputs", input_bytes));
    for (auto& in : t.inputs) {
      in.id = r.pod<DataId>("input id");
      in.holder = read_rank(r, "input holder", ranks);
    }
  }
  r.finish();
  return b;
}

// ---- done ------------------------------------------------------------------------------------

Bytes DoneBatch::encode() const {
  WireWriter w(kind);
  std::size_t size = 1 + 4 + 4 + events.size() * event_bytes;
  for (const auto& c : completions) size += min_completion_bytes + (c.ok ? 0 : 8 + c.type.size() + c.message.size());
  w.reserve(size);
  w.flag(paused);
  w.count("count", completions.size());
  for (std::size_t i = 0; i < completions.size(); ++i) {
    const auto& c = completions[i];
    w.at_item("completion", i);
    w.pod(c.id);
    w.flag(c.ok);
    w.pod(c.nbytes);
    w.pod(c.start);
    w.pod(c.stop);
    w.pod(c.thread);
    if (!c.ok) {
      w.string("type", c.type);
      w.string("message", c.message);
    }
  }
  w.count("events", events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    w.at_item("event", i);
    w.pod(e.id);
    w.pod(e.from);
    w.pod(e.to);
    w.pod(e.bytes);
    w.pod(e.start);
    w.pod(e.stop);
    w.enumerator(e.kind);
  }
  return std::move(w).take();
}

DoneBatch DoneBatch::decode(std::span<const std::byte> bytes, int ranks) {
  WireReader r(kind, bytes);
  DoneBatch b;
  b.paused = r.flag("paused");
  b.completions.resize(r.count("count", min_completion_bytes));
  for (std::size_t i = 0; i < b.completions.size(); ++i) {
    auto& c = b.completions[i];
    r.at_item("completion", i);
    c.id = r.pod<DataId>("id");
    c.ok = r.flag("ok");
    c.nbytes = r.pod<std::uint64_t>("nbytes");
    c.start = r.pod<double>("start");
    c.stop = r.pod<double>("stop");
    const std::size_t at = r.offset();
    c.thread = r.pod<std::int32_t>("thread");
    if (c.thread < 0) r.fail_at("thread", at, "thread index " + std::to_string(c.thread) + " is negative");
    if (!c.ok) {
      c.type = r.string("type");
      c.message = r.string("message");
    }
  }
  r.no_item();
  b.events.resize(r.count("events", event_bytes));
  for (std::size_t i = 0; i < b.events.size(); ++i) {
    auto& e = b.events[i];
    r.at_item("event", i);
    e.id = r.pod<DataId>("id");
    e.from = read_rank(r, "from", ranks);
    e.to = read_rank(r, "to", ranks);
    e.bytes = r.pod<std::uint64_t>("bytes");
    e.start = r.pod<double>("start");
    e.stop = r.pod<double>("stop");
    e.kind = r.enumerator("kind", TransferEvent::unspill);
  }
  r.finish();
  return b;
}

}  // namespace tessera::detail::mpi
