// tessera-bounded: data many times larger than the workers' memory. Computes the mean and
// (x + x.T).sum() of an n x n normal array, generated on the workers and then written to and
// read back from HDF5, with every worker capped by TESSERA_MEMORY_LIMIT / --memory-limit. Each
// x chunk is read by two consumers far apart in the graph, so workers must spill to stay
// bounded. Prints the results, each rank's memory figures, and checks every worker's peak RSS
// (the OS's VmHWM) against its limit plus --max-overhead-mib (default 64): the footprint of the
// program, its libraries, Open MPI and the runtime's threads (printed as "when ready", 45-50 MiB
// on our machines) and the working set of the running tasks. bench/README.md has the breakdown.
//
//   mpirun -n 5 tessera-bounded --n 20000 --chunk 1000 --memory-limit 64MiB
//          [--file /tmp/x.h5] [--max-overhead-mib 64]
//
// With --scheduler threads (no mpirun) one process runs it all on a thread pool of --threads
// threads, its results held by the local store under --memory-limit (which sets
// TESSERA_MEMORY_LIMIT for this process); a third pass persists x first (so nearly all of it is
// spilled), and the check is on this process's peak RSS:
//   tessera-bounded --scheduler threads --threads 2 --n 16384 --chunk 1024 --memory-limit 64MiB
#include "worker_peaks.hpp"

#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/hdf5_io.hpp>
#include <tessera/scheduling/mpi.hpp>
#include <tessera/storage/process_memory.hpp>
#include <tessera/tessera.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <unistd.h>

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Results {
  double mean = 0, sym_sum = 0;
};

Results run(const tessera::Array& x, const std::shared_ptr<tessera::Scheduler>& s) {
  Results r;
  r.mean = tessera::compute(x.mean(), s).at<double>();
  r.sym_sum = tessera::compute((x + x.T()).sum(), s).at<double>();
  return r;
}

struct Timed {
  Results gen, h5;
  double t_gen = 0, t_write = 0, t_read = 0;
};

/// Generates x, computes on it, writes it to `file`, reads it back and computes again.
Timed run_all(std::int64_t n, std::int64_t chunk, const std::string& file,
              const std::shared_ptr<tessera::Scheduler>& s) {
  Timed t;
  auto x = tessera::array::random::normal(2026, 0.0, 1.0, {n, n}, tessera::Shape{chunk, chunk});
  double t0 = now();
  t.gen = run(x, s);
  t.t_gen = now() - t0;
  t0 = now();
  tessera::array::to_hdf5(file, "/x", x, s);
  t.t_write = now() - t0;
  auto y = tessera::array::from_hdf5(file, "/x", tessera::Shape{chunk, chunk});
  t0 = now();
  t.h5 = run(y, s);
  t.t_read = now() - t0;
  std::filesystem::remove(file);
  return t;
}

/// The checks both modes share: the HDF5 pass gives the generated pass's bits, and
/// (x + x.T).sum() is twice n*n*mean. Returns 0 or 1.
int check_results(const Timed& t, std::int64_t n) {
  int status = 0;
  if (t.h5.mean != t.gen.mean || t.h5.sym_sum != t.gen.sym_sum) {
    std::printf("FAIL: the HDF5 results differ from the generated ones\n");
    status = 1;
  }
  const double expect_sym = 2.0 * t.gen.mean * static_cast<double>(n) * static_cast<double>(n);
  if (std::abs(t.gen.sym_sum - expect_sym) > 1e-6 * std::max(1.0, std::abs(expect_sym)) + 1e-3) {
    std::printf("FAIL: (x+x.T).sum()=%.12g but 2*n*n*mean=%.12g\n", t.gen.sym_sum, expect_sym);
    status = 1;
  }
  return status;
}

void print_times(const Timed& t, double bytes) {
  std::printf("generated: mean=%.12g (x+x.T).sum()=%.12g in %.2f s\n", t.gen.mean, t.gen.sym_sum, t.t_gen);
  std::printf("written to HDF5 in %.2f s (%.2f GB/s)\n", t.t_write, bytes / t.t_write / 1e9);
  std::printf("from HDF5: mean=%.12g (x+x.T).sum()=%.12g in %.2f s\n", t.h5.mean, t.h5.sym_sum, t.t_read);
}

/// --scheduler threads: one process, a thread pool, the local store under the memory limit.
int main_threads(std::int64_t n, std::int64_t chunk, unsigned threads, const std::string& file,
                 double max_overhead_mib) {
  const double mib = 1 << 20;
  const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(n);
  auto s = std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{threads});
  const auto store = tessera::local_result_store();
  const Timed t = run_all(n, chunk, file, s);
  // Then x persisted: all of it is kept, so nearly all of it must go to the spill file.
  double t0 = now();
  const auto xp = tessera::persist(
      tessera::array::random::normal(2026, 0.0, 1.0, {n, n}, tessera::Shape{chunk, chunk}), s);
  const Results kept = run(xp, s);
  const double t_kept = now() - t0;
  std::printf("array %lld x %lld float64 = %.2f GiB in %lld x %lld chunks; 1 process, %u threads, "
              "results limit %.0f MiB (data / limit = %.1f)\n",
              static_cast<long long>(n), static_cast<long long>(n), bytes / (1 << 30),
              static_cast<long long>(chunk), static_cast<long long>(chunk), s->num_threads(),
              store ? static_cast<double>(store->stats().limit) / mib : 0.0,
              store ? bytes / static_cast<double>(store->stats().limit) : 0.0);
  print_times(t, bytes);
  std::printf("persisted: mean=%.12g (x+x.T).sum()=%.12g in %.2f s (persist included)\n", kept.mean,
              kept.sym_sum, t_kept);
  int status = check_results(t, n);
  if (kept.mean != t.gen.mean || kept.sym_sum != t.gen.sym_sum) {
    std::printf("FAIL: the persisted results differ from the generated ones\n");
    status = 1;
  }
  const double peak = static_cast<double>(tessera::peak_rss());
  if (store) {
    const auto st = store->stats();
    std::printf("process peak memory: %.1f MiB (limit for results %.0f MiB, peak held %.1f MiB, "
                "spilled %.2f GiB in %.2f s, read back %.2f GiB in %.2f s)\n",
                peak / mib, static_cast<double>(st.limit) / mib, static_cast<double>(st.peak) / mib,
                static_cast<double>(st.bytes_spilled) / (1 << 30), st.spill_seconds,
                static_cast<double>(st.bytes_unspilled) / (1 << 30), st.unspill_seconds);
    if (peak > static_cast<double>(st.limit) + max_overhead_mib * mib) {
      std::printf("FAIL: peak RSS %.1f MiB > limit %.1f MiB + %.0f MiB overhead\n", peak / mib,
                  static_cast<double>(st.limit) / mib, max_overhead_mib);
      status = 1;
    }
  } else {
    std::printf("process peak memory: %.1f MiB (no memory limit: nothing spilled)\n", peak / mib);
  }
  std::printf(status == 0 ? "bounded memory: ok\n" : "bounded memory: FAILED\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[std::string(argv[i]).substr(2)] = argv[i + 1];
  auto num = [&](const char* k, double d) { return flags.count(k) ? std::stod(flags.at(k)) : d; };
  const auto n = static_cast<std::int64_t>(num("n", 4000));
  const auto chunk = static_cast<std::int64_t>(num("chunk", 500));
  const double max_overhead_mib = num("max-overhead-mib", 64);
  // The default file is unique to this job (rank 0's pid), so concurrent runs never share it.
  const std::string file = flags.count("file") ? flags.at("file")
      : (std::filesystem::temp_directory_path() / ("tessera-bounded-" + std::to_string(::getpid()) + ".h5")).string();
  tessera::RuntimeOptions opts;
  if (flags.count("memory-limit")) opts.memory_limit = flags.at("memory-limit");
  opts.threads_per_worker = static_cast<unsigned>(num("threads", 1));
  if (flags.count("scheduler") && flags.at("scheduler") == "threads") {
    // Before any tessera call: the local store reads its limit from the environment once.
    if (opts.memory_limit) ::setenv("TESSERA_MEMORY_LIMIT", opts.memory_limit->c_str(), 1);
    return main_threads(n, chunk, static_cast<unsigned>(num("threads", 0)), file, max_overhead_mib);
  }
  if (flags.count("scheduler") && flags.at("scheduler") != "mpi") {
    std::fprintf(stderr, "tessera-bounded: --scheduler '%s' is not one of: mpi (default), threads\n",
                 flags.at("scheduler").c_str());
    return 2;
  }

  return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
    auto s = rt.scheduler();
    const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(n);
    const Timed t = run_all(n, chunk, file, s);

    const auto stats = rt.stats();
    std::uint64_t total_limit = 0;
    for (std::size_t r = 1; r < stats.size(); ++r) total_limit += stats[r].memory_limit;
    std::printf("array %lld x %lld float64 = %.2f GiB in %lld x %lld chunks; %d workers, results "
                "limit %.0f MiB in all (data / limit = %.1f)\n",
                static_cast<long long>(n), static_cast<long long>(n), bytes / (1 << 30),
                static_cast<long long>(chunk), static_cast<long long>(chunk), rt.size() - 1,
                static_cast<double>(total_limit) / (1 << 20), total_limit ? bytes / static_cast<double>(total_limit) : 0.0);
    print_times(t, bytes);
    std::printf("%s", tessera::format_worker_stats(stats).c_str());
    int status = check_results(t, n);
    if (tessera::apps::check_worker_peaks(stats, max_overhead_mib) > 0) status = 1;
    std::printf(status == 0 ? "bounded memory: ok\n" : "bounded memory: FAILED\n");
    return status;
  }, opts);
}
