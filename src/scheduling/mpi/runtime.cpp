// The distributed runtime: rank 0's scheduler (MpiScheduler), the Runtime object every rank
// builds, and run_distributed.
#include <tessera/scheduling/mpi.hpp>

#include "scheduling/mpi/data_plane.hpp"
#include "scheduling/mpi/placement.hpp"
#include "scheduling/mpi/protocol_control.hpp"
#include "scheduling/mpi/protocol_data.hpp"
#include "scheduling/mpi/protocol_tasks.hpp"
#include "scheduling/mpi/worker.hpp"

#include <tessera/core/config.hpp>
#include <tessera/scheduling/threads.hpp>
#include <tessera/storage/memory_limit.hpp>
#include <tessera/storage/process_memory.hpp>
#include <tessera/storage/spill_dir.hpp>
#include <tessera/transport/environment.hpp>
#include <tessera/transport/messenger.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <queue>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace tessera {

using detail::mpi::DataId;
namespace proto = detail::mpi;

namespace {
Runtime* g_current = nullptr;

/// Decodes message M from `source`; a ProtocolError names the source.
template <class M, class... Context>
M decode_from(int source, const std::vector<std::byte>& bytes, Context... context) {
  try {
    return M::decode(bytes, context...);
  } catch (const proto::ProtocolError& e) {
    throw e.from_rank(source);
  }
}

/// Fills the entry point and state of `node`'s task for a run message.
/// Throws: SerializationError when its callable or arguments cannot be sent.
void encode_body(const detail::TaskNode& node, proto::RunTask& task) {
  task.entry = code_ref(reinterpret_cast<const void*>(node.body->remote_entry()));
  ByteWriter w(task.state);
  node.body->encode_state(w);
  if (task.state.size() > std::numeric_limits<std::uint32_t>::max()) {
    TESSERA_THROW(SerializationError, "its callable and arguments take ", task.state.size(),
                  " bytes, more than a run message carries (4 GiB)");
  }
}
}  // namespace

/// State shared by the Runtime and the objects that outlive a compute (persisted results).
class Runtime::Impl : public std::enable_shared_from_this<Runtime::Impl> {
public:
  Impl(std::unique_ptr<Environment> env, RuntimeOptions options);
  ~Impl();

  std::unique_ptr<Environment> env;
  RuntimeOptions options;
  int rank = 0, size = 1;
  int retries = 0;
  std::unique_ptr<Messenger> messenger;
  // rank 0
  std::unique_ptr<proto::DataPlane> data;
  std::mutex arrival_mutex;
  std::condition_variable arrival_cv;
  std::unordered_map<DataId, bool> arrived;  // id -> ok
  // A worker's message that rank 0 could not decode (guarded by arrival_mutex): the exchange
  // cannot go on, so every later wait for a worker throws it.
  std::exception_ptr protocol_failure;
  void check_protocol_failure() {
    std::lock_guard lock(arrival_mutex);
    if (protocol_failure) std::rethrow_exception(protocol_failure);
  }
  std::vector<unsigned> worker_threads;      // per rank (index 0 unused)
  DataId next_id = 1;
  std::mutex compute_mutex;  // one compute at a time
  std::shared_ptr<Scheduler> scheduler;
  bool shut_down = false;
  std::uint64_t ready_rss = 0;  // rank 0's RSS once the runtime was up
  // rank 0: the job's spill root (removes the spill directories of ranks that died)
  std::unique_ptr<JobSpillRoot> job_root;
  void remove_job_spill_dirs() noexcept {
    if (job_root) (void)job_root->sweep();
  }
  // workers
  std::unique_ptr<proto::Worker> worker;
  std::atomic<bool> served{false};  // serve() returned: rank 0 said goodbye

  /// Rank 0 talks to the workers only while a computation, gather or stats call runs; between
  /// them the driver may compute itself, so the comm thread polls slowly (Messenger::set_busy).
  /// Active marks such a call for its lifetime.
  class Active {
  public:
    explicit Active(Impl& rt) : m_rt(rt) { m_rt.note_active(+1); }
    ~Active() { m_rt.note_active(-1); }
    Active(const Active&) = delete;
    Active& operator=(const Active&) = delete;

  private:
    Impl& m_rt;
  };
  void note_active(int delta) {
    if (!messenger) return;
    std::lock_guard lock(active_mutex);
    active += delta;
    messenger->set_busy(active == 0);
  }
  std::mutex active_mutex;
  int active = 0;

  void send_release(int dest, std::vector<DataId> ids) {
    messenger->send(dest, proto::tag_release, proto::ReleaseRequest{std::move(ids)}.encode());
  }

  /// Brings results to rank 0. Blocks. Throws: TransportError when one cannot be had.
  std::vector<Value> gather(const std::vector<std::pair<DataId, int>>& wanted);
};

namespace {

/// A persisted result that stays on the worker that computed it.
class MpiResultRef final : public detail::ResultRef {
public:
  MpiResultRef(std::weak_ptr<Runtime::Impl> rt, DataId id, int rank, std::uint64_t nbytes)
      : m_rt(std::move(rt)), m_id(id), m_rank(rank), m_nbytes(nbytes) {}
  ~MpiResultRef() override {
    // The last handle is gone: free the result on its worker.
    if (auto rt = m_rt.lock(); rt && !rt->shut_down && rt->messenger) {
      try {
        if (m_rank == 0) rt->data->erase(m_id);
        else rt->send_release(m_rank, {m_id});
      } catch (...) {
      }
    }
  }
  [[nodiscard]] Value fetch() const override {
    auto rt = m_rt.lock();
    if (!rt) TESSERA_THROW(TransportError, "a persisted result outlived its tessera::Runtime");
    return rt->gather({{m_id, m_rank}}).front();
  }
  [[nodiscard]] const void* owner() const noexcept override { return m_rt.lock().get(); }
  DataId id() const noexcept { return m_id; }
  int rank() const noexcept { return m_rank; }
  std::uint64_t nbytes() const noexcept { return m_nbytes; }

private:
  std::weak_ptr<Runtime::Impl> m_rt;
  DataId m_id;
  int m_rank;
  std::uint64_t m_nbytes;
};

/// Rank 0's scheduler: places ready tasks on workers (inputs' location first, then load),
/// ships them in batches, tracks who holds what, frees results nobody needs, and gathers the
/// requested outputs.
class MpiScheduler final : public Scheduler {
public:
  explicit MpiScheduler(std::shared_ptr<Runtime::Impl> rt) : m_rt(std::move(rt)) {}
  [[nodiscard]] std::string name() const override { return "mpi"; }

  std::vector<Value> run(const ExecGraph& g, RunContext& ctx) override {
    const Runtime::Impl::Active active_call(*m_rt);
    auto outcome = execute(g, ctx, false);
    std::vector<std::pair<DataId, int>> wanted;
    for (auto o : g.outputs) {
      if (!outcome.errors.empty() && outcome.errors[o]) continue;
      wanted.emplace_back(outcome.ids[o], outcome.holders[o].front());
    }
    std::vector<Value> gathered;
    try {
      gathered = m_rt->gather(wanted);
    } catch (...) {
      release_all(outcome, g);
      throw;
    }
    release_all(outcome, g);
    std::vector<Value> values;
    std::size_t next = 0;
    for (auto o : g.outputs) {
      if (!outcome.errors.empty() && outcome.errors[o]) values.emplace_back();
      else values.push_back(gathered[next++]);
    }
    return values;
  }

  std::vector<detail::NodePtr> persist(const ExecGraph& g, RunContext& ctx) override {
    const Runtime::Impl::Active active_call(*m_rt);
    auto outcome = execute(g, ctx, true);
    std::vector<detail::NodePtr> out;
    for (auto o : g.outputs) {
      if (!outcome.errors.empty() && outcome.errors[o]) {
        out.emplace_back();  // failed (keep_going): the error is in ctx.output_errors
        continue;
      }
      // Made when the output finished (and handed to ctx.on_output), or now.
      if (!outcome.kept[o]) outcome.kept[o] = kept_node(outcome, g, o);
      out.push_back(outcome.kept[o]);
    }
    // Copies on other ranks are not needed: keep only the first holder's (the owner's).
    for (std::uint32_t i = 0; i < g.size(); ++i) {
      if (outcome.kept[i] && !outcome.borrowed[i]) outcome.holders[i].erase(outcome.holders[i].begin());
    }
    release_all(outcome, g);
    return out;
  }

private:
  struct Outcome {
    std::vector<DataId> ids;
    std::vector<std::vector<int>> holders;
    std::vector<std::uint64_t> nbytes;
    std::vector<bool> borrowed;  // result owned by an earlier persist: never released here
    std::vector<bool> released;
    std::vector<std::exception_ptr> errors;  // per node, keep_going only
    std::vector<detail::NodePtr> kept;       // persist: the node returned for an output
  };

  /// The node persist() returns for output i: a reference to the result on its first holder.
  detail::NodePtr kept_node(const Outcome& oc, const ExecGraph& g, std::uint32_t i) const {
    const auto* src = g.nodes[i];
    auto node = std::make_shared<detail::TaskNode>();
    node->key = src->key;
    node->hash = src->hash;
    node->name_length = src->name_length;
    if (oc.borrowed[i]) node->ref = src->ref;  // already persisted before this run
    else node->ref = std::make_shared<MpiResultRef>(m_rt, oc.ids[i], oc.holders[i].front(), oc.nbytes[i]);
    return node;
  }

  /// Queues result i for release on every rank holding it, except its owner (holders[0]) if it
  /// is borrowed (persisted before this run): only the copies workers fetched go.
  static void release(Outcome& oc, std::uint32_t i, std::unordered_map<int, std::vector<DataId>>& batches) {
    const std::size_t first = oc.borrowed[i] ? 1 : 0;
    auto& hs = oc.holders[i];
    for (std::size_t h = first; h < hs.size(); ++h) batches[hs[h]].push_back(oc.ids[i]);
    hs.resize(std::min(first, hs.size()));
    oc.released[i] = true;
  }

  void release_all(Outcome& oc, const ExecGraph& g) {
    std::unordered_map<int, std::vector<DataId>> batches;
    for (std::uint32_t i = 0; i < g.size(); ++i) {
      if (!oc.released[i]) release(oc, i, batches);
    }
    for (auto& [r, ids] : batches) {
      if (r == 0) m_rt->data->erase(ids);
      else m_rt->send_release(r, std::move(ids));
    }
  }

  /// `persisting`: outputs are kept, and each is reported to ctx.on_output when it is final.
  Outcome execute(const ExecGraph& g, RunContext& ctx, bool persisting) {
    if (const auto& ck = detail::runtime_config().checkpoint) {  // never silently ignored
      TESSERA_THROW(ConfigError, "TESSERA_CHECKPOINT='", *ck, "' is not supported by the MPI scheduler yet; "
                    "checkpoints work on the sync and threads schedulers");
    }
    std::lock_guard one_at_a_time(m_rt->compute_mutex);
    auto& rt = *m_rt;
    const auto n = static_cast<std::uint32_t>(g.size());
    const int workers = rt.size - 1;
    Outcome oc;
    oc.ids.resize(n);
    oc.holders.resize(n);
    oc.nbytes.assign(n, 0);
    oc.borrowed.assign(n, false);
    oc.released.assign(n, false);
    if (ctx.keep_going) oc.errors.assign(n, nullptr);
    oc.kept.resize(persisting ? n : 0);
    const auto outputs_of = persisting ? ctx.outputs_by_node(g) : std::vector<std::vector<std::uint32_t>>{};
    std::vector<std::uint32_t> pending(n), consumers(g.consumers.begin(), g.consumers.end());
    std::vector<int> attempts(n, 0);
    std::vector<bool> is_output(n, false);
    for (auto o : g.outputs) is_output[o] = true;
    std::unordered_map<DataId, std::uint32_t> index_of_id;
    std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> ready;
    std::size_t done = 0, to_run = 0;
    std::unordered_map<int, std::vector<DataId>> releases;
    std::optional<TaskError> failure;

    auto finish_node = [&](std::uint32_t i) {
      ++done;
      if (!outputs_of.empty() && !outputs_of[i].empty()) {  // a requested output is final
        const std::exception_ptr error = oc.errors.empty() ? nullptr : oc.errors[i];
        if (!error) oc.kept[i] = kept_node(oc, g, i);
        for (auto k : outputs_of[i]) ctx.on_output(k, oc.kept[i], error);
      }
      for (auto d : g.dependents_of(i)) {
        if (--pending[d] == 0) ready.push(d);
      }
    };
    auto consume_inputs = [&](std::uint32_t i) {
      for (auto j : g.inputs_of(i)) {
        if (--consumers[j] == 0 && !is_output[j] && !oc.released[j]) release(oc, j, releases);
      }
    };

    for (std::uint32_t i = 0; i < n; ++i) {
      const auto* node = g.nodes[i];
      pending[i] = static_cast<std::uint32_t>(g.inputs_of(i).size());
      if (node->is_computed()) {
        auto* ref = dynamic_cast<const MpiResultRef*>(node->ref.get());
        if (ref && ref->owner() == m_rt.get()) {
          oc.ids[i] = ref->id();
          oc.holders[i] = {ref->rank()};
          oc.nbytes[i] = ref->nbytes();
          oc.borrowed[i] = true;
        } else {
          // A literal or a locally known result: rank 0 serves it to the workers.
          oc.ids[i] = rt.next_id++;
          Value v = detail::known_result(*node);
          oc.nbytes[i] = v.nbytes();
          rt.data->put(oc.ids[i], std::move(v));
          oc.holders[i] = {0};
        }
      } else {
        oc.ids[i] = rt.next_id++;
        ++to_run;
      }
      index_of_id[oc.ids[i]] = i;
    }
    ctx.run_start(to_run, "mpi");
    for (std::uint32_t i = 0; i < n; ++i) {
      if (g.nodes[i]->is_computed()) finish_node(i);
      // Tasks whose inputs were all known were pushed by finish_node already.
      else if (g.inputs_of(i).empty()) ready.push(i);
    }

    std::vector<proto::RunBatch> batch(static_cast<std::size_t>(rt.size));
    // Which worker runs a ready task (near its inputs, then the least loaded; placement.hpp).
    proto::Placement placement(rt.worker_threads);
    std::vector<proto::Placement::Input> input_places;
    auto place = [&](std::uint32_t i) -> int {
      if (g.nodes[i]->worker_hint >= 0) return detail::hinted_worker(g.nodes[i]->worker_hint, workers);
      input_places.clear();
      for (auto j : g.inputs_of(i)) input_places.push_back({oc.holders[j], oc.nbytes[j]});
      return placement.choose(input_places);
    };

    auto assign = [&]() {
      while (!ready.empty() && !failure) {
        const std::uint32_t i = ready.top();
        if (ctx.keep_going) {
          std::exception_ptr inherited;
          for (auto j : g.inputs_of(i)) {
            if (oc.errors[j]) inherited = oc.errors[j];
          }
          if (inherited) {  // an input failed: fail without running
            ready.pop();
            oc.errors[i] = inherited;
            consume_inputs(i);
            finish_node(i);
            continue;
          }
        }
        const int w = place(i);
        if (w < 0) break;
        ready.pop();
        const auto& node = *g.nodes[i];
        proto::RunTask task{oc.ids[i], node.key, {}, {}, {}};
        try {
          encode_body(node, task);
        } catch (const std::exception& e) {
          // Not sent: the task fails here, before it is counted in flight. The tasks already
          // in this round's batches still go (they are in flight and waited for below).
          TaskError error(node.key, 0, detail::current_exception_type(), e.what());
          if (ctx.keep_going) {
            oc.errors[i] = std::make_exception_ptr(error);
            consume_inputs(i);
            finish_node(i);
            continue;
          }
          failure.emplace(std::move(error));
          break;
        }
        const auto ins = g.inputs_of(i);
        task.inputs.reserve(ins.size());
        for (auto j : ins) {
          const auto& hs = oc.holders[j];
          const bool local = std::find(hs.begin(), hs.end(), w) != hs.end();
          task.inputs.push_back({oc.ids[j], local ? w : hs.front()});
        }
        // The worker will hold copies of its inputs once it ran the task.
        for (auto j : ins) {
          auto& hs = oc.holders[j];
          if (std::find(hs.begin(), hs.end(), w) == hs.end()) hs.push_back(w);
        }
        batch[static_cast<std::size_t>(w)].tasks.push_back(std::move(task));
        placement.sent(w);
      }
      for (int w = 1; w <= workers; ++w) {
        auto& b = batch[static_cast<std::size_t>(w)];
        if (b.tasks.empty()) continue;
        rt.messenger->send(w, proto::tag_run, b.encode());
        b.tasks.clear();
      }
    };

    auto flush_releases = [&]() {
      for (auto& [r, ids] : releases) {
        if (ids.empty()) continue;
        if (r == 0) rt.data->erase(ids);
        else rt.send_release(r, std::move(ids));
        ids.clear();
      }
    };

    std::int64_t total_in_flight = 0;
    assign();
    total_in_flight = placement.total_in_flight();
    while (done < n && !(failure && total_in_flight == 0)) {
      if (total_in_flight == 0 && ready.empty()) {
        TESSERA_THROW(GraphError, "the MPI scheduler has nothing to run but ", n - done,
                      " tasks are unfinished (internal error)");
      }
      rt.check_protocol_failure();
      auto msg = rt.messenger->receive_for(proto::tag_done, std::chrono::milliseconds(200));
      if (!msg) continue;  // the messenger's heartbeat monitor ends the job if a rank is lost
      const auto batch_done = decode_from<proto::DoneBatch>(msg->source, msg->bytes, rt.size);
      placement.set_paused(msg->source, batch_done.paused);
      for (const auto& c : batch_done.completions) {
        const auto id = c.id;
        const bool ok = c.ok;
        const auto nbytes = c.nbytes;
        const double start = c.start;
        const double stop = c.stop;
        const auto& type = c.type;
        const auto& message = c.message;
        const auto found = index_of_id.find(id);
        if (found == index_of_id.end()) {
          // A completion from an earlier computation that ended with an error: ignore.
          placement.returned(msg->source);
          std::fprintf(stderr, "tessera: stale completion of result %llu from rank %d\n",
                       static_cast<unsigned long long>(id), msg->source);
          continue;
        }
        const std::uint32_t i = found->second;
        placement.returned(msg->source);
        const auto& node = *g.nodes[i];
        if (ctx.observed()) {
          ctx.task_done(TaskEvent{node.key, node.name(), msg->source, c.thread, start, stop, 0, nbytes, !ok});
        }
        if (!ok) {
          if (attempts[i]++ < rt.retries && !failure) {
            ready.push(i);  // try again, possibly elsewhere
            continue;
          }
          if (ctx.keep_going) {
            oc.errors[i] = std::make_exception_ptr(TaskError(node.key, msg->source, type, message));
            consume_inputs(i);
            finish_node(i);
            continue;
          }
          if (!failure) failure.emplace(node.key, msg->source, type, message);
          continue;
        }
        placement.timed(stop - start);
        oc.nbytes[i] = nbytes;
        auto& hs = oc.holders[i];
        hs.erase(std::remove(hs.begin(), hs.end(), msg->source), hs.end());
        hs.insert(hs.begin(), msg->source);
        consume_inputs(i);
        finish_node(i);
      }
      for (const auto& e : batch_done.events) {
        if (!ctx.observed()) continue;
        const auto found = index_of_id.find(e.id);
        std::string key = found == index_of_id.end() ? std::to_string(e.id) : g.nodes[found->second]->key;
        if (e.kind == proto::TransferEvent::spill) key = "spill " + key;
        if (e.kind == proto::TransferEvent::unspill) key = "read back " + key;
        ctx.transfer(key, e.from, e.to, e.bytes, e.start, e.stop);
      }
      flush_releases();
      assign();
      total_in_flight = placement.total_in_flight();
    }
    flush_releases();
    proto::end_mpi_shuffle_run(ctx);  // workers drop the pieces no unpack took
    if (failure) {
      ctx.run_end(false);
      release_all(oc, g);
      throw *failure;
    }
    bool ok = true;
    if (ctx.keep_going) {
      ctx.output_errors.assign(g.outputs.size(), nullptr);
      for (std::size_t k = 0; k < g.outputs.size(); ++k) {
        ctx.output_errors[k] = oc.errors[g.outputs[k]];
        if (ctx.output_errors[k]) ok = false;
      }
    }
    ctx.run_end(ok);
    return oc;
  }

  std::shared_ptr<Runtime::Impl> m_rt;
};

/// Ranks sharing this node, from what the launcher tells us (Open MPI, SLURM, MPICH/Hydra).
int ranks_on_this_node() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", "MPI_LOCALNRANKS"}) {
    if (auto s = env_string(v)) {
      try {
        const int n = std::stoi(*s);
        if (n > 0) return n;
      } catch (...) {
      }
    }
  }
  return 1;
}

/// What compute() finds on a worker rank: only rank 0 drives.
class WorkerRankScheduler final : public Scheduler {
public:
  explicit WorkerRankScheduler(int rank) : m_rank(rank) {}
  [[nodiscard]] std::string name() const override { return "mpi-worker"; }
  std::vector<Value> run(const ExecGraph&, RunContext&) override {
    TESSERA_THROW(ConfigError, "compute() was called on worker rank ", m_rank,
                  ": with the MPI runtime only rank 0 runs the driver (use run_distributed, or "
                  "guard driver code with `if (runtime.is_driver())`)");
  }

private:
  int m_rank;
};

}  // namespace

std::vector<Value> Runtime::Impl::gather(const std::vector<std::pair<DataId, int>>& wanted) {
  const Active active_call(*this);
  // A result wanted twice (compute(x, x)) is asked for and received once.
  std::unordered_set<DataId> asked;
  std::unordered_map<int, std::vector<DataId>> by_rank;
  for (auto [id, r] : wanted) {
    if (r != 0 && asked.insert(id).second) by_rank[r].push_back(id);
  }
  std::unordered_map<DataId, Value> got;
  {
    std::lock_guard lock(arrival_mutex);
    for (auto& [r, ids] : by_rank) {
      for (auto id : ids) arrived.erase(id);
    }
  }
  for (auto& [r, ids] : by_rank) messenger->send(r, proto::tag_gather, proto::GatherRequest{ids}.encode());
  std::vector<Value> out;
  out.reserve(wanted.size());
  for (auto [id, r] : wanted) {
    if (auto it = got.find(id); it != got.end()) {
      out.push_back(it->second);
      continue;
    }
    if (r != 0) {
      std::unique_lock lock(arrival_mutex);
      while (!arrived.count(id)) {
        if (protocol_failure) std::rethrow_exception(protocol_failure);
        if (arrival_cv.wait_for(lock, std::chrono::seconds(1)) == std::cv_status::timeout) {
          // keep waiting: a lost rank ends the job through the heartbeat monitor
        }
      }
      const bool ok = arrived[id];
      arrived.erase(id);
      if (!ok) TESSERA_THROW(TransportError, "result ", id, " could not be gathered from rank ", r);
    }
    Value v = data->get(id);
    if (r != 0) data->erase(id);
    got.emplace(id, v);
    out.push_back(std::move(v));
  }
  return out;
}

namespace {

/// What every rank needs from the environment before anything else, validated on every rank.
struct StartConfig {
  detail::RuntimeConfig config;
  MemoryLimit limit;
  MemoryThresholds thresholds;
};

StartConfig resolve_start_config(const RuntimeOptions& options) {
  StartConfig s;
  s.config = detail::RuntimeConfig::from_environment();
  if (options.memory_limit) detail::check_memory_spec(*options.memory_limit, "RuntimeOptions::memory_limit");
  if (options.retries && *options.retries < 0) {
    TESSERA_THROW(ConfigError, "RuntimeOptions::retries=", *options.retries,
                  " is not valid; accepted: an integer >= 0");
  }
  s.limit = resolve_memory_limit(options.memory_limit, ranks_on_this_node());
  s.thresholds = MemoryThresholds::from_env();
  return s;
}

/// The first rank whose configuration failed, and its message, on every rank; -1 if none.
std::pair<int, std::string> agree_on_config_error(const Comm& world, const std::string& mine) {
  const int size = world.size();
  const int first = world.all_reduce_min(mine.empty() ? size : world.rank());
  if (first == size) return {-1, {}};
  std::vector<std::byte> text;
  if (world.rank() == first) {
    const auto* b = reinterpret_cast<const std::byte*>(mine.data());
    text.assign(b, b + mine.size());
  }
  world.broadcast(text, first);
  return {first, std::string(reinterpret_cast<const char*>(text.data()), text.size())};
}

int g_failed_start_rank = -1;  // >= 0: the last start-up failure was agreed and printed

/// Every rank has `error` (an agreed start-up failure): rank 0 prints it as one line, everyone
/// waits for that (a rank that exited first would let mpirun kill rank 0 before it printed),
/// then every rank throws it and MPI is finalized normally.
template <class E>
[[noreturn]] void fail_agreed(const Comm& world, Environment& env, const E& error, const char* prefix) {
  if (world.rank() == 0) {
    std::fprintf(stderr, "tessera: %s%s\n", prefix, error.what());
    std::fflush(stderr);
  }
  try {
    world.barrier();
  } catch (...) {
  }
  env.expect_agreed_failure();
  g_failed_start_rank = world.rank();  // run_distributed: already printed
  throw error;
}

}  // namespace

Runtime::Impl::Impl(std::unique_ptr<Environment> e, RuntimeOptions o)
    : env(std::move(e)), options(std::move(o)) {
  const Comm world = env->world();
  rank = world.rank();
  size = world.size();
  g_failed_start_rank = -1;
  // 1. Thread support: the same answer on every rank, known without talking to anyone, so a
  // library host gets our message in its catch instead of a hang or an abort.
  if (size > 1 && env->provided() != ThreadLevel::multiple) {
    std::ostringstream os;
    os << "tessera::Runtime on rank " << rank << " needs MPI_THREAD_MULTIPLE, but MPI was initialized with "
       << to_string(env->provided())
       << "; initialize MPI with MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided) (or "
          "let tessera::Runtime(argc, argv) initialize it)";
    fail_agreed(world, *env, TransportError(os.str()), "");
  }
  // 2. Configuration: every rank validates; all agree; every rank throws the first error.
  std::optional<StartConfig> start;
  std::string error;
  try {
    start = resolve_start_config(options);
  } catch (const ConfigError& ce) {
    error = ce.what();
  }
  if (auto [first, text] = agree_on_config_error(world, error); first >= 0) {
    fail_agreed(world, *env, ConfigError(text), "configuration error: ");
  }
  // Misspelt variable names are warned about once, by the first rank (runtime_config()).
  if (rank == 0) (void)detail::runtime_config();
  // 3. The same binary everywhere (every rank throws the same error when not).
  try {
    check_same_binary(world);
  } catch (const TransportError& te) {
    fail_agreed(world, *env, te, "");
  }
  const auto& config = start->config;
  retries = options.retries ? *options.retries : config.task_retries;
  const unsigned my_threads = options.threads_per_worker   ? options.threads_per_worker
                              : config.threads_per_worker ? config.threads_per_worker
                                                          : available_cores();
  const auto all_threads = world.all_gather(my_threads);
  worker_threads.assign(all_threads.begin(), all_threads.end());
  if (size == 1) return;
  // Spill directories are named after rank 0 (host and pid, or the Slurm job), which owns the
  // job's spill root and removes what dead ranks left there.
  std::vector<std::byte> tag;
  if (rank == 0) {
    const std::string t = default_spill_job_tag(static_cast<long>(::getpid()));
    tag.assign(reinterpret_cast<const std::byte*>(t.data()), reinterpret_cast<const std::byte*>(t.data()) + t.size());
    try {
      job_root = std::make_unique<JobSpillRoot>(spill_root(), t);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "tessera: rank 0: spill root '%s': %s\n", spill_root().c_str(), ex.what());
    }
  }
  world.broadcast(tag, 0);
  set_spill_job_tag(std::string(reinterpret_cast<const char*>(tag.data()), tag.size()));
  install_cleanup_signal_handlers();
  Messenger::Options mo;
  mo.heartbeat_timeout = config.heartbeat_timeout;
  messenger = std::make_unique<Messenger>(world, mo);
  if (rank == 0) {
    data = std::make_unique<proto::DataPlane>(
        *messenger,
        [this](DataId id, bool ok, int) {
          std::lock_guard lock(arrival_mutex);
          arrived[id] = ok;
          arrival_cv.notify_all();
        },
        [this](std::exception_ptr failure) {
          std::lock_guard lock(arrival_mutex);
          if (!protocol_failure) protocol_failure = std::move(failure);
          arrival_cv.notify_all();
        });
    messenger->set_busy(true);  // until the first computation: see Active
    proto::attach_shuffle_driver(messenger.get());
    messenger->on_rank_lost([this](int r, double silent) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "tessera: worker rank %d stopped answering for %.1f s; ending the job", r, silent);
      remove_job_spill_dirs();
      env->abort(buf, 1);
    });
  } else {
    // Spill files live in a private per-rank directory that is removed at exit, also when the
    // job is killed by SIGTERM/SIGINT (srun/scancel send those; see above).
    set_memory_budget(start->limit.bytes);
    bound_allocator_retention();  // freed chunks leave RSS at once (bench/README.md: memory)
    worker = std::make_unique<proto::Worker>(*messenger, my_threads, start->limit.bytes,
                                             start->thresholds);
    messenger->on_rank_lost([this, r = rank](int, double silent) {
      // After rank 0's shutdown message its heartbeats stop on purpose.
      if (served.load()) return;
      // The scheduler is gone (killed, or its node died): nothing will ever come. Leave now,
      // without MPI (a collective or MPI_Finalize would wait for rank 0 forever).
      std::fprintf(stderr,
                   "tessera: worker rank %d: the scheduler (rank 0) stopped answering for %.1f s; "
                   "exiting\n",
                   r, silent);
      std::fflush(stderr);
      (void)remove_all_registered();
      std::_Exit(1);
    });
  }
}

Runtime::Impl::~Impl() = default;

namespace {
/// make_scheduler("mpi") while a Runtime runs: rank 0's scheduler there; a clear error on a
/// worker; after the Runtime ended, the error that says one is needed.
void register_mpi_names(int rank, int size) {
  for (const char* name : {"mpi", "distributed"}) {
    register_scheduler(name, [rank, size](unsigned) -> std::shared_ptr<Scheduler> {
      if (rank != 0) {
        TESSERA_THROW(ConfigError, "make_scheduler(\"mpi\") was called on worker rank ", rank,
                      " of ", size, ": only rank 0 runs the driver and schedules (guard driver code "
                      "with `if (runtime.is_driver())`, or use run_distributed)");
      }
      Runtime* rt = Runtime::current();
      if (rt == nullptr) {
        TESSERA_THROW(ConfigError, "make_scheduler(\"mpi\"): the MPI scheduler needs a running "
                      "tessera::Runtime, and there is none any more");
      }
      return rt->scheduler();
    });
  }
}
void unregister_mpi_names() {
  for (const char* name : {"mpi", "distributed"}) {
    register_scheduler(name, [](unsigned) -> std::shared_ptr<Scheduler> {
      TESSERA_THROW(ConfigError, "unknown scheduler 'mpi': the MPI scheduler needs a running "
                    "tessera::Runtime");
    });
  }
}
}  // namespace

Runtime::Runtime(int& argc, char**& argv, RuntimeOptions options) {
  if (g_current) TESSERA_THROW(ConfigError, "a tessera::Runtime already exists in this process");
  auto env = std::make_unique<Environment>(argc, argv);
  m_impl = std::make_shared<Impl>(std::move(env), std::move(options));
  m_impl->ready_rss = current_rss();
  g_current = this;
  if (m_impl->rank != 0) set_default_scheduler(std::make_shared<WorkerRankScheduler>(m_impl->rank));
  register_mpi_names(m_impl->rank, m_impl->size);
}

Runtime::Runtime(std::int64_t fortran_comm, RuntimeOptions options) {
  if (g_current) TESSERA_THROW(ConfigError, "a tessera::Runtime already exists in this process");
  auto env = std::make_unique<Environment>(ExternalComm{fortran_comm});
  m_impl = std::make_shared<Impl>(std::move(env), std::move(options));
  m_impl->ready_rss = current_rss();
  g_current = this;
  if (m_impl->rank != 0) set_default_scheduler(std::make_shared<WorkerRankScheduler>(m_impl->rank));
  register_mpi_names(m_impl->rank, m_impl->size);
}

Runtime::~Runtime() {
  try {
    if (m_impl->rank == 0 && !m_impl->shut_down) shutdown(0);
    m_impl->shut_down = true;
    m_impl->scheduler.reset();
    if (m_impl->rank == 0) proto::attach_shuffle_driver(nullptr);
    if (m_impl->messenger) m_impl->messenger->shutdown();
    m_impl->worker.reset();
    m_impl->data.reset();
    if (m_impl->messenger) {
      m_impl->env->world().barrier();
      m_impl->messenger.reset();
    }
    m_impl->job_root.reset();  // after the barrier: every worker removed its own directory
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: rank %d: error while shutting down the runtime: %s\n",
                 m_impl->rank, e.what());
  }
  if (m_impl->rank != 0) set_default_scheduler(nullptr);
  unregister_mpi_names();
  g_current = nullptr;
}

int Runtime::rank() const noexcept { return m_impl->rank; }
int Runtime::size() const noexcept { return m_impl->size; }
Runtime* Runtime::current() noexcept { return g_current; }

std::shared_ptr<Scheduler> Runtime::scheduler() {
  if (m_impl->rank != 0) {
    TESSERA_THROW(ConfigError, "compute() was called on worker rank ", m_impl->rank,
                  ": only rank 0 runs the driver and schedules");
  }
  if (!m_impl->scheduler) {
    if (m_impl->size == 1) {
      m_impl->scheduler = std::make_shared<ThreadScheduler>(
          ThreadScheduler::Options{m_impl->worker_threads.at(0)});
    } else {
      m_impl->scheduler = std::make_shared<MpiScheduler>(m_impl);
    }
  }
  return m_impl->scheduler;
}

int Runtime::serve() {
  if (m_impl->rank == 0) TESSERA_THROW(ConfigError, "serve() is for worker ranks; rank 0 runs the driver");
  if (!m_impl->worker) return 0;
  try {
    const int code = m_impl->worker->serve();
    m_impl->served.store(true);
    return code;
  } catch (const std::exception& e) {
    // The worker cannot go on (its messenger failed): rank 0 would wait for it forever. End
    // the job with the reason, leaving no spill data behind.
    (void)remove_all_registered();
    std::string why = "worker rank " + std::to_string(m_impl->rank) + " failed: " + e.what();
    m_impl->env->abort(why, 1);
  }
}

void Runtime::shutdown(int exit_code) {
  if (m_impl->rank != 0 || m_impl->shut_down) return;
  m_impl->shut_down = true;
  for (int r = 1; r < m_impl->size; ++r) {
    m_impl->messenger->send(r, proto::tag_shutdown, proto::Shutdown{exit_code}.encode());
  }
}

std::vector<WorkerStats> Runtime::stats() {
  if (m_impl->rank != 0) TESSERA_THROW(ConfigError, "stats() is called on rank 0");
  std::vector<WorkerStats> out(static_cast<std::size_t>(m_impl->size));
  const Impl::Active active_call(*m_impl);
  out[0].rank = 0;
  out[0].peak_rss = peak_rss();
  out[0].ready_rss = m_impl->ready_rss;
  if (m_impl->data) {
    out[0].held_bytes = m_impl->data->held_bytes();
    out[0].bytes_served = m_impl->data->bytes_served();  // literals workers fetched from rank 0
  }
  for (int r = 1; r < m_impl->size; ++r) {
    m_impl->messenger->send(r, proto::tag_stats_request, proto::StatsRequest{}.encode());
  }
  for (int k = 1; k < m_impl->size; ++k) {
    auto msg = m_impl->messenger->receive(proto::tag_stats_reply);
    const auto reply = decode_from<proto::StatsReply>(msg.source, msg.bytes);
    auto& s = out[static_cast<std::size_t>(msg.source)];
    s.rank = msg.source;
    s.tasks_run = reply.tasks_run;
    s.bytes_fetched = reply.bytes_fetched;
    s.bytes_served = reply.bytes_served;
    s.peak_rss = reply.peak_rss;
    s.held_bytes = reply.held_bytes;
    s.busy_seconds = reply.busy_seconds;
    s.memory_limit = reply.memory_limit;
    s.held_peak = reply.held_peak;
    s.bytes_spilled = reply.bytes_spilled;
    s.bytes_unspilled = reply.bytes_unspilled;
    s.spill_seconds = reply.spill_seconds;
    s.pauses = reply.pauses;
    s.ready_rss = reply.ready_rss;
  }
  return out;
}

std::string format_worker_stats(const std::vector<WorkerStats>& stats) {
  std::string out;
  char buf[400];
  for (const auto& s : stats) {
    std::snprintf(buf, sizeof buf,
                  "rank %d peak memory: %s (%s when ready; limit for results %s, peak held %s, "
                  "spilled %s, read back %s in %.2f s, %llu tasks, %llu pauses)\n",
                  s.rank, format_bytes(s.peak_rss).c_str(), format_bytes(s.ready_rss).c_str(),
                  s.memory_limit ? format_bytes(s.memory_limit).c_str() : "none",
                  format_bytes(s.held_peak).c_str(), format_bytes(s.bytes_spilled).c_str(),
                  format_bytes(s.bytes_unspilled).c_str(), s.spill_seconds,
                  static_cast<unsigned long long>(s.tasks_run), static_cast<unsigned long long>(s.pauses));
    out += buf;
  }
  return out;
}

int run_distributed(int argc, char** argv, const std::function<int(Runtime&)>& driver,
                    RuntimeOptions options) {
  std::optional<Runtime> runtime;
  try {
    runtime.emplace(argc, argv, std::move(options));
  } catch (const Error& e) {
    // A start-up failure every rank agreed on was printed once, by rank 0; anything else (the
    // Environment could not start, a second Runtime) is printed here, by each rank.
    if (g_failed_start_rank < 0) std::fprintf(stderr, "tessera: %s\n", e.what());
    return 2;
  }
  Runtime& rt = *runtime;
  if (rt.rank() != 0) return rt.serve();
  int code = 1;
  auto sched = rt.scheduler();
  set_default_scheduler(sched);
  try {
    code = driver(rt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera: the driver on rank 0 failed: %s\n", e.what());
    code = 1;
  }
  set_default_scheduler(nullptr);
  const auto& config = detail::runtime_config();
  if (rt.size() > 1 && (config.summary || config.worker_stats)) {
    try {
      std::fprintf(stderr, "%s", format_worker_stats(rt.stats()).c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tessera: could not collect worker statistics: %s\n", e.what());
    }
  }
  rt.shutdown(code);
  return code;
}

}  // namespace tessera
