#pragma once

// Private: the shuffle service of an MPI worker, and rank 0's side of it.
//
// A transfer task on worker w sends the pieces of output j straight to the owner of j, worker
// hinted_worker(shuffle_worker_hint(j), workers), the worker where rank 0 places unpack task j:
// one message per owner (the pieces sent from their own memory, no gathering copy), and
// returns only when every owner acknowledged storing them, so the barrier after the transfers
// means every piece is stored. The owner keeps the pieces in the worker's result store (its
// DataPlane's ResultStore: held under the worker's memory limit, spilled to its private spill
// directory), under the piece ids of the shuffle's spec; a retried transfer replaces its pieces.
// Unpack j takes them from there. At the end of every run rank 0 tells each worker to drop
// every piece it still holds (outputs not computed, failed or cancelled runs) and waits for the
// answers, so the next run starts clean (MPI runs one compute at a time).
//
// Messages: src/scheduling/mpi/protocol_shuffle.hpp (put, body, ack, drop, dropped, stats,
// stats_reply), on tags of their own, handled on the messenger's comm thread. A put's large
// pieces (from 64 KiB) travel as body messages of their own, right after it: the owner matches
// the bodies to the put's list in order (the messenger delivers one source's messages in
// order). A message that does not decode, or a body that disagrees with its put, stops the
// worker with a ProtocolError naming the message and the rank that sent it.

#include "scheduling/mpi/data_plane.hpp"
#include "scheduling/mpi/protocol_shuffle.hpp"

#include <tessera/scheduling/detail/shuffle_service.hpp>
#include <tessera/scheduling/scheduler.hpp>
#include <tessera/transport/messenger.hpp>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tessera::detail::mpi {

class MpiShuffleService final : public ShuffleService, public std::enable_shared_from_this<MpiShuffleService> {
public:
  /// Called (comm thread) with the ProtocolError of a message that does not decode.
  using Failure = DataPlane::Failure;
  /// Use create(): the message handlers hold the service weakly.
  MpiShuffleService(Messenger& messenger, DataPlane& data, Failure on_failure);
  /// Makes the service and registers its handlers with `messenger`.
  static std::shared_ptr<MpiShuffleService> create(Messenger& messenger, DataPlane& data, Failure on_failure);

  [[nodiscard]] int rank() const noexcept override;
  void put(const ShuffleSpec& spec, const std::string& name, std::uint32_t input,
           std::vector<Value> pieces) override;
  ResultStore::Taken take(const ShuffleSpec& spec, const std::string& name, std::uint32_t output) override;
  void note_failed_output(const ShuffleSpec& spec, std::uint32_t output, std::string error) noexcept override;
  void drop(std::uint64_t id) noexcept override;
  [[nodiscard]] Stats stats() const override;

  /// Forgets every piece of every shuffle this worker holds.
  void drop_all() noexcept;

private:
  struct Pending {
    int remaining = 0;
    std::string error;
  };
  /// A put message whose large pieces are still to come (comm thread).
  struct Incoming {
    std::uint64_t token = 0;
    ShuffleSpec spec;
    std::uint32_t input = 0;
    struct Body {
      std::uint32_t output = 0;
      std::uint64_t size = 0;
    };
    std::deque<Body> bodies;  // the bodies to come, in order
    std::size_t next_body = 0;  // index of bodies.front() among the put's separate pieces
    std::string error;
  };

  [[nodiscard]] int owner_of(std::uint32_t output) const noexcept;
  void store(const ShuffleSpec& spec, std::uint32_t output, std::uint32_t input, Value piece);
  /// Registers `handler` for `tag`: a ProtocolError it throws goes to m_on_failure, naming
  /// the message's source.
  template <class H>
  static void handle(Messenger& messenger, const std::shared_ptr<MpiShuffleService>& service, int tag, H handler);
  void on_put(int source, std::vector<std::byte>&& bytes);
  void on_body(int source, std::vector<std::byte>&& bytes);
  void on_ack(std::vector<std::byte>&& bytes);
  void on_stats_request(int source, int reply_tag, bool drop);
  void note_received(std::size_t n);
  void acknowledge(int source, const Incoming& in);
  void send_pieces(int owner, std::uint64_t token, const ShuffleSpec& spec, std::uint32_t input,
                   const std::vector<std::uint32_t>& outputs, const std::vector<Value>& pieces);

  Messenger& m_messenger;
  DataPlane& m_data;
  Failure m_on_failure;
  FailedOutputs m_failed;
  mutable std::mutex m_mutex;
  std::condition_variable m_acked;
  std::uint64_t m_next_token = 1;
  std::unordered_map<std::uint64_t, Pending> m_pending;    // by token
  std::unordered_map<std::uint64_t, ShuffleSpec> m_specs;  // shuffles with pieces stored here
  std::unordered_map<int, std::deque<Incoming>> m_incoming;  // by source
  std::mutex m_send_mutex;  // one put's messages go out back to back
  Stats m_stats;
};

/// Rank 0: makes worker_shuffle_stats() ask the workers through `messenger` (null: stop).
void attach_shuffle_driver(Messenger* messenger);
/// Rank 0, at the end of every run: if this process ever built a shuffle, tells every worker
/// to drop its pieces and waits for their answers, which carry the workers' shuffle stats: the
/// traffic of the run goes to ctx's observers. Never throws (reports on stderr).
void end_mpi_shuffle_run(const RunContext& ctx) noexcept;

}  // namespace tessera::detail::mpi
