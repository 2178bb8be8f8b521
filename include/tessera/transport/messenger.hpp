#pragma once

/// @file
/// tessera::Messenger: the point-to-point data plane of the distributed scheduler. One
/// background communication thread per process owns all point-to-point MPI traffic on a
/// private duplicate of a communicator, so no other thread ever calls MPI. It moves tagged
/// byte messages; it knows nothing of tasks or graphs. This header does not include <mpi.h>.
///
/// @code
/// tessera::Messenger m(env.world());
/// m.on(tags::result, [](int source, std::vector<std::byte>&& bytes) { ... });  // comm thread
/// m.send(peer, tags::request, std::vector<std::byte>{...});                     // any thread
/// auto msg = m.receive(tags::done);                                             // blocks
/// m.shutdown();
/// @endcode
///
/// Ordering: messages from one source are delivered (to a handler or a receive queue) in the
/// order that source's send() calls were made, across all tags. Big messages therefore hold
/// back later small ones from the same source until they have arrived completely.
///
/// Performance: other threads may call Comm collectives while a Messenger runs, but a thread
/// blocked in one (barrier, all_reduce) spins in Open MPI's progress engine and slows the comm
/// thread down badly; wait on receive()/receive_for() instead where possible.
///
/// Liveness: with heartbeats on, every rank other than the monitor (rank 0) sends a tiny
/// heartbeat to the monitor whenever it sent it nothing for `heartbeat_interval`, and rank 0
/// sends one to every rank it sent nothing for as long; rank 0 reports a rank that stayed
/// silent for `heartbeat_timeout` through on_rank_lost() and lost_ranks(), and every other rank
/// reports rank 0 the same way (so workers notice that the scheduler is gone). Nothing is
/// reported once shutdown() was called. A rank that crashes normally takes the whole job down: Open MPI's mpirun
/// notices the dead process and kills the others ("mpirun noticed that process rank 2 ...
/// exited on signal 9"). A rank that hangs, or a launcher that does not kill the job, is what
/// the heartbeat is for: the scheduler on rank 0 reacts to on_rank_lost (e.g. Environment::abort)
/// so the job ends instead of hanging. receive_for() and shutdown() take deadlines for the same
/// reason.

#include <tessera/transport/comm.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace tessera {

/// A received message.
struct Message {
  int source = -1;
  int tag = -1;
  std::vector<std::byte> bytes;
};

/// Messages and bytes exchanged with one peer, counting whole user messages (not pieces, not
/// heartbeats).
struct PeerCounters {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
};

/// The point-to-point messenger (see the file comment). Construct one per process, after the
/// Environment and destroyed before it.
class Messenger {
public:
  /// Tags 0 .. max_tag are the caller's; tags above are used internally.
  static constexpr int max_tag = 30000;

  /// Called on the comm thread with (source, bytes). Must not block for long: it holds up all
  /// other traffic of this process. May call send().
  using Handler = std::function<void(int source, std::vector<std::byte>&& bytes)>;
  /// Called on the monitor's comm thread with (rank, seconds it has been silent).
  using LostHandler = std::function<void(int rank, double silent_seconds)>;

  struct Options {
    /// A message bigger than this is sent as several pieces and reassembled on arrival. At
    /// most 1 GiB (MPI counts are int); lower it only to test the split path.
    std::size_t split_threshold = std::size_t{1} << 30;
    /// Heartbeat period of non-monitor ranks; zero disables heartbeats (and monitoring).
    std::chrono::milliseconds heartbeat_interval{500};
    /// Silence after which the monitor reports a rank as lost. Defaults to the environment
    /// variable TESSERA_HEARTBEAT_TIMEOUT (whole seconds), else 10 s.
    std::optional<std::chrono::milliseconds> heartbeat_timeout;
    /// How long the comm thread busy-polls after its last piece of work before it starts
    /// sleeping between polls.
    std::chrono::microseconds spin{200};
    /// Sleep between polls once idle (a send() wakes the thread at once).
    std::chrono::microseconds idle_sleep{50};
    /// Sleep between polls while the owner says it is busy (set_busy): every poll takes the
    /// core from the computation for a few microseconds, and at 50 us naps that slowed a worker
    /// with one core by a third; at 500 us the cost is a few percent, and a message waits at
    /// most that long.
    std::chrono::microseconds busy_sleep{500};
    /// Longest shutdown() waits for pending sends and partly received messages.
    std::chrono::milliseconds shutdown_timeout{60000};
  };

  /// Duplicates `comm` and starts the comm thread.
  /// Collective: every rank of `comm`.
  /// Throws: TransportError if MPI provides less than MPI_THREAD_MULTIPLE, on bad options
  /// or on MPI failure; ConfigError for a malformed TESSERA_HEARTBEAT_TIMEOUT.
  explicit Messenger(const Comm& comm);
  Messenger(const Comm& comm, Options options);
  /// Calls shutdown() if it was not called, reporting (not throwing) its errors on stderr.
  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  /// This process's rank and the communicator size.
  [[nodiscard]] int rank() const noexcept;
  [[nodiscard]] int size() const noexcept;

  /// Queues `payload` for rank `dest` with `tag` and returns at once. The bytes are sent
  /// straight from `payload` (which must not change until released) and the pointer is
  /// released when the send has completed. Messages bigger than the split threshold are sent
  /// in pieces. Sending to one's own rank works.
  /// Point-to-point. Thread safety: any thread.
  /// Throws: TransportError for a bad dest or tag, after shutdown(), or if the comm thread
  /// failed (carrying its error).
  void send(int dest, int tag, std::shared_ptr<const std::vector<std::byte>> payload);
  /// As above, taking ownership of `payload`.
  void send(int dest, int tag, std::vector<std::byte>&& payload);
  /// Sends the concatenation of `pieces` as one message, straight from their memory (no
  /// gathering copy): the receiver gets one contiguous buffer. `keep` owns the pieces' memory
  /// and is released when the send has completed. `size` must be the sum of the pieces' sizes.
  /// Point-to-point. Thread safety: any thread. Throws: as send(), and TransportError if `size`
  /// does not match.
  void send(int dest, int tag, std::vector<std::span<const std::byte>> pieces,
            std::shared_ptr<const void> keep, std::size_t size);

  /// Routes every message with `tag` to `handler`, on the comm thread, including messages
  /// that arrived before the call. Replaces an earlier handler of the tag.
  /// Thread safety: any thread. Throws: TransportError for a bad tag.
  void on(int tag, Handler handler);

  /// Next message with `tag` (of a tag without a handler), waiting as long as it takes.
  /// Blocks. Thread safety: any thread.
  /// Throws: TransportError if the tag has a handler, or once the comm thread failed or
  /// stopped with no such message left.
  [[nodiscard]] Message receive(int tag);
  /// As receive(), giving up after `timeout` (nullopt).
  [[nodiscard]] std::optional<Message> receive_for(int tag, std::chrono::milliseconds timeout);
  /// As receive(), without waiting.
  [[nodiscard]] std::optional<Message> try_receive(int tag);

  /// Called on the comm thread once for each watched rank found silent for the heartbeat
  /// timeout (on rank 0: any other rank; elsewhere: rank 0). Thread safety: any thread.
  void on_rank_lost(LostHandler handler);
  /// Ranks found silent so far (on a non-zero rank: {0} or empty). Thread safety: any thread.
  [[nodiscard]] std::vector<int> lost_ranks() const;
  /// Says whether this process's cores are all busy computing: the comm thread then polls every
  /// busy_sleep instead of idle_sleep once idle. Thread safety: any thread.
  void set_busy(bool busy) noexcept;
  /// Stops (true) or resumes (false) this rank's heartbeats: lets a test play a hung rank.
  void suspend_heartbeats(bool suspended) noexcept;

  /// Stops accepting sends, waits until every queued send has completed and every partly
  /// received message has arrived (delivering it), then stops the comm thread. Idempotent.
  /// Local (no collective), but see the ordering note: a peer that still sends big messages
  /// to a rank that has shut down waits for them until its own shutdown timeout.
  /// Throws: TransportError if the comm thread failed or the drain passed shutdown_timeout,
  /// naming the ranks with pending sends.
  void shutdown();

  /// Counters per peer rank (index = rank). Thread safety: any thread.
  [[nodiscard]] std::vector<PeerCounters> counters() const;

  /// The private communicator the messenger runs on (for tests and diagnostics; do not use
  /// it for point-to-point traffic).
  [[nodiscard]] Comm comm() const noexcept;

  class Impl;

private:
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tessera
