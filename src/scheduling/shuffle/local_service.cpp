// The in-process shuffle service of the sync and threads schedulers: pieces live in the
// process's ResultStore (local_result_store() under TESSERA_MEMORY_LIMIT, where they are
// spilled to HDF5 like any result; else an unlimited store of the service's own), under the id
// ShuffleSpec::piece_id(j, i), so a retried transfer replaces its pieces.

#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/scheduling/local_store.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace tessera::detail {

namespace {

/// Piece ids start far above the ids local runs give their results (run << 32 | node).
constexpr std::uint64_t first_piece_id = std::uint64_t{1} << 62;
std::atomic<std::uint64_t> g_next_piece_id{first_piece_id};
std::atomic<std::uint64_t> g_next_seq{1};

thread_local std::uint64_t t_current_run = 0;

class LocalShuffleService final : public ShuffleService {
public:
  LocalShuffleService() : m_store(local_result_store()) {
    if (!m_store) m_store = std::make_shared<ResultStore>(ResultStore::Options{});
  }

  [[nodiscard]] int rank() const noexcept override { return 0; }

  void put(const ShuffleSpec& spec, const std::string& /*name*/, std::uint32_t input,
           std::vector<Value> pieces) override {
    note(spec, current_shuffle_run());
    for (std::uint32_t j = 0; j < pieces.size(); ++j) {
      const auto bytes = pieces[j].nbytes();
      const auto id = spec.piece_id(j, input);
      const bool replaced = m_store->has(id);
      m_store->put(id, std::move(pieces[j]));
      std::lock_guard lock(m_mutex);
      m_stats.pieces_put += 1;
      m_stats.bytes_put += bytes;
      if (!replaced) m_stats.pieces_held += 1;
    }
  }

  ResultStore::Taken take(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) override {
    m_failed.check(spec, name, output);
    std::vector<ResultStore::Id> ids;
    ids.reserve(spec.n_in);
    std::uint64_t read_back = 0;
    std::vector<std::size_t> spilled;  // indexes of the pieces read back
    for (std::uint32_t i = 0; i < spec.n_in; ++i) {
      const auto id = spec.piece_id(output, i);
      if (!m_store->has(id)) {
        TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": the piece of input partition ", i,
                      " for output partition ", output, " of ", spec.n_out,
                      " is not stored in this process (rank ", rank(),
                      "): its transfer did not run here, or output ", output, " was already unpacked");
      }
      if (m_store->is_spilled(id)) {
        ++read_back;
        spilled.push_back(ids.size());
      }
      ids.push_back(id);
    }
    // Out of the store, still counted against its limit: the unpack task holds them now.
    auto taken = m_store->take(ids);
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

  void note_failed_output(const ShuffleSpec& spec, std::uint32_t output, std::string error) noexcept override {
    m_failed.note(spec, output, std::move(error));
  }

  void drop(std::uint64_t id) noexcept override {
    m_failed.forget(id);
    ShuffleSpec spec;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_specs.find(id);
      if (it == m_specs.end()) return;
      spec = it->second;
      m_specs.erase(it);
    }
    std::vector<ResultStore::Id> ids;
    std::uint64_t held = 0;
    for (std::uint32_t j = 0; j < spec.n_out; ++j) {
      for (std::uint32_t i = 0; i < spec.n_in; ++i) {
        const auto pid = spec.piece_id(j, i);
        if (m_store->has(pid)) {
          ids.push_back(pid);
          ++held;
        }
      }
    }
    m_store->erase(ids);
    std::lock_guard lock(m_mutex);
    m_stats.pieces_held -= std::min(m_stats.pieces_held, held);
  }

  [[nodiscard]] Stats stats() const override {
    std::lock_guard lock(m_mutex);
    return m_stats;
  }

  void end_run(std::uint64_t run) noexcept {
    std::unordered_set<std::uint64_t> ids;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_by_run.find(run);
      if (it == m_by_run.end()) return;
      ids = std::move(it->second);
      m_by_run.erase(it);
    }
    for (auto id : ids) drop(id);
  }

private:
  /// Remembers the shuffle (for drop) and the run that touched it (for end_run).
  void note(const ShuffleSpec& spec, std::uint64_t run) {
    std::lock_guard lock(m_mutex);
    m_specs.emplace(spec.id, spec);
    m_by_run[run].insert(spec.id);
  }

  std::shared_ptr<ResultStore> m_store;
  FailedOutputs m_failed;
  mutable std::mutex m_mutex;
  Stats m_stats;
  std::unordered_map<std::uint64_t, ShuffleSpec> m_specs;  // by spec id: shuffles with pieces
  std::unordered_map<std::uint64_t, std::unordered_set<std::uint64_t>> m_by_run;
};

LocalShuffleService& local_service() {
  static LocalShuffleService service;
  return service;
}

std::mutex g_stats_mutex;
std::function<ShuffleService::Stats()> g_worker_stats;

std::mutex g_installed_mutex;
std::shared_ptr<ShuffleService> g_installed;
std::atomic<ShuffleService*> g_installed_raw{nullptr};

}  // namespace

ShuffleSpec new_shuffle_spec(std::uint32_t n_in, std::uint32_t n_out) {
  ShuffleSpec spec;
  spec.n_in = n_in;
  spec.n_out = n_out;
  // At least one id, so that two shuffles never share a spec id.
  const auto count = std::max<std::uint64_t>(1, std::uint64_t{n_in} * n_out);
  spec.id = g_next_piece_id.fetch_add(count);
  spec.seq = g_next_seq.fetch_add(1);
  return spec;
}

std::uint64_t shuffles_built() noexcept { return g_next_seq.load() - 1; }

std::string shuffle_label(const ShuffleSpec& spec, const std::string& name) {
  return "shuffle '" + name + "' #" + std::to_string(spec.seq);
}

ShuffleService& local_shuffle_service() { return local_service(); }

ShuffleService& shuffle_service() {
  if (auto* s = g_installed_raw.load(std::memory_order_acquire)) return *s;
  return local_service();
}

void install_shuffle_service(std::shared_ptr<ShuffleService> service) {
  std::lock_guard lock(g_installed_mutex);
  g_installed_raw.store(service.get(), std::memory_order_release);
  g_installed = std::move(service);
}

ShuffleService::Stats worker_shuffle_stats() {
  std::function<ShuffleService::Stats()> source;
  {
    std::lock_guard lock(g_stats_mutex);
    source = g_worker_stats;
  }
  return source ? source() : local_service().stats();
}

void set_worker_shuffle_stats(std::function<ShuffleService::Stats()> source) {
  std::lock_guard lock(g_stats_mutex);
  g_worker_stats = std::move(source);
}

void FailedOutputs::note(const ShuffleSpec& spec, std::uint32_t output, std::string error) noexcept {
  try {
    std::lock_guard lock(m_mutex);
    m_errors[{spec.id, output}] = std::move(error);
  } catch (...) {
    // Without the note a retry reports the missing pieces instead: still an error.
  }
}

void FailedOutputs::check(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) const {
  std::lock_guard lock(m_mutex);
  auto it = m_errors.find({spec.id, output});
  if (it == m_errors.end()) return;
  TESSERA_THROW(ShuffleError, shuffle_label(spec, name), ": output partition ", output,
                " is not unpacked again (an earlier attempt consumed its pieces): ", it->second);
}

void FailedOutputs::forget(std::uint64_t id) noexcept {
  std::lock_guard lock(m_mutex);
  for (auto it = m_errors.lower_bound({id, 0}); it != m_errors.end() && it->first.first == id;) {
    it = m_errors.erase(it);
  }
}

ShuffleTraffic shuffle_traffic(int rank, const ShuffleService::Stats& before, const ShuffleService::Stats& after) {
  ShuffleTraffic t;
  t.rank = rank;
  t.bytes_sent = after.bytes_sent - before.bytes_sent;
  t.bytes_received = after.bytes_received - before.bytes_received;
  t.bytes_stored = after.bytes_put - before.bytes_put;
  t.bytes_read_back = after.bytes_read_back - before.bytes_read_back;
  t.pieces_stored = after.pieces_put - before.pieces_put;
  return t;
}

ShuffleRunScope::ShuffleRunScope(std::uint64_t run) noexcept : m_previous(t_current_run) {
  t_current_run = run;
}

ShuffleRunScope::~ShuffleRunScope() { t_current_run = m_previous; }

std::uint64_t current_shuffle_run() noexcept { return t_current_run; }

void end_shuffle_run(std::uint64_t run) noexcept { local_service().end_run(run); }

}  // namespace tessera::detail
