#include "scheduling/mpi/worker.hpp"

#include "scheduling/mpi/checkpoint_tasks.hpp"
#include "scheduling/mpi/protocol_control.hpp"

#include <tessera/core/error.hpp>
#include <tessera/graph/task.hpp>
#include <tessera/storage/process_memory.hpp>
#include <tessera/storage/working_memory.hpp>

namespace tessera::detail::mpi {

template <class Handler>
void Worker::handle(int tag, Handler handler) {
  m_messenger.on(tag, [this, handler = std::move(handler)](int source, std::vector<std::byte>&& b) {
    try {
      handler(source, std::move(b));
    } catch (const ProtocolError& e) {
      stop_serving(std::make_exception_ptr(e.from_rank(source)));
    }
  });
}

void Worker::stop_serving(std::exception_ptr error) {
  std::lock_guard lock(m_done_mutex);
  if (!m_failure) m_failure = std::move(error);
  m_done_cv.notify_all();
}

Worker::Worker(Messenger& messenger, unsigned threads, std::uint64_t memory_limit,
               MemoryThresholds thresholds)
    : m_messenger(messenger),
      m_data(messenger, [this](DataId id, bool ok, int from) { on_arrival(id, ok, from); },
             [this](std::exception_ptr e) { stop_serving(std::move(e)); }, memory_limit, thresholds),
      m_num_threads(threads == 0 ? 1 : threads) {
  m_data.set_clock_origin(m_t0);
  // The tasks' working memory (shuffle pieces, assembled partitions) counts against the limit.
  set_working_memory_store(&m_data.store());
  m_shuffle = MpiShuffleService::create(m_messenger, m_data,
                                        [this](std::exception_ptr e) { stop_serving(std::move(e)); });
  install_shuffle_service(m_shuffle);
  handle(tag_run, [this](int source, std::vector<std::byte>&& b) { on_run(source, std::move(b)); });
  handle(tag_release, [this](int, std::vector<std::byte>&& b) { m_data.erase(ReleaseRequest::decode(b).ids); });
  handle(tag_gather, [this](int source, std::vector<std::byte>&& b) {
    m_data.serve(source, GatherRequest::decode(b).ids);
  });
  handle(tag_stats_request, [this](int source, std::vector<std::byte>&& b) {
    (void)StatsRequest::decode(b);
    StatsReply s;
    s.tasks_run = m_tasks_run.load();
    s.bytes_fetched = m_data.bytes_fetched();
    s.bytes_served = m_data.bytes_served();
    s.peak_rss = peak_rss();
    s.held_bytes = m_data.held_bytes();
    s.busy_seconds = static_cast<double>(m_busy_ns.load()) * 1e-9;
    const auto mem = m_data.memory_stats();
    s.memory_limit = mem.limit;
    s.held_peak = mem.peak;
    s.bytes_spilled = mem.bytes_spilled;
    s.bytes_unspilled = mem.bytes_unspilled;
    s.spill_seconds = mem.spill_seconds + mem.unspill_seconds;
    s.pauses = m_pauses.load();
    s.ready_rss = m_ready_rss;
    m_messenger.send(source, tag_stats_reply, s.encode());
  });
  handle(tag_shutdown, [this](int, std::vector<std::byte>&& b) {
    const int code = Shutdown::decode(b).exit_code;
    std::lock_guard lock(m_done_mutex);
    m_exit_code = code;
    m_shutdown = true;
    m_done_cv.notify_all();
  });
  m_threads.reserve(m_num_threads);
  for (unsigned i = 0; i < m_num_threads; ++i) m_threads.emplace_back([this, i] { thread_main(i); });
  m_ready_rss = current_rss();
}

Worker::~Worker() {
  {
    std::lock_guard lock(m_ready_mutex);
    m_stopping = true;
  }
  m_ready_cv.notify_all();
  for (auto& t : m_threads) t.join();
  close_checkpoint_shards();  // seals what a run that did not end batched
  install_shuffle_service(nullptr);
  set_working_memory_store(nullptr);
}

double Worker::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
}

void Worker::on_run(int, std::vector<std::byte>&& bytes) {
  // Decoded whole before anything is queued: a malformed batch runs none of its tasks.
  auto batch = RunBatch::decode(bytes, m_messenger.size());
  std::unordered_map<int, std::vector<DataId>> to_fetch;
  for (auto& run : batch.tasks) {
    auto t = std::make_shared<Task>();
    t->id = run.id;
    t->key = std::move(run.key);
    t->entry = run.entry;
    t->state = std::move(run.state);
    t->inputs.resize(run.inputs.size());
    for (std::size_t j = 0; j < run.inputs.size(); ++j) {
      const auto [id, holder] = run.inputs[j];
      t->inputs[j] = id;
      if (!m_data.has(id)) {
        auto& waiters = m_waiting[id];
        if (waiters.empty() || waiters.back() != t) {
          if (waiters.empty()) to_fetch[holder].push_back(id);
          waiters.push_back(t);
          ++t->missing;
        }
      }
    }
    if (t->missing == 0) make_ready(std::move(t));
  }
  for (auto& [holder, ids] : to_fetch) m_data.request(holder, ids);
}

void Worker::on_arrival(DataId id, bool ok, int from) {
  auto it = m_waiting.find(id);
  if (it == m_waiting.end()) return;
  auto waiters = std::move(it->second);
  m_waiting.erase(it);
  for (auto& t : waiters) {
    if (!ok) {
      fail_task(*t, "tessera::TransportError",
                "input " + std::to_string(id) + " could not be fetched from rank " + std::to_string(from));
      continue;
    }
    if (--t->missing == 0) make_ready(t);
  }
}

void Worker::make_ready(std::shared_ptr<Task> t) {
  {
    std::lock_guard lock(m_ready_mutex);
    m_ready.push_back(std::move(t));
  }
  m_ready_cv.notify_one();
}

void Worker::thread_main(unsigned index) {
  while (true) {
    std::shared_ptr<Task> t;
    {
      std::unique_lock lock(m_ready_mutex);
      m_ready_cv.wait(lock, [&] { return m_stopping || !m_ready.empty(); });
      if (m_ready.empty()) return;
      // Above the pause threshold no new task starts while another one runs: results are
      // being spilled or released and memory falls. With nothing running, one task always
      // starts, so the worker cannot stall itself.
      if (m_data.above_pause() && m_running.load() > 0) {
        ++m_pauses;
        while (!m_stopping && m_data.above_pause() && m_running.load() > 0) {
          m_ready_cv.wait_for(lock, std::chrono::milliseconds(5));
        }
        if (m_ready.empty()) continue;
      }
      t = std::move(m_ready.front());
      m_ready.pop_front();
    }
    note_running(+1);
    execute(*t, index);
    note_running(-1);
    m_ready_cv.notify_all();
  }
}

void Worker::note_running(int delta) {
  // With every task thread busy the comm thread polls less often, leaving the cores to the
  // tasks; with a thread free it polls often and answers peers quickly.
  std::lock_guard lock(m_busy_mutex);
  const int now = m_running.fetch_add(delta) + delta;
  m_messenger.set_busy(now >= static_cast<int>(m_num_threads));
}

namespace {
std::uint64_t decoded_copies(const std::vector<Value>& inputs) {
  std::uint64_t n = 0;
  for (const auto& v : inputs) n += v.is_serialized() ? v.nbytes() : 0;
  return n;
}
}  // namespace

void Worker::execute(const Task& t, unsigned index) {
  Completion c;
  c.id = t.id;
  c.thread = static_cast<std::int32_t>(index);
  c.start = now();
  // Each input is pinned once it is in memory: one read back from the spill file is held
  // only from get() on, and an unpinned one could be dropped again (its blob is on disk) while
  // the task still holds it, leaving the ledger short of what the worker holds.
  std::vector<DataId> pinned;
  pinned.reserve(t.inputs.size());
  try {
    std::vector<Value> inputs;
    inputs.reserve(t.inputs.size());
    for (auto id : t.inputs) {
      Value v = m_data.get(id);
      if (v.empty()) {
        TESSERA_THROW(TransportError, "input ", id, " of task '", t.key, "' is missing on rank ",
                      m_messenger.rank());
      }
      m_data.pin({id});
      pinned.push_back(id);
      inputs.push_back(std::move(v));
    }
    // A serialized input (fetched, or read back from the spill file) is decoded into a live
    // copy for the call: charged to the memory limit while the task runs, before it exists.
    MemoryCharge decoded = m_data.store().charge(decoded_copies(inputs));
    const auto entry = reinterpret_cast<RemoteEntry>(const_cast<void*>(resolve_code_ref(t.entry)));
    ByteReader state(t.state);
    Value result = entry(state, inputs);
    inputs.clear();
    c.nbytes = result.nbytes();
    m_data.put(t.id, std::move(result));
  } catch (const std::exception& e) {
    c.ok = false;
    c.type = current_exception_type();
    c.message = e.what();
  } catch (...) {
    c.ok = false;
    c.type = current_exception_type();
    c.message = "non-standard exception";
  }
  m_data.unpin(pinned);
  c.stop = now();
  m_busy_ns += static_cast<std::int64_t>((c.stop - c.start) * 1e9);
  ++m_tasks_run;
  complete(std::move(c));
}

void Worker::fail_task(const Task& t, const std::string& type, const std::string& message) {
  Completion c;
  c.id = t.id;
  c.ok = false;
  c.type = type;
  c.message = message;
  c.start = c.stop = now();
  complete(std::move(c));
}

void Worker::complete(Completion c) {
  std::lock_guard lock(m_done_mutex);
  m_done.push_back(std::move(c));
  if (m_done.size() == 1) m_done_cv.notify_one();
}

int Worker::serve() {
  std::unique_lock lock(m_done_mutex);
  while (true) {
    m_done_cv.wait(lock, [&] { return m_shutdown || !m_done.empty() || m_failure; });
    if (m_failure) std::rethrow_exception(m_failure);
    if (!m_done.empty()) {
      std::vector<Completion> batch;
      batch.swap(m_done);
      lock.unlock();
      DoneBatch done;
      // The worker's memory state travels with every completion batch: the scheduler places
      // no new work on a worker that is above its pause threshold.
      done.paused = m_data.above_pause();
      done.completions = std::move(batch);
      // Fetches, spills and reads back since the last batch, for the task stream.
      done.events = m_data.take_events();
      m_messenger.send(0, tag_done, done.encode());
      lock.lock();
      continue;
    }
    if (m_shutdown) return m_exit_code;
  }
}

}  // namespace tessera::detail::mpi
