// bm_distributed: the MPI scheduler's throughput and worker-to-worker transfer bandwidth.
//
// Figures of merit:
//   1. scheduler throughput: tasks/s of compute() for N trivial tasks, as N leaves
//      delayed(inc)(i) plus a binary tree of delayed(add) (one output), and as N leaves
//      computed as a list (N outputs gathered on rank 0); goal >= 100k tasks/s with 3 workers;
//   2. worker-to-worker bandwidth: two producers of S bytes each persisted on two different
//      workers, then a consumer of both: the scheduler places it next to one input and the
//      worker fetches the other from its peer. transfer time = time(consumer of both) -
//      time(consumer of one, local), checked against Runtime::stats() bytes_fetched; compared
//      with a raw MPI ping-pong (MPI_Send/MPI_Recv) between the same two ranks, measured in the
//      same program before the runtime starts, once with one cache-resident buffer and once
//      rotating over 128 MiB of buffers (data not in cache, like real chunks). Goal: >= 70% of
//      raw MPI from 1 MB up.
// Output: tables on stdout (rank 0), then one JSON object per measurement (lines with '{').
// Run: mpirun -n 4 --oversubscribe bm_distributed [--mode all|throughput|transfer]
//        [--sizes 10000,100000,1000000] [--max-mib 256] [--threads 1] [--reps 3]
//        [--payload array|bytes|both]
#include "bench_common.hpp"
#include <tessera/collections/array/ndarray.hpp>
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
  std::string mode = "all";
  std::string payload = "both";  // bytes (std::vector<std::byte>), array (NDArray chunks) or both
  std::vector<std::size_t> sizes = {10'000, 100'000, 1'000'000};
  std::size_t max_bytes = std::size_t{256} << 20;
  unsigned threads = 1;
  int reps = 3;
};

using tessera::bench::parse_sizes;

// Transfer sizes: 1 KiB, then x4 up to max.
std::vector<std::size_t> transfer_sizes(std::size_t max_bytes) {
  std::vector<std::size_t> out;
  for (std::size_t s = 1024; s <= max_bytes; s *= 4) out.push_back(s);
  if (out.empty() || out.back() != max_bytes) out.push_back(max_bytes);
  return out;
}

int iterations_for(std::size_t size) {
  return static_cast<int>(std::clamp<std::size_t>((std::size_t{1} << 28) / size, 4, 2000));
}

// A barrier that does not spin (idle ranks must not steal the cores of the ranks measured).
void idle_barrier(MPI_Comm comm) {
  MPI_Request req;
  MPI_Ibarrier(comm, &req);
  int done = 0;
  while (!done) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Raw MPI ping-pong between ranks a and b; returns one-way seconds per message of each size
// (half a round trip) on rank a, nothing elsewhere. Other ranks wait without spinning.
// `rotate`: each round trip uses the next of several buffers (128 MiB in all per rank), so the
// data is not in the cache, as with a chunk a task produced a while ago; else one buffer goes
// back and forth and stays cache-resident while it fits (up to a few MiB).
std::vector<double> raw_pingpong(int a, int b, const std::vector<std::size_t>& sizes, bool rotate) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<double> out;
  if (rank != a && rank != b) {
    idle_barrier(MPI_COMM_WORLD);
    return out;
  }
  const std::size_t max = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  constexpr std::size_t footprint = std::size_t{128} << 20;
  std::vector<std::byte> arena(rotate ? std::max(footprint, max) : max, std::byte{1});
  for (std::size_t size : sizes) {
    const int n = static_cast<int>(size);
    const int peer = rank == a ? b : a;
    const std::size_t slots = rotate ? std::max<std::size_t>(1, arena.size() / std::max<std::size_t>(size, 1)) : 1;
    std::size_t next = 0;
    auto once = [&] {
      std::byte* buf = arena.data() + (next++ % slots) * size;
      if (rank == a) {
        MPI_Send(buf, n, MPI_BYTE, peer, 7, MPI_COMM_WORLD);
        MPI_Recv(buf, n, MPI_BYTE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else {
        MPI_Recv(buf, n, MPI_BYTE, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buf, n, MPI_BYTE, peer, 7, MPI_COMM_WORLD);
      }
    };
    once();
    const int iters = iterations_for(size);
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) once();
    out.push_back(seconds_since(t0) / iters / 2);
  }
  idle_barrier(MPI_COMM_WORLD);
  return out;
}

std::int64_t inc(std::int64_t x) { return x + 1; }
std::int64_t add(std::int64_t a, std::int64_t b) { return a + b; }

std::vector<std::byte> produce(std::int64_t seed, std::uint64_t size) {
  return std::vector<std::byte>(size, static_cast<std::byte>(seed & 0xff));
}
std::uint64_t consume1(const std::vector<std::byte>& a) {
  return a.size() + (a.empty() ? 0 : static_cast<std::uint64_t>(a.front()));
}
std::uint64_t consume2(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  return a.size() + b.size() + (a.empty() ? 0 : static_cast<std::uint64_t>(a.back()));
}

// The same for array chunks (float64 NDArrays), the data that moves in array workloads.
tessera::NDArray produce_chunk(std::int64_t seed, std::uint64_t size) {
  return tessera::NDArray::full({static_cast<std::int64_t>(size / sizeof(double))}, tessera::DType::float64,
                                static_cast<double>(seed & 0xff));
}
std::uint64_t consume1_chunk(const tessera::NDArray& a) {
  return a.nbytes() + (a.size() ? static_cast<std::uint64_t>(a.data<double>().front()) : 0);
}
std::uint64_t consume2_chunk(const tessera::NDArray& a, const tessera::NDArray& b) {
  return a.nbytes() + b.nbytes() + (a.size() ? static_cast<std::uint64_t>(a.data<double>().back()) : 0);
}

std::uint64_t total_fetched(tessera::Runtime& rt) {
  std::uint64_t s = 0;
  for (const auto& w : rt.stats()) s += w.bytes_fetched;
  return s;
}

struct ThroughputRow {
  std::string shape;
  std::size_t leaves = 0, tasks = 0;
  double build_s = 0, compute_s = 0;
};

std::vector<ThroughputRow> throughput(const Args& args) {
  std::vector<ThroughputRow> rows;
  const auto d_inc = tessera::delayed(inc, {.name = "inc"});
  const auto d_add = tessera::delayed(add, {.name = "add"});
  for (std::size_t n : args.sizes) {
    for (const char* shape : {"leaves+tree2", "leaves"}) {
      ThroughputRow best{shape, n, 0, 1e300, 1e300};
      for (int r = 0; r < std::max(1, args.reps - 1); ++r) {
        // A different offset per repetition: new keys, nothing cached between runs.
        const auto offset = static_cast<std::int64_t>(r) * static_cast<std::int64_t>(n);
        auto t0 = Clock::now();
        std::vector<tessera::Delayed<std::int64_t>> level;
        level.reserve(n);
        for (std::size_t i = 0; i < n; ++i) level.push_back(d_inc(offset + static_cast<std::int64_t>(i)));
        std::size_t tasks = n;
        const bool tree = std::string(shape) != "leaves";
        while (tree && level.size() > 1) {
          std::vector<tessera::Delayed<std::int64_t>> next;
          next.reserve(level.size() / 2 + 1);
          for (std::size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(d_add(level[i], level[i + 1]));
          tasks += level.size() / 2;
          if (level.size() % 2) next.push_back(level.back());
          level = std::move(next);
        }
        const double build_s = seconds_since(t0);
        const std::int64_t expected =
            static_cast<std::int64_t>(n) * offset + static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n + 1) / 2;
        t0 = Clock::now();
        std::int64_t got = 0;
        if (tree) {
          got = tessera::compute(level.front());
        } else {
          const auto values = tessera::compute(level);
          got = std::accumulate(values.begin(), values.end(), std::int64_t{0});
        }
        const double compute_s = seconds_since(t0);
        if (got != expected) {
          std::fprintf(stderr, "bm_distributed: wrong result %lld (expected %lld)\n",
                       static_cast<long long>(got), static_cast<long long>(expected));
          std::exit(1);
        }
        best.tasks = tasks;
        best.build_s = std::min(best.build_s, build_s);
        best.compute_s = std::min(best.compute_s, compute_s);
      }
      rows.push_back(best);
      std::fprintf(stderr, "throughput %s n=%zu: %.0f tasks/s\n", shape, n,
                   static_cast<double>(best.tasks) / best.compute_s);
    }
  }
  return rows;
}

struct TransferRow {
  std::string payload;
  std::size_t bytes = 0;
  double local_s = 0, pair_s = 0;  // medians
  std::uint64_t fetched = 0;       // bytes_fetched delta of the pair run
};

template <class Produce, class C1, class C2>
std::vector<TransferRow> transfers(tessera::Runtime& rt, const Args& args, const char* payload, Produce produce_fn,
                                   C1 consume1_fn, C2 consume2_fn) {
  std::vector<TransferRow> rows;
  const auto d_produce = tessera::delayed(produce_fn, {.name = "produce"});
  const auto d_c1 = tessera::delayed(consume1_fn, {.name = "consume1"});
  const auto d_c2 = tessera::delayed(consume2_fn, {.name = "consume2"});
  static std::int64_t seed = 0;
  for (std::size_t size : transfer_sizes(args.max_bytes)) {
    const int reps = size >= (std::size_t{64} << 20) ? std::max(2, args.reps) : std::max(5, args.reps);
    std::vector<double> local, pair;
    std::uint64_t fetched = 0;
    for (int r = 0; r < reps + 1; ++r) {  // the first repetition warms up (not counted)
      auto [q1, q2] = tessera::persist(d_produce(seed, size), d_produce(seed + 1, size));
      seed += 2;
      const std::uint64_t expect1 = size + static_cast<std::uint64_t>((seed - 2) & 0xff);
      const std::uint64_t f0 = total_fetched(rt);
      auto t0 = Clock::now();
      const auto one = tessera::compute(d_c1(q1));
      const double local_s = seconds_since(t0);
      const std::uint64_t f1 = total_fetched(rt);
      t0 = Clock::now();
      const auto two = tessera::compute(d_c2(q1, q2));
      const double pair_s = seconds_since(t0);
      const std::uint64_t f2 = total_fetched(rt);
      if (one != expect1 || two != 2 * size + static_cast<std::uint64_t>((seed - 2) & 0xff)) {
        std::fprintf(stderr, "bm_distributed: wrong consumer result\n");
        std::exit(1);
      }
      if (f1 != f0) std::fprintf(stderr, "note: the one-input consumer fetched %llu bytes\n",
                                 static_cast<unsigned long long>(f1 - f0));
      if (r == 0) continue;
      local.push_back(local_s);
      pair.push_back(pair_s);
      fetched = f2 - f1;
    }
    std::sort(local.begin(), local.end());
    std::sort(pair.begin(), pair.end());
    rows.push_back({payload, size, local[local.size() / 2], pair[pair.size() / 2], fetched});
    std::fprintf(stderr, "transfer %s %zu B: local %.6f s, pair %.6f s, fetched %llu B\n", payload, size,
                 rows.back().local_s, rows.back().pair_s, static_cast<unsigned long long>(fetched));
  }
  return rows;
}

std::string human(std::size_t bytes) {
  char buf[32];
  if (bytes >= (std::size_t{1} << 20)) std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  else std::snprintf(buf, sizeof buf, "%zu KiB", bytes >> 10);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--mode") args.mode = argv[i + 1];
    else if (k == "--payload") args.payload = argv[i + 1];
    else if (k == "--sizes") args.sizes = parse_sizes(argv[i + 1]);
    else if (k == "--max-mib") args.max_bytes = std::stoull(argv[i + 1]) << 20;
    else if (k == "--threads") args.threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else if (k == "--reps") args.reps = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "bm_distributed: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const bool do_throughput = args.mode == "all" || args.mode == "throughput";
  const bool do_transfer = args.mode == "all" || args.mode == "transfer";

  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 3) {
    if (rank == 0) std::fprintf(stderr, "bm_distributed: run with at least 3 ranks (1 scheduler + 2 workers)\n");
    MPI_Finalize();
    return 2;
  }

  // Raw MPI between the two workers that will exchange data (ranks 1 and 2), before tessera.
  const auto sizes = transfer_sizes(args.max_bytes);
  std::vector<double> raw, raw_cold;
  if (do_transfer) {
    for (auto* out : {&raw, &raw_cold}) {
      *out = raw_pingpong(1, 2, sizes, out == &raw_cold);
      out->resize(sizes.size());
      if (rank == 1) MPI_Send(out->data(), static_cast<int>(out->size()), MPI_DOUBLE, 0, 9, MPI_COMM_WORLD);
      if (rank == 0) MPI_Recv(out->data(), static_cast<int>(out->size()), MPI_DOUBLE, 1, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  }

  tessera::RuntimeOptions options;
  options.threads_per_worker = args.threads;
  const int code = tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
    std::vector<ThroughputRow> trows;
    std::vector<TransferRow> xrows;
    if (do_throughput) trows = throughput(args);
    std::vector<tessera::WorkerStats> stats_after_throughput = rt.stats();
    if (do_transfer && args.payload != "bytes") {
      xrows = transfers(rt, args, "array", produce_chunk, consume1_chunk, consume2_chunk);
    }
    if (do_transfer && args.payload != "array") {
      auto more = transfers(rt, args, "bytes", produce, consume1, consume2);
      xrows.insert(xrows.end(), more.begin(), more.end());
    }

    std::printf("\nMPI scheduler: %d ranks (1 scheduler + %d workers x %u threads)\n", rt.size(),
                rt.size() - 1, args.threads);
    if (!trows.empty()) {
      std::printf("\nthroughput (best of %d)\n", std::max(1, args.reps - 1));
      std::printf("%-13s %9s %9s %12s %12s %12s %12s\n", "graph", "leaves", "tasks", "build[s]",
                  "compute[s]", "tasks/s", "us/task");
      for (const auto& r : trows) {
        std::printf("%-13s %9zu %9zu %12.3f %12.3f %12.0f %12.2f\n", r.shape.c_str(), r.leaves,
                    r.tasks, r.build_s, r.compute_s, static_cast<double>(r.tasks) / r.compute_s,
                    r.compute_s / static_cast<double>(r.tasks) * 1e6);
      }
      std::printf("\nper rank after the throughput runs\n%5s %10s %12s %12s %12s\n", "rank",
                  "tasks", "busy[s]", "fetched", "served");
      for (const auto& w : stats_after_throughput) {
        std::printf("%5d %10llu %12.3f %12llu %12llu\n", w.rank, static_cast<unsigned long long>(w.tasks_run),
                    w.busy_seconds, static_cast<unsigned long long>(w.bytes_fetched),
                    static_cast<unsigned long long>(w.bytes_served));
      }
    }
    if (!xrows.empty()) {
      std::printf("\nworker-to-worker transfer vs raw MPI ping-pong between ranks 1 and 2 (medians)\n");
      std::printf("(raw: one buffer back and forth, cache-resident while small; raw cold: rotating buffers, 128 MiB)\n");
      std::printf("%-7s %9s %11s %11s %11s %12s %12s %8s %13s %8s %10s\n", "payload", "size", "local[ms]",
                  "pair[ms]", "xfer[ms]", "tessera MB/s", "raw MB/s", "ratio", "raw cold MB/s", "ratio", "fetched");
      for (std::size_t i = 0; i < xrows.size(); ++i) {
        const auto& x = xrows[i];
        const double xfer = x.pair_s - x.local_s;
        const double bw = xfer > 0 ? static_cast<double>(x.bytes) / xfer / 1e6 : 0.0;
        const double raw_bw = static_cast<double>(x.bytes) / raw[i % raw.size()] / 1e6;
        const double cold_bw = static_cast<double>(x.bytes) / raw_cold[i % raw_cold.size()] / 1e6;
        std::printf("%-7s %9s %11.3f %11.3f %11.3f %12.1f %12.1f %7.0f%% %13.1f %7.0f%% %10llu\n", x.payload.c_str(),
                    human(x.bytes).c_str(), x.local_s * 1e3, x.pair_s * 1e3, xfer * 1e3, bw, raw_bw,
                    100.0 * bw / raw_bw, cold_bw, 100.0 * bw / cold_bw, static_cast<unsigned long long>(x.fetched));
      }
    }
    std::printf("\n");
    for (const auto& r : trows) {
      std::printf("{\"bench\":\"distributed-throughput\",\"ranks\":%d,\"threads_per_worker\":%u,"
                  "\"graph\":\"%s\",\"leaves\":%zu,\"tasks\":%zu,\"build_s\":%.6f,\"compute_s\":%.6f,"
                  "\"tasks_per_s\":%.1f}\n",
                  rt.size(), args.threads, r.shape.c_str(), r.leaves, r.tasks, r.build_s, r.compute_s,
                  static_cast<double>(r.tasks) / r.compute_s);
    }
    for (std::size_t i = 0; i < xrows.size(); ++i) {
      const auto& x = xrows[i];
      const double xfer = x.pair_s - x.local_s;
      std::printf("{\"bench\":\"distributed-transfer\",\"payload\":\"%s\",\"ranks\":%d,\"bytes\":%zu,\"local_s\":%.6f,"
                  "\"pair_s\":%.6f,\"transfer_s\":%.6f,\"fetched\":%llu,\"tessera_MBps\":%.1f,"
                  "\"raw_mpi_MBps\":%.1f,\"raw_mpi_cold_MBps\":%.1f}\n",
                  x.payload.c_str(), rt.size(), x.bytes, x.local_s, x.pair_s, xfer, static_cast<unsigned long long>(x.fetched),
                  xfer > 0 ? static_cast<double>(x.bytes) / xfer / 1e6 : 0.0,
                  static_cast<double>(x.bytes) / raw[i % raw.size()] / 1e6,
                  static_cast<double>(x.bytes) / raw_cold[i % raw_cold.size()] / 1e6);
    }
    std::fflush(stdout);
    return 0;
  }, options);
  MPI_Finalize();
  return code;
}
