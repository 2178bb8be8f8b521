#pragma once

// Private: a worker rank. Receives task batches, fetches missing inputs from the peers that
// hold them, runs tasks on its threads, keeps results, reports completions to rank 0 in
// batches.

#include "scheduling/mpi/data_plane.hpp"
#include "scheduling/shuffle/mpi_service.hpp"

#include <tessera/serialization/code_ref.hpp>
#include <tessera/transport/messenger.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace tessera::detail::mpi {

class Worker {
public:
  Worker(Messenger& messenger, unsigned threads, std::uint64_t memory_limit,
         MemoryThresholds thresholds);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Serves until the scheduler's shutdown message; returns the driver's exit code.
  int serve();

private:
  struct Task {
    DataId id = 0;
    std::string key;
    CodeRef entry;
    Bytes state;
    std::vector<DataId> inputs;
    int missing = 0;  // inputs not yet here (touched on the comm thread only)
  };
  using Completion = mpi::Completion;

  /// Registers `handler` for `tag`: a message it cannot decode stops serve() with the error.
  template <class Handler>
  void handle(int tag, Handler handler);
  /// Ends serve() with `error` (a malformed message: the job cannot go on).
  void stop_serving(std::exception_ptr error);
  void on_run(int source, std::vector<std::byte>&& bytes);
  void on_arrival(DataId id, bool ok, int from);
  void make_ready(std::shared_ptr<Task> t);
  void thread_main(unsigned index);
  void execute(const Task& t, unsigned index);
  void complete(Completion c);
  void fail_task(const Task& t, const std::string& type, const std::string& message);
  [[nodiscard]] double now() const;

  Messenger& m_messenger;
  DataPlane m_data;
  std::shared_ptr<MpiShuffleService> m_shuffle;  // installed as this process's shuffle_service()
  const unsigned m_num_threads;
  std::chrono::steady_clock::time_point m_t0 = std::chrono::steady_clock::now();

  std::unordered_map<DataId, std::vector<std::shared_ptr<Task>>> m_waiting;  // comm thread only

  std::mutex m_ready_mutex;
  std::condition_variable m_ready_cv;
  std::deque<std::shared_ptr<Task>> m_ready;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;

  std::mutex m_done_mutex;
  std::condition_variable m_done_cv;
  std::vector<Completion> m_done;
  bool m_shutdown = false;
  int m_exit_code = 0;
  std::exception_ptr m_failure;  // guarded by m_done_mutex

  std::atomic<std::uint64_t> m_tasks_run{0};
  std::atomic<std::uint64_t> m_pauses{0};
  std::uint64_t m_ready_rss = 0;  // set once the threads run; read by the stats handler
  std::atomic<int> m_running{0};
  std::mutex m_busy_mutex;  // orders the messenger's busy flag with m_running
  void note_running(int delta);
  std::atomic<std::int64_t> m_busy_ns{0};
};

}  // namespace tessera::detail::mpi
