#pragma once

// Private to the MPI backend: where a run left its results, the references persist() and
// scatter hand out to results kept on workers, and releasing what a run no longer needs.

#include "scheduling/mpi/run_router.hpp"
#include "scheduling/mpi/runtime_impl.hpp"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera {

/// A persisted result kept on workers: on its owner (the worker that computed it, first of
/// ranks()) and, once broadcast, on more workers. The last handle frees every copy.
/// Thread safety: every member may be called from any thread.
class MpiResultRef final : public detail::ResultRef {
public:
  MpiResultRef(std::weak_ptr<Runtime::Impl> rt, std::weak_ptr<proto::RunRouter> router, DataId id, int rank,
               std::uint64_t nbytes)
      : m_rt(std::move(rt)), m_router(std::move(router)), m_id(id), m_ranks{rank}, m_nbytes(nbytes) {}
  ~MpiResultRef() override;
  [[nodiscard]] Value fetch() const override;
  [[nodiscard]] const void* owner() const noexcept override { return m_rt.lock().get(); }
  [[nodiscard]] DataId id() const noexcept { return m_id; }
  /// The ranks holding it, the owner first.
  [[nodiscard]] std::vector<int> ranks() const;
  [[nodiscard]] std::uint64_t nbytes() const noexcept { return m_nbytes; }
  /// Copies a run made on `more` ranks are kept as this result's: counted in the router
  /// (as held by a run) until the last handle goes.
  void adopt(const std::vector<int>& more) const;

private:
  std::weak_ptr<Runtime::Impl> m_rt;
  std::weak_ptr<proto::RunRouter> m_router;
  DataId m_id;
  mutable std::mutex m_mutex;
  mutable std::vector<int> m_ranks;  // guarded by m_mutex
  std::uint64_t m_nbytes;
};

/// Where one run left each node's result, and what failed.
struct Outcome {
  std::vector<DataId> ids;
  std::vector<std::vector<int>> holders;
  std::vector<std::uint64_t> nbytes;
  std::vector<bool> borrowed;  // result owned by an earlier persist: never released here
  std::vector<std::uint32_t> pinned;  // borrowed: holders[0, pinned) are the persisted copies
  std::vector<bool> shared;    // borrowed, or an output of a persisting run: other runs may use it
  std::vector<bool> released;
  std::vector<std::exception_ptr> errors;  // per node, keep_going only
  std::vector<detail::NodePtr> kept;       // persist: the node returned for an output

  explicit Outcome(std::size_t n = 0);
};

/// The node persist() returns for output i: a reference to the result on its first holder.
detail::NodePtr kept_node(const std::shared_ptr<Runtime::Impl>& rt, const std::shared_ptr<proto::RunRouter>& router,
                          const Outcome& oc, const ExecGraph& g, std::uint32_t i);

/// Results a run frees: its own go at once; copies of shared results (Outcome::shared) go
/// through the RunRouter, which keeps each while another run still counts on it.
struct Releases {
  proto::RunRouter::Releases own;
  std::vector<std::pair<DataId, int>> shared;
};

/// Queues result i for release on every rank holding it, except the persisted copies of a
/// borrowed result (holders[0, pinned)): only the copies workers fetched in this run go.
void release(Outcome& oc, std::uint32_t i, Releases& out);
/// Sends the queued releases (rank 0's own results are erased here) and clears the queue.
void send_releases(Runtime::Impl& rt, proto::RunRouter::Releases& batches);
/// Sends the queued releases and clears them.
void send_releases(Runtime::Impl& rt, proto::RunRouter& router, Releases& r);
/// Releases every result of the run not released yet.
void release_all(Runtime::Impl& rt, proto::RunRouter& router, Outcome& oc, const ExecGraph& g);
/// RunContext::keep_input_copies: the copies of borrowed results that workers fetched in this
/// run become the persisted results' own (MpiResultRef::adopt), instead of being released.
void adopt_input_copies(Outcome& oc, const ExecGraph& g);

}  // namespace tessera
