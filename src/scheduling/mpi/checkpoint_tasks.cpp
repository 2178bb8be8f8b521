#include "scheduling/mpi/checkpoint_tasks.hpp"

#include <tessera/graph/task.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

namespace tessera::detail::mpi {

namespace {

void write_string(ByteWriter& w, const std::string& s) {
  w.pod(static_cast<std::uint64_t>(s.size()));
  w.write(s.data(), s.size());
}

std::string read_string(ByteReader& r) {
  const auto n = r.pod<std::uint64_t>();
  const auto bytes = r.take(static_cast<std::size_t>(n));
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void write_target(ByteWriter& w, const ShardTarget& t) {
  write_string(w, t.path);
  write_string(w, t.prefix);
  w.pod(t.run);
  w.pod(t.fingerprint);
}

ShardTarget read_target(ByteReader& r) {
  ShardTarget t;
  t.path = read_string(r);
  t.prefix = read_string(r);
  t.run = r.pod<std::uint32_t>();
  t.fingerprint = r.pod<std::uint64_t>();
  return t;
}

/// This process's open shards, by checkpoint path and prefix (a worker has one per job).
struct Shards {
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Checkpoint>> open;
};

Shards& shards() {
  static Shards s;
  return s;
}

/// The shard of `t`, opened on first use. Throws: StorageError (no checkpoint directory here).
std::shared_ptr<Checkpoint> shard_of(const ShardTarget& t) {
  auto& s = shards();
  std::lock_guard lock(s.mutex);
  auto& ck = s.open[{t.path, t.prefix}];
  if (!ck) ck = Checkpoint::open_shard(t.path, t.prefix, Checkpoint::Options{});
  return ck;
}

// The state is aligned before the wrapped task's own, so offsets the task's codecs align to
// are where they were when it was encoded.
constexpr std::size_t state_alignment = 64;

/// Runs the wrapped task, then records its result in the worker's shard.
Value record_entry(ByteReader& state, std::span<const Value> inputs) {
  const ShardTarget target = read_target(state);
  const std::string key = read_string(state);
  CodeRef inner;
  inner.module = state.pod<std::uint64_t>();
  inner.offset = state.pod<std::uint64_t>();
  const auto size = state.pod<std::uint64_t>();
  state.align(state_alignment);
  ByteReader inner_state(state.take(static_cast<std::size_t>(size)));
  const auto entry = reinterpret_cast<RemoteEntry>(const_cast<void*>(resolve_code_ref(inner)));
  Value result = entry(inner_state, inputs);
  const auto ck = shard_of(target);
  ck->declare_run(target.run, target.fingerprint);
  ck->add(target.run, key, result);
  return result;
}

Value load_entry(ByteReader& state, std::span<const Value>) {
  Checkpoint::Entry e;
  e.segment = read_string(state);
  e.offset = state.pod<std::uint64_t>();
  e.size = state.pod<std::uint64_t>();
  return Checkpoint::read(e);
}

Value seal_entry(ByteReader& state, std::span<const Value>) {
  const auto ck = shard_of(read_target(state));
  const auto before = ck->stats().written;
  ck->flush();
  return Value::of<std::uint64_t>(before);
}

CodeRef ref_of(RemoteEntry entry) { return code_ref(reinterpret_cast<const void*>(entry)); }

}  // namespace

void record_result(RunTask& task, const ShardTarget& target) {
  Bytes state;
  ByteWriter w(state);
  write_target(w, target);
  write_string(w, task.key);
  w.pod(task.entry.module);
  w.pod(task.entry.offset);
  w.pod(static_cast<std::uint64_t>(task.state.size()));
  w.align(state_alignment);
  w.write(task.state.data(), task.state.size());
  task.state = std::move(state);
  task.entry = ref_of(&record_entry);
}

RunTask load_task(DataId id, std::string key, const Checkpoint::Entry& entry) {
  RunTask task{id, std::move(key), ref_of(&load_entry), {}, {}};
  ByteWriter w(task.state);
  write_string(w, entry.segment);
  w.pod(entry.offset);
  w.pod(entry.size);
  return task;
}

RunTask seal_task(DataId id, const ShardTarget& target) {
  RunTask task{id, "checkpoint-seal", ref_of(&seal_entry), {}, {}};
  ByteWriter w(task.state);
  write_target(w, target);
  return task;
}

void close_checkpoint_shards() noexcept {
  auto& s = shards();
  std::lock_guard lock(s.mutex);
  s.open.clear();  // ~Checkpoint seals what is batched
}

}  // namespace tessera::detail::mpi
