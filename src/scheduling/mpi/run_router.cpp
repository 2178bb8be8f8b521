#include "scheduling/mpi/run_router.hpp"

#include <tessera/transport/messenger.hpp>

#include <cstdio>

namespace tessera::detail::mpi {

RunRouter::RunRouter(Messenger& messenger, std::vector<unsigned> threads, int ranks, ReleaseSender send)
    : m_messenger(messenger), m_ranks(ranks), m_send(std::move(send)), m_placement(std::move(threads)) {}

void RunRouter::open(Run& run, std::uint64_t count) {
  std::lock_guard lock(m_mutex);
  run.m_first = m_next_id;
  run.m_end = m_next_id + count;
  m_next_id = run.m_end + 1;  // an empty run still gets a key of its own
  m_runs[run.m_first] = &run;
}

RunRouter::Run* RunRouter::owner_of(DataId id) {
  auto it = m_runs.upper_bound(id);
  if (it == m_runs.begin()) return nullptr;
  --it;
  return id < it->second->m_end ? it->second : nullptr;
}

RunRouter::Mail RunRouter::wait(Run& run, std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (m_failure) std::rethrow_exception(m_failure);
    auto& mail = run.m_mail;
    if (!mail.completions.empty() || !mail.events.empty() || !mail.foreign_events.empty() || mail.slots_freed) return std::exchange(mail, Mail{});
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (m_receiving) m_cv.wait_for(lock, left);
    else receive(lock, std::max(left, std::chrono::milliseconds(1)));
  }
}

/// Takes the receiver's role for one receive_for (the lock is released meanwhile), routes
/// what came and wakes every waiting run (one of them may take the role next).
void RunRouter::receive(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout) {
  m_receiving = true;
  lock.unlock();
  std::optional<Message> msg;
  std::exception_ptr error;
  std::optional<DoneBatch> batch;
  try {
    msg = m_messenger.receive_for(tag_done, timeout);
    if (msg) {
      try {
        batch = DoneBatch::decode(msg->bytes, m_ranks);
      } catch (const ProtocolError& e) {
        throw e.from_rank(msg->source);
      }
    }
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  m_receiving = false;
  if (error) m_failure = error;
  else if (batch) route(msg->source, std::move(*batch));
  m_cv.notify_all();
}

void RunRouter::route(int source, DoneBatch batch) {
  m_placement.set_paused(source, batch.paused);
  for (auto& c : batch.completions) {
    m_placement.returned(source);
    if (c.ok) m_placement.timed(c.stop - c.start);
    if (Run* run = owner_of(c.id)) {
      run->m_mail.completions.push_back({source, std::move(c)});
    } else {
      // A completion of an earlier computation that ended with an error: ignore.
      std::fprintf(stderr, "tessera: stale completion of result %llu from rank %d\n",
                   static_cast<unsigned long long>(c.id), source);
    }
  }
  for (auto& e : batch.events) {
    if (Run* run = owner_of(e.id)) {
      run->m_mail.events.push_back(e);
    } else if (m_runs.size() == 1) {
      m_runs.begin()->second->m_mail.events.push_back(e);  // e.g. a persisted result spilled
    } else {
      for (auto& [first, r] : m_runs) r->m_mail.foreign_events.push_back(e);
    }
  }
  if (!batch.completions.empty()) {
    for (auto& [first, run] : m_runs) run->m_mail.slots_freed = true;
  }
}

int RunRouter::place(std::span<const Placement::Input> inputs) {
  std::lock_guard lock(m_mutex);
  const int w = m_placement.choose(inputs);
  if (w > 0) m_placement.sent(w);
  return w;
}

void RunRouter::sent(int w) {
  std::lock_guard lock(m_mutex);
  m_placement.sent(w);
}

void RunRouter::unsent(int w) {
  std::lock_guard lock(m_mutex);
  m_placement.returned(w);
}

void RunRouter::hold_copy(DataId id, int w) {
  std::lock_guard lock(m_mutex);
  ++m_copies[{id, w}];
}

void RunRouter::release_copies(const std::vector<std::pair<DataId, int>>& copies) {
  if (copies.empty()) return;
  std::lock_guard lock(m_mutex);  // held while sending: a run that counts a copy next sends after
  Releases out;
  for (const auto& copy : copies) {
    auto it = m_copies.find(copy);
    if (it != m_copies.end() && --it->second > 0) continue;
    if (it != m_copies.end()) m_copies.erase(it);
    out[copy.second].push_back(copy.first);
  }
  m_send(out);
}

}  // namespace tessera::detail::mpi
