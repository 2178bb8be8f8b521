// The comm thread: one loop that posts queued sends, matches incoming messages with
// MPI_Improbe/MPI_Imrecv, completes requests with MPI_Testsome, delivers complete messages in
// per-source order, and runs the heartbeat sender / monitor. Nothing else in the process calls
// point-to-point MPI on this communicator.
#include <tessera/transport/messenger.hpp>

#include <tessera/core/buffer_pool.hpp>
#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>

#include <sys/mman.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "transport/mpi_check.hpp"

namespace tessera {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

// Internal tags, above every user tag and below the guaranteed MPI_TAG_UB (32767).
constexpr int tag_heartbeat = 32000;
constexpr int tag_split_header = 32001;
constexpr int tag_split_piece = 32002;
static_assert(Messenger::max_tag < tag_heartbeat);

// Messages up to this size are received with a blocking matched receive (they are already
// here, eager); bigger ones with MPI_Imrecv so the loop keeps turning while they stream in.
constexpr int sync_receive_limit = 64 * 1024;
constexpr int probe_batch = 256;
// Sends posted to MPI at once; the rest wait in order in m_pending_out. Keeps MPI_Testsome's
// scan short when a producer queues many thousands of messages at once.
constexpr std::size_t max_posted_sends = 512;

struct SplitHeader {
  std::uint64_t user_tag;
  std::uint64_t total;
  std::uint64_t pieces;
};

struct Counters {
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> bytes_received{0};
};

struct Outgoing {
  int dest;
  int tag;
  std::vector<std::span<const std::byte>> pieces;
  std::shared_ptr<const void> keep;
  std::size_t size;
};

struct Incoming {
  int source = -1;
  int tag = -1;
  Bytes bytes;
  int pending = 0;  // outstanding receive requests
};

std::chrono::milliseconds default_heartbeat_timeout() {
  return detail::runtime_config().heartbeat_timeout;
}

}  // namespace

class Messenger::Impl {
public:
  Impl(const Comm& parent, Options options) : m_opt(std::move(options)) {
    const MPI_Comm parent_comm = detail::CommAccess::native(parent);
    int level = MPI_THREAD_SINGLE;
    TESSERA_MPI_CHECK(MPI_Query_thread, &level);
    if (level < MPI_THREAD_MULTIPLE) {
      TESSERA_THROW(TransportError, "tessera::Messenger on rank ", parent.rank(),
                    " needs MPI_THREAD_MULTIPLE (its comm thread calls MPI while other threads "
                    "may run collectives), but MPI provides a lower level");
    }
    if (m_opt.split_threshold == 0 || m_opt.split_threshold > (std::size_t{1} << 30)) {
      TESSERA_THROW(TransportError, "Messenger split_threshold of ", m_opt.split_threshold,
                    " bytes is outside 1 B .. 1 GiB");
    }
    m_hb_timeout = m_opt.heartbeat_timeout ? *m_opt.heartbeat_timeout : default_heartbeat_timeout();
    m_state = detail::duplicate_comm(parent_comm);
    m_comm = m_state->comm;
    m_rank = m_state->rank;
    m_size = m_state->size;
    const auto n = static_cast<std::size_t>(m_size);
    m_counters = std::make_unique<Counters[]>(n);
    m_in_order.resize(n);
    m_assembling.resize(n);
    m_last_heard.assign(n, Clock::now());
    m_lost.assign(n, false);
    // Rank 0 watches every worker; a worker watches rank 0 (the scheduler), which sends it
    // heartbeats too, so a worker notices when rank 0 is gone.
    m_monitoring = m_size > 1 && m_opt.heartbeat_interval.count() > 0;
    m_last_sent.assign(n, Clock::now());
    m_thread = std::thread([this] { run(); });
  }

  ~Impl() {
    if (m_thread.joinable()) {
      try {
        shutdown();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "tessera: Messenger on rank %d shut down with an error: %s\n", m_rank,
                     e.what());
      }
    }
    detail::free_comm(*m_state);
  }

  // ---- user-facing, any thread -------------------------------------------------------------
  void send(int dest, int tag, std::shared_ptr<const Bytes> payload) {
    if (!payload) TESSERA_THROW(TransportError, "Messenger::send on rank ", m_rank, ": null payload");
    std::vector<std::span<const std::byte>> pieces;
    if (!payload->empty()) pieces.emplace_back(*payload);
    const std::size_t n = payload->size();
    send_pieces(dest, tag, std::move(pieces), std::move(payload), n);
  }

  void send_pieces(int dest, int tag, std::vector<std::span<const std::byte>> pieces,
                   std::shared_ptr<const void> keep, std::size_t size) {
    if (dest < 0 || dest >= m_size) {
      TESSERA_THROW(TransportError, "Messenger::send on rank ", m_rank, ": destination rank ",
                    dest, " is outside 0..", m_size - 1);
    }
    check_tag(tag, "send");
    rethrow_failure();
    bool wake = false;
    {
      std::lock_guard lk(m_out_mutex);
      if (!m_accepting) {
        TESSERA_THROW(TransportError, "Messenger::send on rank ", m_rank, " to rank ", dest,
                      " (tag ", tag, ") after shutdown()");
      }
      m_out_queue.push_back(Outgoing{dest, tag, std::move(pieces), std::move(keep), size});
      m_has_outgoing.store(true, std::memory_order_release);
      wake = m_sleeping;
    }
    if (wake) m_wake_cv.notify_one();
  }

  void on(int tag, Handler handler) {
    check_tag(tag, "on");
    std::lock_guard lk(m_q_mutex);
    m_handlers[tag] = std::make_shared<Handler>(std::move(handler));
    // Messages that were queued before the handler existed go to it first, on the comm thread.
    if (auto it = m_queues.find(tag); it != m_queues.end()) {
      for (auto& msg : it->second) m_redeliver.push_back(std::move(msg));
      m_queues.erase(it);
      m_has_redeliver.store(true, std::memory_order_release);
    }
  }

  std::optional<Message> receive_until(int tag, std::optional<Clock::time_point> deadline,
                                       bool wait) {
    check_tag(tag, "receive");
    std::unique_lock lk(m_q_mutex);
    if (m_handlers.count(tag) != 0) {
      TESSERA_THROW(TransportError, "Messenger::receive(", tag, ") on rank ", m_rank,
                    ": the tag has a handler (on()), so its messages go there");
    }
    auto ready = [&] {
      auto it = m_queues.find(tag);
      return (it != m_queues.end() && !it->second.empty()) || m_thread_done.load();
    };
    if (wait) {
      if (deadline) {
        if (!m_q_cv.wait_until(lk, *deadline, ready)) return std::nullopt;
      } else {
        m_q_cv.wait(lk, ready);
      }
    }
    auto it = m_queues.find(tag);
    if (it != m_queues.end() && !it->second.empty()) {
      Message msg = std::move(it->second.front());
      it->second.pop_front();
      return msg;
    }
    if (m_thread_done.load()) {
      lk.unlock();
      rethrow_failure();
      TESSERA_THROW(TransportError, "Messenger::receive(", tag, ") on rank ", m_rank,
                    ": the messenger was shut down and no such message is left");
    }
    return std::nullopt;
  }

  void on_rank_lost(LostHandler handler) {
    std::lock_guard lk(m_lost_mutex);
    m_lost_handler = std::make_shared<LostHandler>(std::move(handler));
  }

  std::vector<int> lost_ranks() const {
    std::lock_guard lk(m_lost_mutex);
    return m_lost_list;
  }

  void suspend_heartbeats(bool s) noexcept { m_hb_suspended.store(s); }
  void set_busy(bool b) noexcept { m_busy.store(b, std::memory_order_relaxed); }

  void shutdown() {
    {
      std::lock_guard lk(m_out_mutex);
      m_accepting = false;
      m_stop_requested = true;
    }
    m_wake_cv.notify_one();
    if (m_thread.joinable()) m_thread.join();
    rethrow_failure();
  }

  std::vector<PeerCounters> counters() const {
    std::vector<PeerCounters> out(static_cast<std::size_t>(m_size));
    for (std::size_t r = 0; r < out.size(); ++r) {
      out[r].messages_sent = m_counters[r].messages_sent.load(std::memory_order_relaxed);
      out[r].bytes_sent = m_counters[r].bytes_sent.load(std::memory_order_relaxed);
      out[r].messages_received = m_counters[r].messages_received.load(std::memory_order_relaxed);
      out[r].bytes_received = m_counters[r].bytes_received.load(std::memory_order_relaxed);
    }
    return out;
  }

  int rank() const noexcept { return m_rank; }
  int size() const noexcept { return m_size; }
  Comm comm() const noexcept { return detail::CommAccess::make(m_state); }

private:
  void check_tag(int tag, const char* what) const {
    if (tag < 0 || tag > max_tag) {
      TESSERA_THROW(TransportError, "Messenger::", what, " on rank ", m_rank, ": tag ", tag,
                    " is outside 0..", max_tag);
    }
  }

  void rethrow_failure() const {
    if (!m_failed.load()) return;
    std::lock_guard lk(m_err_mutex);
    throw TransportError(m_error);
  }

  void fail(const std::string& what) {
    {
      std::lock_guard lk(m_err_mutex);
      if (!m_error.empty()) return;
      m_error = what;
    }
    m_failed.store(true);
  }

  // ---- comm thread ---------------------------------------------------------------------------
  void run() {
    // Naps of idle_sleep, not idle_sleep plus the default 50 us timer slack: a peer waiting
    // for this rank to serve data waits for the nap to end.
    (void)::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    auto last_work = Clock::now();
    try {
      for (;;) {
        const bool work = step();
        const auto now = Clock::now();
        if (work) last_work = now;
        if (m_stop_requested_seen) {
          if (drained()) break;
          if (now > m_stop_deadline) {
            fail(drain_timeout_message());
            break;
          }
        }
        // While sends or receives are in flight, keep polling: MPI's shared-memory transport
        // moves big messages in fragments that only advance when both sides poll.
        const bool in_flight = !m_send_reqs.empty() || !m_recv_reqs.empty();
        if (!work && (in_flight || now - last_work <= m_opt.spin)) {
          // Spinning: let a thread this loop just woke (a receive() caller) have the core.
          std::this_thread::yield();
        } else if (!work) {
          std::unique_lock lk(m_out_mutex);
          if (m_out_queue.empty() && !m_stop_requested) {
            m_sleeping = true;
            m_wake_cv.wait_for(lk, m_busy.load(std::memory_order_relaxed) ? m_opt.busy_sleep : m_opt.idle_sleep);
            m_sleeping = false;
          }
        }
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
    {
      std::lock_guard lk(m_q_mutex);
      m_thread_done.store(true);
    }
    m_q_cv.notify_all();
  }

  bool step() {
    bool work = false;
    if (!m_stop_requested_seen) {
      std::lock_guard lk(m_out_mutex);
      if (m_stop_requested) {
        m_stop_requested_seen = true;
        m_stop_deadline = Clock::now() + m_opt.shutdown_timeout;
      }
    }
    if (m_has_outgoing.load(std::memory_order_acquire) || !m_pending_out.empty()) {
      work |= post_sends();
    }
    heartbeat();
    work |= probe();
    work |= complete_requests();
    work |= deliver();
    monitor();
    return work;
  }

  bool post_sends() {
    if (m_has_outgoing.load(std::memory_order_acquire)) {
      std::lock_guard lk(m_out_mutex);
      m_out_batch.swap(m_out_queue);
      m_has_outgoing.store(false, std::memory_order_relaxed);
    }
    for (auto& out : m_out_batch) m_pending_out.push_back(std::move(out));
    m_out_batch.clear();
    bool any = false;
    while (!m_pending_out.empty() && m_send_reqs.size() < max_posted_sends) {
      Outgoing out = std::move(m_pending_out.front());
      m_pending_out.pop_front();
      any = true;
      const std::size_t n = out.size;
      // MPI counts are int: pieces above the split threshold go in several parts.
      m_parts.clear();
      for (const auto& p : out.pieces) {
        for (std::size_t off = 0; off < p.size(); off += m_opt.split_threshold) {
          m_parts.push_back(p.subspan(off, std::min(m_opt.split_threshold, p.size() - off)));
        }
      }
      if (m_parts.size() <= 1) {
        const std::byte* data = m_parts.empty() ? nullptr : m_parts.front().data();
        isend(data, static_cast<int>(n), out.dest, out.tag, std::move(out.keep));
      } else {
        auto header = std::make_shared<Bytes>(sizeof(SplitHeader));
        const SplitHeader h{static_cast<std::uint64_t>(out.tag), n, m_parts.size()};
        std::memcpy(header->data(), &h, sizeof h);
        const std::byte* header_data = header->data();  // before the pointer is moved away
        isend(header_data, static_cast<int>(sizeof h), out.dest, tag_split_header, std::move(header));
        for (const auto& part : m_parts) {
          isend(part.data(), static_cast<int>(part.size()), out.dest, tag_split_piece, out.keep);
        }
      }
      auto& c = m_counters[static_cast<std::size_t>(out.dest)];
      c.messages_sent.fetch_add(1, std::memory_order_relaxed);
      c.bytes_sent.fetch_add(n, std::memory_order_relaxed);
      m_last_sent[static_cast<std::size_t>(out.dest)] = Clock::now();
    }
    return any;
  }

  void isend(const void* data, int count, int dest, int tag, std::shared_ptr<const void> keep) {
    MPI_Request req = MPI_REQUEST_NULL;
    TESSERA_MPI_CHECK(MPI_Isend, data, count, MPI_BYTE, dest, tag, m_comm, &req);
    m_send_reqs.push_back(req);
    m_send_keep.push_back(std::move(keep));
    m_send_dest.push_back(dest);
  }

  void heartbeat() {
    if (m_opt.heartbeat_interval.count() <= 0 || m_hb_suspended.load() || m_size < 2) return;
    const auto now = Clock::now();
    if (now - m_last_heartbeat_check < std::chrono::milliseconds(5)) return;
    m_last_heartbeat_check = now;
    const int first = m_rank == 0 ? 1 : 0;
    const int last = m_rank == 0 ? m_size - 1 : 0;
    for (int r = first; r <= last; ++r) {
      auto& sent = m_last_sent[static_cast<std::size_t>(r)];
      if (now - sent < m_opt.heartbeat_interval) continue;
      isend(nullptr, 0, r, tag_heartbeat, nullptr);
      sent = now;
    }
  }

  bool probe() {
    bool work = false;
    for (int i = 0; i < probe_batch; ++i) {
      int flag = 0;
      MPI_Message msg = MPI_MESSAGE_NULL;
      MPI_Status st;
      TESSERA_MPI_CHECK(MPI_Improbe, MPI_ANY_SOURCE, MPI_ANY_TAG, m_comm, &flag, &msg, &st);
      if (!flag) break;
      work = true;
      const int src = st.MPI_SOURCE;
      int count = 0;
      TESSERA_MPI_CHECK(MPI_Get_count, &st, MPI_BYTE, &count);
      if (m_monitoring) m_last_heard[static_cast<std::size_t>(src)] = Clock::now();
      switch (st.MPI_TAG) {
        case tag_heartbeat:
          TESSERA_MPI_CHECK(MPI_Mrecv, nullptr, 0, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
          break;
        case tag_split_header: {
          SplitHeader h{};
          if (count != static_cast<int>(sizeof h)) {
            TESSERA_THROW(TransportError, "Messenger on rank ", m_rank,
                          ": malformed split header of ", count, " bytes from rank ", src);
          }
          TESSERA_MPI_CHECK(MPI_Mrecv, &h, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
          auto inc = std::make_unique<Incoming>();
          inc->source = src;
          inc->tag = static_cast<int>(h.user_tag);
          if (h.pieces == 0 || h.pieces > h.total || h.pieces > std::uint64_t{INT_MAX}) {
            TESSERA_THROW(TransportError, "Messenger on rank ", m_rank, ": malformed split header (",
                          h.total, " bytes in ", h.pieces, " pieces) from rank ", src);
          }
          inc->bytes = BufferPool::instance().take_bytes(h.total);
          inc->pending = static_cast<int>(h.pieces);
          m_assembling[static_cast<std::size_t>(src)] = Assembly{inc.get(), 0};
          m_in_order[static_cast<std::size_t>(src)].push_back(std::move(inc));
          break;
        }
        case tag_split_piece: {
          auto& as = m_assembling[static_cast<std::size_t>(src)];
          if (as.target == nullptr || as.offset + static_cast<std::size_t>(count) > as.target->bytes.size()) {
            TESSERA_THROW(TransportError, "Messenger on rank ", m_rank,
                          ": unexpected message piece of ", count, " bytes from rank ", src);
          }
          irecv(msg, as.target->bytes.data() + as.offset, count, as.target);
          as.offset += static_cast<std::size_t>(count);
          if (as.offset == as.target->bytes.size()) as = Assembly{};
          break;
        }
        default: {
          auto inc = std::make_unique<Incoming>();
          inc->source = src;
          inc->tag = st.MPI_TAG;
          const auto n = static_cast<std::size_t>(count);
          inc->bytes = BufferPool::instance().take_bytes(n);
          if (count <= sync_receive_limit) {
            TESSERA_MPI_CHECK(MPI_Mrecv, inc->bytes.data(), count, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
          } else {
            inc->pending = 1;
            irecv(msg, inc->bytes.data(), count, inc.get());
          }
          m_in_order[static_cast<std::size_t>(src)].push_back(std::move(inc));
          break;
        }
      }
      mark_dirty(src);
    }
    return work;
  }

  void irecv(MPI_Message& msg, std::byte* dst, int count, Incoming* owner) {
    MPI_Request req = MPI_REQUEST_NULL;
    TESSERA_MPI_CHECK(MPI_Imrecv, dst, count, MPI_BYTE, &msg, &req);
    m_recv_reqs.push_back(req);
    m_recv_owner.push_back(owner);
  }

  void mark_dirty(int src) {
    if (std::find(m_dirty.begin(), m_dirty.end(), src) == m_dirty.end()) m_dirty.push_back(src);
  }

  bool complete_requests() {
    bool work = false;
    if (!m_send_reqs.empty()) {
      int done = 0;
      m_indices.resize(m_send_reqs.size());
      TESSERA_MPI_CHECK(MPI_Testsome, static_cast<int>(m_send_reqs.size()), m_send_reqs.data(),
                        &done, m_indices.data(), MPI_STATUSES_IGNORE);
      if (done > 0 && done != MPI_UNDEFINED) {
        work = true;
        compact_sends();
      }
    }
    if (!m_recv_reqs.empty()) {
      int done = 0;
      m_indices.resize(m_recv_reqs.size());
      TESSERA_MPI_CHECK(MPI_Testsome, static_cast<int>(m_recv_reqs.size()), m_recv_reqs.data(),
                        &done, m_indices.data(), MPI_STATUSES_IGNORE);
      if (done > 0 && done != MPI_UNDEFINED) {
        work = true;
        for (int i = 0; i < done; ++i) {
          Incoming* owner = m_recv_owner[static_cast<std::size_t>(m_indices[static_cast<std::size_t>(i)])];
          --owner->pending;
          if (owner->pending == 0) mark_dirty(owner->source);
        }
        std::size_t w = 0;
        for (std::size_t r = 0; r < m_recv_reqs.size(); ++r) {
          if (m_recv_reqs[r] == MPI_REQUEST_NULL) continue;
          m_recv_reqs[w] = m_recv_reqs[r];
          m_recv_owner[w] = m_recv_owner[r];
          ++w;
        }
        m_recv_reqs.resize(w);
        m_recv_owner.resize(w);
      }
    }
    return work;
  }

  void compact_sends() {
    std::size_t w = 0;
    for (std::size_t r = 0; r < m_send_reqs.size(); ++r) {
      if (m_send_reqs[r] == MPI_REQUEST_NULL) continue;  // completed: its payload is released
      if (w != r) {
        m_send_reqs[w] = m_send_reqs[r];
        m_send_keep[w] = std::move(m_send_keep[r]);
        m_send_dest[w] = m_send_dest[r];
      }
      ++w;
    }
    m_send_reqs.resize(w);
    m_send_keep.resize(w);
    m_send_dest.resize(w);
  }

  bool deliver() {
    if (m_has_redeliver.load(std::memory_order_acquire)) flush_redeliver();
    if (m_dirty.empty()) return false;
    bool work = false;
    m_dirty_now.swap(m_dirty);
    for (int src : m_dirty_now) {
      auto& q = m_in_order[static_cast<std::size_t>(src)];
      while (!q.empty() && q.front()->pending == 0 && m_assembling[static_cast<std::size_t>(src)].target != q.front().get()) {
        std::unique_ptr<Incoming> inc = std::move(q.front());
        q.pop_front();
        auto& c = m_counters[static_cast<std::size_t>(src)];
        c.messages_received.fetch_add(1, std::memory_order_relaxed);
        c.bytes_received.fetch_add(inc->bytes.size(), std::memory_order_relaxed);
        dispatch(Message{inc->source, inc->tag, std::move(inc->bytes)});
        work = true;
      }
    }
    m_dirty_now.clear();
    return work;
  }

  void flush_redeliver() {
    std::deque<Message> batch;
    {
      std::lock_guard lk(m_q_mutex);
      batch.swap(m_redeliver);
      m_has_redeliver.store(false, std::memory_order_relaxed);
    }
    for (auto& msg : batch) dispatch(std::move(msg));
  }

  void dispatch(Message msg) {
    std::shared_ptr<Handler> handler;
    {
      std::unique_lock lk(m_q_mutex);
      if (!m_redeliver.empty()) {
        // on() just moved queued messages of some tag to its handler: they go first.
        lk.unlock();
        flush_redeliver();
        lk.lock();
      }
      if (auto it = m_handlers.find(msg.tag); it != m_handlers.end()) {
        handler = it->second;
      } else {
        m_queues[msg.tag].push_back(std::move(msg));
        lk.unlock();
        m_q_cv.notify_all();
        return;
      }
    }
    try {
      (*handler)(msg.source, std::move(msg.bytes));
    } catch (const std::exception& e) {
      std::ostringstream os;
      os << "the handler of tag " << msg.tag << " on rank " << m_rank << " threw "
         << detail::current_exception_type() << ": " << e.what();
      fail(os.str());
    }
  }

  void monitor() {
    // Once shutdown() was called, peers stop talking one by one: nobody is lost any more.
    if (!m_monitoring || m_stop_requested_seen) return;
    const auto now = Clock::now();
    if (now - m_last_monitor_check < std::chrono::milliseconds(5)) return;
    m_last_monitor_check = now;
    const int first = m_rank == 0 ? 1 : 0;
    const int last = m_rank == 0 ? m_size - 1 : 0;
    for (int r = first; r <= last; ++r) {
      const auto ur = static_cast<std::size_t>(r);
      if (m_lost[ur]) continue;
      const auto silent = now - m_last_heard[ur];
      if (silent <= m_hb_timeout) continue;
      m_lost[ur] = true;
      const double seconds = std::chrono::duration<double>(silent).count();
      std::shared_ptr<LostHandler> handler;
      {
        std::lock_guard lk(m_lost_mutex);
        m_lost_list.push_back(r);
        handler = m_lost_handler;
      }
      if (handler) {
        try {
          (*handler)(r, seconds);
        } catch (const std::exception& e) {
          fail(std::string("the on_rank_lost handler threw: ") + e.what());
        }
      }
    }
  }

  bool drained() const {
    if (m_has_outgoing.load() || !m_pending_out.empty() || !m_send_reqs.empty() ||
        !m_recv_reqs.empty()) {
      return false;
    }
    return std::all_of(m_assembling.begin(), m_assembling.end(),
                       [](const Assembly& a) { return a.target == nullptr; });
  }

  std::string drain_timeout_message() const {
    std::ostringstream os;
    os << "Messenger::shutdown on rank " << m_rank << ": after "
       << std::chrono::duration<double>(m_opt.shutdown_timeout).count() << " s, "
       << m_send_reqs.size() + m_pending_out.size() << " send(s) had not completed (to ranks";
    std::vector<int> dests(m_send_dest);
    for (const auto& out : m_pending_out) dests.push_back(out.dest);
    std::sort(dests.begin(), dests.end());
    dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
    for (int d : dests) os << ' ' << d;
    os << ") and " << m_recv_reqs.size()
       << " receive(s) were incomplete; a peer probably stopped receiving (shut down or hung)";
    return os.str();
  }

  struct Assembly {
    Incoming* target = nullptr;
    std::size_t offset = 0;
  };

  Options m_opt;
  std::chrono::milliseconds m_hb_timeout{10000};
  std::shared_ptr<detail::CommState> m_state;
  MPI_Comm m_comm = MPI_COMM_NULL;
  int m_rank = 0;
  int m_size = 1;
  std::unique_ptr<Counters[]> m_counters;

  // outgoing queue (any thread -> comm thread)
  std::mutex m_out_mutex;
  std::condition_variable m_wake_cv;
  std::vector<Outgoing> m_out_queue;
  std::atomic<bool> m_has_outgoing{false};
  bool m_sleeping = false;
  bool m_accepting = true;
  bool m_stop_requested = false;

  // comm thread only
  std::vector<Outgoing> m_out_batch;
  std::deque<Outgoing> m_pending_out;
  std::vector<MPI_Request> m_send_reqs;
  std::vector<std::shared_ptr<const void>> m_send_keep;
  std::vector<std::span<const std::byte>> m_parts;
  std::vector<int> m_send_dest;
  std::vector<MPI_Request> m_recv_reqs;
  std::vector<Incoming*> m_recv_owner;
  std::vector<int> m_indices;
  std::vector<std::deque<std::unique_ptr<Incoming>>> m_in_order;
  std::vector<Assembly> m_assembling;
  std::vector<int> m_dirty;
  std::vector<int> m_dirty_now;
  bool m_stop_requested_seen = false;
  Clock::time_point m_stop_deadline{};
  std::vector<Clock::time_point> m_last_sent;  // per destination: for heartbeats
  Clock::time_point m_last_heartbeat_check{};
  Clock::time_point m_last_monitor_check{};
  std::vector<Clock::time_point> m_last_heard;
  std::vector<bool> m_lost;
  bool m_monitoring = false;

  // delivery (comm thread -> any thread)
  std::mutex m_q_mutex;
  std::condition_variable m_q_cv;
  std::unordered_map<int, std::deque<Message>> m_queues;
  std::unordered_map<int, std::shared_ptr<Handler>> m_handlers;
  std::deque<Message> m_redeliver;
  std::atomic<bool> m_has_redeliver{false};
  std::atomic<bool> m_thread_done{false};

  // liveness
  mutable std::mutex m_lost_mutex;
  std::vector<int> m_lost_list;
  std::shared_ptr<LostHandler> m_lost_handler;
  std::atomic<bool> m_hb_suspended{false};
  std::atomic<bool> m_busy{false};

  // first failure of the comm thread or a handler
  mutable std::mutex m_err_mutex;
  std::string m_error;
  std::atomic<bool> m_failed{false};

  std::thread m_thread;
};

Messenger::Messenger(const Comm& comm) : Messenger(comm, Options{}) {}
Messenger::Messenger(const Comm& comm, Options options)
    : m_impl(std::make_unique<Impl>(comm, std::move(options))) {}
Messenger::~Messenger() = default;

int Messenger::rank() const noexcept { return m_impl->rank(); }
int Messenger::size() const noexcept { return m_impl->size(); }

void Messenger::send(int dest, int tag, std::shared_ptr<const std::vector<std::byte>> payload) {
  m_impl->send(dest, tag, std::move(payload));
}
void Messenger::send(int dest, int tag, std::vector<std::byte>&& payload) {
  m_impl->send(dest, tag, std::make_shared<const std::vector<std::byte>>(std::move(payload)));
}
void Messenger::send(int dest, int tag, std::vector<std::span<const std::byte>> pieces,
                     std::shared_ptr<const void> keep, std::size_t size) {
  std::size_t sum = 0;
  for (const auto& p : pieces) sum += p.size();
  if (sum != size) {
    TESSERA_THROW(TransportError, "Messenger::send on rank ", rank(), " to rank ", dest, " (tag ", tag,
                  "): pieces add up to ", sum, " bytes, not the ", size, " stated");
  }
  m_impl->send_pieces(dest, tag, std::move(pieces), std::move(keep), size);
}
void Messenger::on(int tag, Handler handler) { m_impl->on(tag, std::move(handler)); }

Message Messenger::receive(int tag) { return *m_impl->receive_until(tag, std::nullopt, true); }
std::optional<Message> Messenger::receive_for(int tag, std::chrono::milliseconds timeout) {
  return m_impl->receive_until(tag, Clock::now() + timeout, true);
}
std::optional<Message> Messenger::try_receive(int tag) {
  return m_impl->receive_until(tag, std::nullopt, false);
}

void Messenger::on_rank_lost(LostHandler handler) { m_impl->on_rank_lost(std::move(handler)); }
std::vector<int> Messenger::lost_ranks() const { return m_impl->lost_ranks(); }
void Messenger::suspend_heartbeats(bool suspended) noexcept { m_impl->suspend_heartbeats(suspended); }
void Messenger::set_busy(bool busy) noexcept { m_impl->set_busy(busy); }
void Messenger::shutdown() { m_impl->shutdown(); }
std::vector<PeerCounters> Messenger::counters() const { return m_impl->counters(); }
Comm Messenger::comm() const noexcept { return m_impl->comm(); }

}  // namespace tessera
