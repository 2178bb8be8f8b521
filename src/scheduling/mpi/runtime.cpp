// The distributed runtime: the Runtime object every rank builds (start-up, configuration agreed
// by all ranks, shutdown), gathering results to rank 0, worker statistics and run_distributed.
#include "scheduling/mpi/runtime_impl.hpp"

#include <tessera/core/buffer_pool.hpp>

namespace tessera {

namespace {
Runtime* g_current = nullptr;


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
  avoid_fastbin_consolidation();  // every rank (process_memory.hpp)
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
    BufferPool::instance().bound_by_memory_limit(start->limit.bytes);
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
      m_impl->scheduler = make_mpi_scheduler(m_impl);
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
