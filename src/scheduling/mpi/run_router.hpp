#pragma once

// Private to the MPI backend: the computations rank 0 runs at the same time. A Client runs each
// batch of futures in its own thread, the driver may call compute() meanwhile, and a task that
// submits tasks waits inside its parent's batch: each of those is one MpiRun, and they must
// overlap (a run that waited for another could wait forever). What they share lives here:
//
//   - the result ids: every run owns a contiguous range of them (open());
//   - the placement: one count of the tasks each worker has in flight, so a run sees the
//     slots another run holds (a 2 s task keeps its worker busy for everybody);
//   - the one receiver of tag_done: whichever run waits becomes the receiver while nobody
//     else is, and hands every completion to the run whose range holds its id (wait());
//   - the copies workers hold of results several runs use (persisted results, a persisting
//     run's outputs): a run that sends a task to a worker counts that worker's copy, and the
//     copy is released when the last run that counted it lets go (release_copies), so one run
//     never frees a copy a task of another run was told it will find.
//
// Thread safety: every member may be called from any thread; a run's Inbox is filled by the
// receiver and emptied only by its own run.

#include "scheduling/mpi/placement.hpp"
#include "scheduling/mpi/protocol_tasks.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera {
class Messenger;
}

namespace tessera::detail::mpi {

class RunRouter {
public:
  /// Results to free, by rank.
  using Releases = std::unordered_map<int, std::vector<DataId>>;
  /// Sends releases (and clears them); called with the router's lock held.
  using ReleaseSender = std::function<void(Releases&)>;

  /// `threads[w]`: task threads of rank w (index 0 unused); `ranks`: the communicator size.
  RunRouter(Messenger& messenger, std::vector<unsigned> threads, int ranks, ReleaseSender send);

  /// A completion and the worker it came from.
  struct Routed {
    int source = 0;
    Completion completion;
  };
  /// What the receiver handed to one run since it last looked.
  struct Mail {
    std::vector<Routed> completions;
    /// Transfers of this run's results; when only this run is open, every transfer.
    std::vector<TransferEvent> events;
    /// Transfers of results no open run owns, while several are open (a result persisted
    /// earlier, an input of some of them): each run reports those it knows.
    std::vector<TransferEvent> foreign_events;
    /// Some completion (of any run) came in: a worker slot may have been freed.
    bool slots_freed = false;
  };

  /// One run's registration: its ids are [first, first + count).
  class Run {
  public:
    [[nodiscard]] DataId first() const noexcept { return m_first; }

  private:
    friend class RunRouter;
    DataId m_first = 0, m_end = 0;
    Mail m_mail;
  };

  /// Registers a run that needs `count` result ids.
  void open(Run& run, std::uint64_t count);
  /// Unregisters `run`; when no other run is open, calls `if_last()` before any new run can
  /// open (the last one out ends job-wide state, such as the shuffles' pieces).
  template <class F>
  void close(Run& run, F&& if_last) {
    std::lock_guard lock(m_mutex);
    m_runs.erase(run.m_first);
    if (m_runs.empty()) if_last();
  }

  /// The mail of `run`, waiting up to `timeout` for some. While no other thread receives, the
  /// caller receives tag_done messages itself and routes them. Throws: ProtocolError (naming
  /// the worker) when a done message does not decode; it is also kept, and every later wait
  /// of every run throws it.
  Mail wait(Run& run, std::chrono::milliseconds timeout);

  /// The worker for a task with these inputs, counted as sent to it; -1 when none has room.
  int place(std::span<const Placement::Input> inputs);
  /// The worker for a task hinted to `w`, counted as sent to it.
  void sent(int w);
  /// A task sent to `w` did not go after all (it could not be encoded).
  void unsent(int w);

  /// A run will have worker `w` hold a copy of shared result `id` (it sends it a task that
  /// reads it).
  void hold_copy(DataId id, int w);
  /// The run no longer needs these copies (id, rank): each is released once no run holds it;
  /// one no run counted is released at once.
  void release_copies(const std::vector<std::pair<DataId, int>>& copies);

private:
  void receive(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout);
  void route(int source, DoneBatch batch);
  Run* owner_of(DataId id);

  Messenger& m_messenger;
  const int m_ranks;
  ReleaseSender m_send;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  Placement m_placement;          // guarded by m_mutex
  std::map<DataId, Run*> m_runs;  // by first id; guarded by m_mutex
  DataId m_next_id = 1;           // guarded by m_mutex
  bool m_receiving = false;       // some thread is in receive_for(tag_done)
  std::map<std::pair<DataId, int>, int> m_copies;  // shared copy -> runs holding it; m_mutex
  std::exception_ptr m_failure;   // a done message that did not decode
};

}  // namespace tessera::detail::mpi
