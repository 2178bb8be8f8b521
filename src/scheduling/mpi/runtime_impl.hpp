#pragma once

// Private to the MPI backend: the state every rank's tessera::Runtime holds (Runtime::Impl),
// shared by the runtime's lifecycle (runtime.cpp) and rank 0's scheduler (mpi_scheduler.cpp).

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

/// Decodes message M from `source`; a ProtocolError names the source.
template <class M, class... Context>
M decode_from(int source, const std::vector<std::byte>& bytes, Context... context) {
  try {
    return M::decode(bytes, context...);
  } catch (const proto::ProtocolError& e) {
    throw e.from_rank(source);
  }
}


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

/// Rank 0's scheduler over `rt` (mpi_scheduler.cpp).
std::shared_ptr<Scheduler> make_mpi_scheduler(std::shared_ptr<Runtime::Impl> rt);

}  // namespace tessera
