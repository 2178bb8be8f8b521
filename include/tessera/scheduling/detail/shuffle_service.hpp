#pragma once

/// @file
/// Internal: the shuffle service, where the transfer tasks of tessera::shuffle leave their
/// pieces and the unpack tasks collect them. Not user API (collections use
/// <tessera/scheduling/shuffle.hpp>); public only because the templated task bodies of
/// shuffle() call it.
///
/// Pieces are keyed by (shuffle, output j, input i): a retried transfer overwrites its pieces
/// instead of adding them twice. In process (sync and threads schedulers) the service keeps
/// them in local_result_store() (held under TESSERA_MEMORY_LIMIT, spilled to HDF5 past it) or,
/// without a limit, in an unlimited store of its own. An MPI worker may install its own service
/// (install_shuffle_service); tasks always use shuffle_service().

#include <tessera/core/error.hpp>
#include <tessera/diagnostics/observer.hpp>
#include <tessera/serialization/value.hpp>
#include <tessera/storage/result_store.hpp>

#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

/// A split or combine function failed, a piece is missing, or a split returned the wrong
/// number of pieces. The message names the shuffle, the partition and, under MPI, the rank.
class ShuffleError : public Error {
public:
  using Error::Error;
};

namespace detail {

/// What identifies one shuffle() call in its tasks. `id` is the first of n_in * n_out piece ids
/// reserved for it; `seq` numbers the shuffles of this process (for messages).
struct ShuffleSpec {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;
  std::uint32_t n_in = 0;
  std::uint32_t n_out = 0;

  /// The id of the piece of input `i` for output `j`.
  [[nodiscard]] std::uint64_t piece_id(std::uint32_t j, std::uint32_t i) const noexcept {
    return id + static_cast<std::uint64_t>(j) * n_in + i;
  }
};

/// The worker_hint of unpack task j: its pieces go to rank hinted_worker(hint, workers).
[[nodiscard]] inline std::int32_t shuffle_worker_hint(std::uint32_t j) noexcept {
  return static_cast<std::int32_t>(j % static_cast<std::uint32_t>(INT32_MAX));
}

/// What a transfer task returns (and the barrier sums): counts only, never data.
struct ShuffleReceipt {
  std::uint64_t pieces = 0;
  std::uint64_t bytes = 0;
};

/// Reserves a fresh spec for a shuffle of n_in inputs into n_out outputs.
/// Thread safety: any thread.
ShuffleSpec new_shuffle_spec(std::uint32_t n_in, std::uint32_t n_out);

/// Remembers the combine failures of a service's outputs (note_failed_output) until the
/// shuffle is dropped. Thread safety: any thread.
class FailedOutputs {
public:
  void note(const ShuffleSpec& spec, std::uint32_t output, std::string error) noexcept;
  /// Throws ShuffleError with the recorded failure if `output` failed before; else nothing.
  void check(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) const;
  void forget(std::uint64_t id) noexcept;

private:
  mutable std::mutex m_mutex;
  std::map<std::pair<std::uint64_t, std::uint32_t>, std::string> m_errors;
};

/// A buffer of `size` bytes (contents unspecified) for a serialized piece, from the process's
/// BufferPool (core/buffer_pool.hpp): from BufferPool::min_recycled_bytes up, one that held an
/// earlier piece or message if one fits; it goes back to the pool when the last owner drops it.
/// Reused memory is written at memory speed; fresh memory faults a page at a time.
/// Thread safety: any thread.
[[nodiscard]] std::shared_ptr<Bytes> shuffle_buffer(std::size_t size);

/// How many shuffles this process built (new_shuffle_spec calls).
std::uint64_t shuffles_built() noexcept;

/// "shuffle 'name' #seq"
std::string shuffle_label(const ShuffleSpec& spec, const std::string& name);

class ShuffleService {
public:
  struct Stats {
    std::uint64_t pieces_put = 0, bytes_put = 0;          ///< stored by transfer tasks
    std::uint64_t pieces_collected = 0, bytes_collected = 0;  ///< read by unpack tasks
    std::uint64_t pieces_read_back = 0, bytes_read_back = 0;  ///< collected from the spill file
    std::uint64_t pieces_held = 0;                        ///< stored now (memory or spilled)
    std::uint64_t bytes_sent = 0, bytes_received = 0;     ///< to and from other ranks (MPI)
  };

  virtual ~ShuffleService() = default;

  /// The rank this service runs on (0 in process); named in errors.
  [[nodiscard]] virtual int rank() const noexcept = 0;
  /// Stores pieces[j] as the piece of input `input` for output j, for every j (replacing
  /// earlier ones). Returns when every piece is stored (where it belongs).
  /// Throws: StorageError if storing fails (full spill disk), ShuffleError.
  virtual void put(const ShuffleSpec& spec, const std::string& name, std::uint32_t input,
                   std::vector<Value> pieces) = 0;
  /// The n_in pieces of output `output`, in input order (Taken::values), and forgets them
  /// (they belong to the caller now); Taken::charge keeps their bytes counted against the
  /// memory limit of the store they came from until the caller lets go (ResultStore::take).
  /// Throws: ShuffleError naming the shuffle, output and first missing input (nothing is taken
  /// then); StorageError if reading a spilled piece back fails.
  virtual ResultStore::Taken take(const ShuffleSpec& spec, const std::string& name,
                                  std::uint32_t output) = 0;
  /// Records that the combine of `output` failed with `error` after take(): a retried unpack
  /// then fails with that error (its pieces are gone) instead of a missing piece. Never throws.
  virtual void note_failed_output(const ShuffleSpec& spec, std::uint32_t output, std::string error) noexcept = 0;
  /// Forgets every piece of the shuffle whose spec id is `id`. Never throws.
  virtual void drop(std::uint64_t id) noexcept = 0;
  [[nodiscard]] virtual Stats stats() const = 0;
};

/// The service tasks of this process use: the installed one, else the in-process one.
/// Thread safety: any thread.
ShuffleService& shuffle_service();
/// The in-process service (sync and threads schedulers).
ShuffleService& local_shuffle_service();
/// Makes `service` the one shuffle_service() returns (null: back to the in-process one).
void install_shuffle_service(std::shared_ptr<ShuffleService> service);

/// The shuffle statistics of the processes that run tasks: under MPI, on rank 0, the sum of the
/// workers' services (a round trip to each); elsewhere, the in-process service's.
/// Thread safety: any thread. Throws: TransportError if a worker does not answer.
ShuffleService::Stats worker_shuffle_stats();
/// Where worker_shuffle_stats() asks (set by the MPI runtime on rank 0; null: in process).
void set_worker_shuffle_stats(std::function<ShuffleService::Stats()> source);

/// The traffic between two snapshots of a service's stats, as observers see it.
ShuffleTraffic shuffle_traffic(int rank, const ShuffleService::Stats& before, const ShuffleService::Stats& after);

/// Marks the tasks the calling thread runs while it lives as tasks of run `run` (local
/// schedulers, around each task): the shuffles those tasks touch are dropped by
/// end_shuffle_run(run). Nests (a task may call compute()).
class ShuffleRunScope {
public:
  explicit ShuffleRunScope(std::uint64_t run) noexcept;
  ~ShuffleRunScope();
  ShuffleRunScope(const ShuffleRunScope&) = delete;
  ShuffleRunScope& operator=(const ShuffleRunScope&) = delete;

private:
  std::uint64_t m_previous;
};
/// The run the calling thread works for; 0 outside a ShuffleRunScope.
std::uint64_t current_shuffle_run() noexcept;
/// Drops everything of the shuffles tasks of run `run` touched in the in-process service
/// (pieces of outputs whose unpack did not run: culled, failed or cancelled). Never throws.
void end_shuffle_run(std::uint64_t run) noexcept;

}  // namespace detail
}  // namespace tessera
