// Rank 0's scheduler (MpiScheduler): places ready tasks on workers, ships them in batches,
// tracks who holds what, frees results nobody needs and gathers the requested outputs.
#include "scheduling/mpi/checkpoint_tasks.hpp"
#include "scheduling/mpi/run_outcome.hpp"
#include "scheduling/mpi/run_router.hpp"
#include "scheduling/mpi/runtime_impl.hpp"
#include "scheduling/resume_plan.hpp"
#include "scheduling/run_book.hpp"

#include <tessera/storage/checkpoint.hpp>

#include <filesystem>

namespace tessera {

namespace {

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

/// One execution of a graph on the workers. The decisions are the engine's every backend shares
/// (run_book.hpp: readiness, releases after the last consumer, retries, keep-going,
/// cancellation, the run's observer events); this run acts on them: placement (placement.hpp,
/// shared with the runs in flight beside it through the RunRouter), run batches, completions,
/// the release messages and the transfer events.
/// `persisting`: outputs are kept, and each is reported to ctx.on_output when it is final.
/// With TESSERA_CHECKPOINT (checkpoint_tasks.hpp): tasks that run are recorded by their
/// workers, recorded results are loaded by a worker, tasks nothing needs are skipped here, and
/// the workers that recorded seal their shards before the run ends.
class MpiRun {
public:
  MpiRun(std::shared_ptr<Runtime::Impl> rt, std::shared_ptr<proto::RunRouter> router, const ExecGraph& g,
         RunContext& ctx, bool persisting)
      : m_rt_ptr(std::move(rt)), m_rt(*m_rt_ptr), m_router_ptr(std::move(router)), m_router(*m_router_ptr), m_g(g),
        m_ctx(ctx), m_n(static_cast<std::uint32_t>(g.size())), m_workers(m_rt.size - 1), m_oc(m_n),
        m_book(g, ctx, m_rt.retries), m_batch(static_cast<std::size_t>(m_rt.size)),
        m_plan(g, process_checkpoint()) {
    m_oc.kept.resize(persisting ? m_n : 0);
    if (persisting) m_outputs_of = ctx.outputs_by_node(g);
    if (m_plan.active()) {
      std::error_code ec;
      const auto& path = m_plan.checkpoint()->path();
      const auto absolute = std::filesystem::absolute(path, ec);
      m_shard_path = ec ? path : absolute.string();
      m_recorders.assign(static_cast<std::size_t>(m_rt.size), false);
    }
    if (persisting) {
      for (auto o : g.outputs) m_oc.shared[o] = true;  // kept: later runs may read it while this one goes on
    }
  }

  MpiRun(const MpiRun&) = delete;
  MpiRun& operator=(const MpiRun&) = delete;
  ~MpiRun() { close(); }

  /// Runs the graph to its end. Throws: the first TaskError (unless keep_going), ProtocolError
  /// or GraphError; the results of a failed run are released first.
  Outcome run() {
    // With a checkpoint, one more id per worker: the seal tasks'.
    m_router.open(m_run, m_n + (m_plan.active() ? static_cast<std::uint32_t>(m_workers) : 0));
    m_open = true;
    identify_nodes();
    for (auto i : m_book.start(m_to_run, "mpi")) {
      // Known results have no inputs (they are not expanded); tasks whose inputs are all known
      // are pushed by finish_node.
      if (m_g.nodes[i]->is_computed()) finish_node(i);
      else m_ready.push(i);
    }
    assign();
    while (m_book.done() < m_n && !(m_book.cancelled() && m_in_flight == 0)) {
      // Ready tasks with no worker slot free wait for slots other runs hold.
      if (m_in_flight == 0 && m_ready.empty()) {
        TESSERA_THROW(GraphError, "the MPI scheduler has nothing to run but ", m_n - m_book.done(),
                      " tasks are unfinished (internal error)");
      }
      m_rt.check_protocol_failure();
      // Nothing within 200 ms: wait again (the messenger's heartbeat monitor ends the job if a
      // rank is lost).
      on_mail(m_router.wait(m_run, std::chrono::milliseconds(200)));
      send_releases(m_rt, m_router, m_releases);
      assign();
    }
    seal_checkpoint();
    send_releases(m_rt, m_router, m_releases);
    close();
    return finish();
  }

private:
  /// Unregisters the run; the last run out has the workers drop the shuffle pieces no unpack
  /// took (with runs beside it, those may still be wanted).
  void close() noexcept {
    if (!m_open) return;
    m_open = false;
    m_router.close(m_run, [&] { proto::end_mpi_shuffle_run(m_ctx); });
  }

  /// Gives every node its result id (its index plus the first of the run's range); results
  /// known before the run (persisted on workers, or literals rank 0 serves) get their holders.
  void identify_nodes() {
    for (std::uint32_t i = 0; i < m_n; ++i) {
      const auto* node = m_g.nodes[i];
      if (node->is_computed()) {
        auto* ref = dynamic_cast<const MpiResultRef*>(node->ref.get());
        if (ref && ref->owner() == m_rt_ptr.get()) {
          m_oc.ids[i] = ref->id();
          m_oc.holders[i] = ref->ranks();
          m_oc.pinned[i] = static_cast<std::uint32_t>(m_oc.holders[i].size());
          m_oc.nbytes[i] = ref->nbytes();
          m_oc.borrowed[i] = true;
          m_oc.shared[i] = true;
        } else {
          m_oc.ids[i] = m_run.first() + i;
          Value v = detail::known_result(*node);
          m_oc.nbytes[i] = v.nbytes();
          m_rt.data->put(m_oc.ids[i], std::move(v));
          m_oc.holders[i] = {0};
        }
      } else {
        m_oc.ids[i] = m_run.first() + i;
        ++m_to_run;
      }
      m_index_of_id[m_oc.ids[i]] = i;
    }
  }

  /// Node i is final: a requested output is reported (persisting), ready dependants queued.
  void finish_node(std::uint32_t i) {
    if (!m_outputs_of.empty() && !m_outputs_of[i].empty()) {
      const std::exception_ptr error = m_book.error_of(i);
      if (!error) m_oc.kept[i] = kept_node(m_rt_ptr, m_router_ptr, m_oc, m_g, i);
      for (auto k : m_outputs_of[i]) m_ctx.on_output(k, m_oc.kept[i], error);
    }
    m_book.completed(i, [this](std::uint32_t d) { m_ready.push(d); });
  }

  /// Node i read its inputs: the workers drop each one it was the last reader of.
  void consume_inputs(std::uint32_t i) {
    m_book.consume_inputs(i, [this](std::uint32_t j) {
      if (m_oc.released[j]) return;
      // keep_input_copies: the copies of a persisted input stay, to be adopted at the end.
      if (!(m_ctx.keep_input_copies && m_oc.borrowed[j])) release(m_oc, j, m_releases);
    });
  }

  /// Node i failed for good with `error` (after its last try, or without running). Returns
  /// false when that cancels the run (not keep_going).
  bool fail_task(std::uint32_t i, std::exception_ptr error) {
    if (!m_book.fail(i, std::move(error))) return false;
    consume_inputs(i);
    finish_node(i);
    return true;
  }

  /// keep_going: an input of i failed, so i fails with that error. Returns whether it did.
  bool inherit_failure(std::uint32_t i) {
    auto inherited = m_book.inherited_error(i);
    return inherited && fail_task(i, std::move(inherited));
  }

  /// Which worker runs ready task i: its hint, else near its inputs, then the least loaded;
  /// the task is counted as sent there. -1: no worker has a slot free.
  int place(std::uint32_t i) {
    if (m_g.nodes[i]->worker_hint >= 0) {
      const int w = detail::hinted_worker(m_g.nodes[i]->worker_hint, m_workers);
      m_router.sent(w);
      return w;
    }
    m_input_places.clear();
    if (m_plan.action(i) == detail::ResumePlan::Action::load) return m_router.place(m_input_places);  // reads no input
    for (auto j : m_g.inputs_of(i)) m_input_places.push_back({m_oc.holders[j], m_oc.nbytes[j]});
    return m_router.place(m_input_places);
  }

  /// Adds task i to worker w's batch. A task that cannot be encoded fails here, and its slot
  /// on w is given back; returns false when that ends the run (not keep_going).
  bool add_to_batch(std::uint32_t i, int w) {
    const auto& node = *m_g.nodes[i];
    if (m_plan.action(i) == detail::ResumePlan::Action::load) return add_load(i, w);
    proto::RunTask task{m_oc.ids[i], node.key, {}, {}, {}};
    try {
      encode_body(node, task);
      if (m_plan.active()) {
        proto::record_result(task, shard_target(w));
        m_recorders[static_cast<std::size_t>(w)] = true;
      }
    } catch (const std::exception& e) {
      m_router.unsent(w);
      return fail_task(i, std::make_exception_ptr(TaskError(node.key, 0, detail::current_exception_type(), e.what())));
    }
    const auto ins = m_g.inputs_of(i);
    task.inputs.reserve(ins.size());
    for (auto j : ins) {
      const auto& hs = m_oc.holders[j];
      const bool local = std::find(hs.begin(), hs.end(), w) != hs.end();
      task.inputs.push_back({m_oc.ids[j], local ? w : hs.front()});
    }
    // The worker will hold copies of its inputs once it ran the task (only then: an input
    // named twice is fetched from its holder both times).
    for (auto j : ins) {
      auto& hs = m_oc.holders[j];
      if (std::find(hs.begin(), hs.end(), w) != hs.end()) continue;
      hs.push_back(w);
      if (m_oc.shared[j]) m_router.hold_copy(m_oc.ids[j], w);
    }
    m_batch[static_cast<std::size_t>(w)].tasks.push_back(std::move(task));
    ++m_in_flight;
    return true;
  }

  /// Where worker w records this run's results.
  [[nodiscard]] proto::ShardTarget shard_target(int w) const {
    return {m_shard_path, m_plan.checkpoint()->shard_prefix(w), m_plan.run(), m_plan.run_fingerprint()};
  }

  /// Adds a load of task i's recorded result to worker w's batch (its inputs are not read).
  bool add_load(std::uint32_t i, int w) {
    const auto entry = m_plan.locate(m_g, i);
    if (!entry) {
      m_router.unsent(w);
      TESSERA_THROW(GraphError, "the checkpointed result of '", m_g.nodes[i]->key, "' is no longer indexed (internal error)");
    }
    m_batch[static_cast<std::size_t>(w)].tasks.push_back(proto::load_task(m_oc.ids[i], m_g.nodes[i]->key, *entry));
    ++m_in_flight;
    return true;
  }

  /// The run's end (also a failed one): every worker that recorded seals what it batched, and
  /// rank 0 waits for them, so a compute() that returned is durable. A seal that failed (a full
  /// disk) fails the run unless it failed already.
  void seal_checkpoint() {
    if (!m_plan.active()) return;
    for (int w = 1; w <= m_workers; ++w) {
      if (!m_recorders[static_cast<std::size_t>(w)]) continue;
      m_router.sent(w);
      m_batch[static_cast<std::size_t>(w)].tasks.push_back(
          proto::seal_task(m_run.first() + m_n + static_cast<DataId>(w - 1), shard_target(w)));
      ++m_in_flight;
    }
    flush_batches();
    while (m_in_flight > 0) {
      m_rt.check_protocol_failure();
      on_mail(m_router.wait(m_run, std::chrono::milliseconds(200)));
    }
    try {
      m_plan.finish();  // the summary (TESSERA_SUMMARY)
    } catch (const std::exception& e) {
      if (m_seal_error.empty()) m_seal_error = e.what();
    }
  }

  void on_seal(int source, const proto::Completion& c) {
    m_releases.own[source].push_back(c.id);  // the count it returned
    if (!c.ok && m_seal_error.empty()) m_seal_error = c.message + " (on rank " + std::to_string(source) + ")";
  }

  void flush_batches() {
    for (int w = 1; w <= m_workers; ++w) {
      auto& b = m_batch[static_cast<std::size_t>(w)];
      if (b.tasks.empty()) continue;
      m_rt.messenger->send(w, proto::tag_run, b.encode());
      b.tasks.clear();
    }
  }

  /// Places the ready tasks while workers have room, then sends one batch per worker. The
  /// tasks already in this round's batches go even when one failed to encode (they are in
  /// flight and waited for).
  void assign() {
    while (!m_ready.empty() && !m_book.cancelled()) {
      const std::uint32_t i = m_ready.top();
      if (inherit_failure(i)) {
        m_ready.pop();
        continue;
      }
      if (m_plan.action(i) == detail::ResumePlan::Action::skip) {  // nothing that runs needs it
        m_ready.pop();
        consume_inputs(i);
        finish_node(i);
        continue;
      }
      const int w = place(i);
      if (w < 0) break;
      m_ready.pop();
      if (!add_to_batch(i, w)) break;
    }
    flush_batches();
  }

  /// What the router handed over: this run's completions and transfers (the placement has
  /// counted the completions already).
  void on_mail(const proto::RunRouter::Mail& mail) {
    for (const auto& [source, c] : mail.completions) {
      --m_in_flight;
      on_completion(source, c);
    }
    if (!m_ctx.observed()) return;
    for (const auto& e : mail.events) report_transfer(e);
    for (const auto& e : mail.foreign_events) {
      if (m_index_of_id.count(e.id)) report_transfer(e);
    }
  }

  void on_completion(int source, const proto::Completion& c) {
    const std::uint64_t index = c.id - m_run.first();  // the router checked the range
    if (index >= m_n) return on_seal(source, c);
    const auto i = static_cast<std::uint32_t>(index);
    const auto& node = *m_g.nodes[i];
    if (m_ctx.observed()) {
      m_ctx.task_done(TaskEvent{node.key, node.name(), source, c.thread, c.start, c.stop, 0, c.nbytes, !c.ok});
    }
    if (!c.ok) {
      if (m_book.retry(i)) {
        m_ready.push(i);  // try again, possibly elsewhere
      } else {
        (void)fail_task(i, std::make_exception_ptr(TaskError(node.key, source, c.type, c.message)));
      }
      return;
    }
    m_oc.nbytes[i] = c.nbytes;
    auto& hs = m_oc.holders[i];
    hs.erase(std::remove(hs.begin(), hs.end(), source), hs.end());
    hs.insert(hs.begin(), source);
    consume_inputs(i);
    finish_node(i);
  }

  void report_transfer(const proto::TransferEvent& e) {
    const auto found = m_index_of_id.find(e.id);
    std::string key = found == m_index_of_id.end() ? std::to_string(e.id) : m_g.nodes[found->second]->key;
    if (e.kind == proto::TransferEvent::spill) key = "spill " + key;
    if (e.kind == proto::TransferEvent::unspill) key = "read back " + key;
    m_ctx.transfer(key, e.from, e.to, e.bytes, e.start, e.stop);
  }

  /// Ends the run: the failure is thrown (after releasing every result; a failed seal fails a
  /// run that had not failed), or keep_going's per-output errors are set.
  Outcome finish() {
    if (!m_seal_error.empty()) {
      try {
        TESSERA_THROW(StorageError, m_seal_error);
      } catch (...) {
        m_book.cancel(std::current_exception());  // the run's own failure stays the one thrown
      }
    }
    if (m_book.cancelled()) release_all(m_rt, m_router, m_oc, m_g);
    (void)m_book.end();
    m_oc.errors = m_book.take_errors();
    return std::move(m_oc);
  }

  std::shared_ptr<Runtime::Impl> m_rt_ptr;
  Runtime::Impl& m_rt;
  std::shared_ptr<proto::RunRouter> m_router_ptr;
  proto::RunRouter& m_router;
  proto::RunRouter::Run m_run;
  bool m_open = false;
  const ExecGraph& m_g;
  RunContext& m_ctx;
  const std::uint32_t m_n;
  const int m_workers;
  Outcome m_oc;
  detail::RunBook m_book;
  std::vector<std::vector<std::uint32_t>> m_outputs_of;  // persisting only
  std::unordered_map<DataId, std::uint32_t> m_index_of_id;
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> m_ready;
  std::size_t m_to_run = 0;
  std::int64_t m_in_flight = 0;  // this run's tasks on workers
  Releases m_releases;
  std::vector<proto::Placement::Input> m_input_places;
  std::vector<proto::RunBatch> m_batch;  // per rank
  detail::ResumePlan m_plan;             // TESSERA_CHECKPOINT: what to load, skip and record
  std::string m_shard_path;              // the checkpoint's absolute path, for the workers
  std::vector<bool> m_recorders;         // per rank: was sent a task to record (seals at the end)
  std::string m_seal_error;              // a seal (or the summary) failed
};

/// Rank 0's scheduler: one MpiRun per computation, then gathers or keeps the outputs.
class MpiScheduler final : public Scheduler {
public:
  explicit MpiScheduler(std::shared_ptr<Runtime::Impl> rt)
      : m_rt(std::move(rt)),
        m_router(std::make_shared<proto::RunRouter>(
            *m_rt->messenger, m_rt->worker_threads, m_rt->size,
            [rt = m_rt.get()](proto::RunRouter::Releases& r) { send_releases(*rt, r); })) {}
  [[nodiscard]] std::string name() const override { return "mpi"; }
  [[nodiscard]] int workers() const override { return m_rt->size - 1; }

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
      release_all(*m_rt, *m_router, outcome, g);
      throw;
    }
    if (ctx.keep_input_copies) adopt_input_copies(outcome, g);
    release_all(*m_rt, *m_router, outcome, g);
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
      if (!outcome.kept[o]) outcome.kept[o] = kept_node(m_rt, m_router, outcome, g, o);
      out.push_back(outcome.kept[o]);
    }
    // Copies on other ranks are not needed: keep only the first holder's (the owner's).
    for (std::uint32_t i = 0; i < g.size(); ++i) {
      if (outcome.kept[i] && !outcome.borrowed[i]) outcome.holders[i].erase(outcome.holders[i].begin());
    }
    if (ctx.keep_input_copies) adopt_input_copies(outcome, g);
    release_all(*m_rt, *m_router, outcome, g);
    return out;
  }

private:
  Outcome execute(const ExecGraph& g, RunContext& ctx, bool persisting) {
    return MpiRun(m_rt, m_router, g, ctx, persisting).run();  // beside the runs in flight
  }

  std::shared_ptr<Runtime::Impl> m_rt;
  std::shared_ptr<proto::RunRouter> m_router;  // refs to kept results hold it weakly
};

}  // namespace

std::shared_ptr<Scheduler> make_mpi_scheduler(std::shared_ptr<Runtime::Impl> rt) {
  return std::make_shared<MpiScheduler>(std::move(rt));
}

}  // namespace tessera
