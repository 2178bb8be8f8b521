// bm_transport: what the Messenger costs over raw MPI, between 2 ranks.
//
// Figures of merit (same run, same ranks, same buffers):
//   1. ping-pong bandwidth, 1 KiB .. 256 MiB: 2 * size * round trips / time, for raw MPI
//      (MPI_Send/MPI_Recv) from malloc'd buffers and from huge-page buffers, and for the
//      Messenger (send -> receive -> echo back), whose receivers recycle message buffers
//      (BufferPool::recycle) as the scheduler's data plane does;
//   2. small-message rate: 64-byte messages/s one way, raw MPI (windows of Isend/Irecv) vs
//      Messenger (send() from one thread, a handler counting on the other side);
//   3. small round-trip latency (8 bytes): receive() on the main thread, and handlers that
//      answer on the comm thread.
// Run: mpiexec -n 2 bm_transport [max_size_MiB=256]
#include <tessera/core/buffer_pool.hpp>
#include <tessera/transport/environment.hpp>
#include <tessera/transport/messenger.hpp>

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int iterations_for(std::size_t size) {
  const std::size_t target = std::size_t{1} << 28;  // ~256 MiB each way per size
  return static_cast<int>(std::clamp<std::size_t>(target / size, 4, 5000));
}

// Raw MPI ping-pong on `comm`; returns seconds per round trip.
double raw_pingpong(MPI_Comm comm, int rank, Bytes& buf, int iters) {
  const int n = static_cast<int>(buf.size());
  auto once = [&] {
    if (rank == 0) {
      MPI_Send(buf.data(), n, MPI_BYTE, 1, 0, comm);
      MPI_Recv(buf.data(), n, MPI_BYTE, 1, 0, comm, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(buf.data(), n, MPI_BYTE, 0, 0, comm, MPI_STATUS_IGNORE);
      MPI_Send(buf.data(), n, MPI_BYTE, 0, 0, comm);
    }
  };
  once();  // warm-up (registration, page faults)
  MPI_Barrier(comm);
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) once();
  return seconds_since(t0) / iters;
}

double messenger_pingpong(tessera::Messenger& m, std::size_t size, int iters) {
  constexpr int tag = 1;
  auto payload = std::make_shared<const Bytes>(tessera::BufferPool::instance().take_bytes(size));
  auto once = [&] {
    if (m.rank() == 0) {
      m.send(1, tag, payload);
      tessera::BufferPool::instance().recycle(m.receive(tag).bytes);  // as the data plane does
    } else {
      auto msg = m.receive(tag);
      // Echo without copying; the buffer is recycled once sent.
      auto buf = std::shared_ptr<Bytes>(new Bytes(std::move(msg.bytes)), [](Bytes* b) {
        tessera::BufferPool::instance().recycle(std::move(*b));
        delete b;
      });
      const std::size_t n = buf->size();
      m.send(0, tag, {std::span<const std::byte>(*buf)}, buf, n);
    }
  };
  once();
  m.comm().barrier();
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) once();
  return seconds_since(t0) / iters;
}

double raw_rate(MPI_Comm comm, int rank, int count) {
  constexpr int window = 256;
  std::vector<Bytes> bufs(window, Bytes(64));
  std::vector<MPI_Request> reqs(window);
  MPI_Barrier(comm);
  const auto t0 = Clock::now();
  for (int done = 0; done < count; done += window) {
    for (int w = 0; w < window; ++w) {
      if (rank == 0) {
        MPI_Isend(bufs[static_cast<std::size_t>(w)].data(), 64, MPI_BYTE, 1, 2, comm, &reqs[static_cast<std::size_t>(w)]);
      } else {
        MPI_Irecv(bufs[static_cast<std::size_t>(w)].data(), 64, MPI_BYTE, 0, 2, comm, &reqs[static_cast<std::size_t>(w)]);
      }
    }
    MPI_Waitall(window, reqs.data(), MPI_STATUSES_IGNORE);
  }
  char ack = 0;
  if (rank == 1) MPI_Send(&ack, 1, MPI_BYTE, 0, 3, comm);
  else MPI_Recv(&ack, 1, MPI_BYTE, 1, 3, comm, MPI_STATUS_IGNORE);
  return count / seconds_since(t0);
}

double messenger_rate(tessera::Messenger& m, int count) {
  std::atomic<int> got{0};
  m.on(4, [&](int, Bytes&&) {
    if (got.fetch_add(1) + 1 == count) m.send(0, 5, Bytes{});
  });
  m.comm().barrier();
  const auto t0 = Clock::now();
  if (m.rank() == 0) {
    for (int i = 0; i < count; ++i) m.send(1, 4, Bytes(64));
    (void)m.receive(5);
  } else {
    // The handler answers once everything has arrived; wait without entering MPI.
    while (got.load() < count) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  const double rate = count / seconds_since(t0);
  m.comm().barrier();
  return rate;
}

// Round trips driven entirely by handlers on the comm threads (no thread wake-ups): the
// latency the scheduler sees when it reacts to messages inside handlers.
double messenger_handler_pingpong(tessera::Messenger& m, int iters) {
  std::atomic<int> left{iters};
  std::atomic<bool> done{false};
  m.on(6, [&](int source, Bytes&& b) {
    if (m.rank() == 1) {
      m.send(source, 6, std::move(b));
    } else if (left.fetch_sub(1) > 1) {
      m.send(1, 6, std::move(b));
    } else {
      done = true;
    }
  });
  m.comm().barrier();
  const auto t0 = Clock::now();
  if (m.rank() == 0) {
    m.send(1, 6, Bytes(8));
    while (!done.load()) std::this_thread::yield();
    m.send(1, 7, Bytes{});
  } else {
    // Not a barrier: a thread blocked in an MPI collective competes with the comm thread for
    // Open MPI's progress engine and slows it down by orders of magnitude.
    (void)m.receive(7);
  }
  const double t = seconds_since(t0) / iters;
  m.comm().barrier();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  tessera::Environment env(argc, argv);
  const auto world = env.world();
  if (world.size() != 2) {
    if (world.rank() == 0) std::fprintf(stderr, "bm_transport needs exactly 2 ranks\n");
    return 2;
  }
  const int rank = world.rank();
  const std::size_t max_size = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256) << 20;
  MPI_Comm raw;
  MPI_Comm_dup(MPI_COMM_WORLD, &raw);

  std::vector<std::size_t> sizes;
  for (std::size_t s = 1024; s <= max_size; s *= 4) sizes.push_back(s);

  struct Row {
    std::size_t size;
    double plain, huge, msgr;
  };
  std::vector<Row> rows;
  for (auto s : sizes) {
    Bytes plain(s);
    Bytes huge = tessera::BufferPool::instance().take_bytes(s);
    const int it = iterations_for(s);
    rows.push_back({s, raw_pingpong(raw, rank, plain, it), raw_pingpong(raw, rank, huge, it), 0});
  }
  const double raw_msgs = raw_rate(raw, rank, 200000);
  double raw_lat = 0;
  {
    Bytes b(8);
    raw_lat = raw_pingpong(raw, rank, b, 20000);
  }

  double msgr_msgs = 0;
  double msgr_lat = 0;
  double msgr_hlat = 0;
  {
    tessera::Messenger m(world);
    for (auto& row : rows) row.msgr = messenger_pingpong(m, row.size, iterations_for(row.size));
    msgr_lat = messenger_pingpong(m, 8, 20000);
    msgr_msgs = messenger_rate(m, 200000);
    msgr_hlat = messenger_handler_pingpong(m, 20000);
    m.shutdown();
  }
  MPI_Comm_free(&raw);

  // What the receive side pays per message for a fresh std::vector (allocate, fault, zero).
  double alloc_gbps = 0;
  {
    const std::size_t s = std::size_t{64} << 20;
    const auto t0 = Clock::now();
    for (int i = 0; i < 8; ++i) {
      Bytes b(s);
      if (b[s / 2] != std::byte{0}) std::abort();
    }
    alloc_gbps = 8.0 * static_cast<double>(s) / seconds_since(t0) / 1e9;
  }

  if (rank == 0) {
    auto gbps = [](std::size_t s, double t) { return 2.0 * static_cast<double>(s) / t / 1e9; };
    std::printf("ping-pong bandwidth, 2 ranks (GB/s = 2*size/round-trip time)\n");
    std::printf("%10s %14s %14s %14s %18s\n", "size", "raw malloc", "raw hugepage", "Messenger",
                "Messenger/raw_hp");
    for (const auto& r : rows) {
      std::string label = r.size >= (1u << 20) ? std::to_string(r.size >> 20) + " MiB"
                                               : std::to_string(r.size >> 10) + " KiB";
      std::printf("%10s %14.3f %14.3f %14.3f %18.2f\n", label.c_str(), gbps(r.size, r.plain),
                  gbps(r.size, r.huge), gbps(r.size, r.msgr), r.huge / r.msgr);
    }
    std::printf("fresh 64 MiB buffer (std::vector, allocate + fault + zero): %.2f GB/s\n", alloc_gbps);
    std::printf("\nsmall messages (64 B, one way)   raw MPI %10.0f msg/s   Messenger %10.0f msg/s   ratio %.2f\n",
                raw_msgs, msgr_msgs, msgr_msgs / raw_msgs);
    std::printf("round trip (8 B)                 raw MPI %10.2f us      Messenger %10.2f us      ratio %.2f\n",
                raw_lat * 1e6, msgr_lat * 1e6, msgr_lat / raw_lat);
    std::printf("round trip (8 B), handler echo    raw MPI %10.2f us      Messenger %10.2f us      ratio %.2f\n",
                raw_lat * 1e6, msgr_hlat * 1e6, msgr_hlat / raw_lat);
  }
  return 0;
}
