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
#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/hdf5_io.hpp>
#include <tessera/scheduling/mpi.hpp>
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

  return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
    auto s = rt.scheduler();
    const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(n);
    auto x = tessera::array::random::normal(2026, 0.0, 1.0, {n, n}, tessera::Shape{chunk, chunk});
    double t0 = now();
    const Results gen = run(x, s);
    const double t_gen = now() - t0;
    t0 = now();
    tessera::array::to_hdf5(file, "/x", x, s);
    const double t_write = now() - t0;
    auto y = tessera::array::from_hdf5(file, "/x", tessera::Shape{chunk, chunk});
    t0 = now();
    const Results h5 = run(y, s);
    const double t_read = now() - t0;
    std::filesystem::remove(file);

    const auto stats = rt.stats();
    std::uint64_t total_limit = 0;
    for (std::size_t r = 1; r < stats.size(); ++r) total_limit += stats[r].memory_limit;
    std::printf("array %lld x %lld float64 = %.2f GiB in %lld x %lld chunks; %d workers, results "
                "limit %.0f MiB in all (data / limit = %.1f)\n",
                static_cast<long long>(n), static_cast<long long>(n), bytes / (1 << 30),
                static_cast<long long>(chunk), static_cast<long long>(chunk), rt.size() - 1,
                static_cast<double>(total_limit) / (1 << 20), total_limit ? bytes / static_cast<double>(total_limit) : 0.0);
    std::printf("generated: mean=%.12g (x+x.T).sum()=%.12g in %.2f s\n", gen.mean, gen.sym_sum, t_gen);
    std::printf("written to HDF5 in %.2f s (%.2f GB/s)\n", t_write, bytes / t_write / 1e9);
    std::printf("from HDF5: mean=%.12g (x+x.T).sum()=%.12g in %.2f s\n", h5.mean, h5.sym_sum, t_read);
    std::printf("%s", tessera::format_worker_stats(stats).c_str());
    int status = 0;
    // (x + x.T).sum() is exactly twice x.sum(); the same chunks in the same tree give the same bits.
    if (h5.mean != gen.mean || h5.sym_sum != gen.sym_sum) {
      std::printf("FAIL: the HDF5 results differ from the generated ones\n");
      status = 1;
    }
    const double expect_sym = 2.0 * gen.mean * static_cast<double>(n) * static_cast<double>(n);
    if (std::abs(gen.sym_sum - expect_sym) > 1e-6 * std::max(1.0, std::abs(expect_sym)) + 1e-3) {
      std::printf("FAIL: (x+x.T).sum()=%.12g but 2*n*n*mean=%.12g\n", gen.sym_sum, expect_sym);
      status = 1;
    }
    for (std::size_t r = 1; r < stats.size(); ++r) {
      const double allowed = static_cast<double>(stats[r].memory_limit) + max_overhead_mib * (1 << 20);
      if (stats[r].memory_limit && static_cast<double>(stats[r].peak_rss) > allowed) {
        std::printf("FAIL: rank %zu peak RSS %.1f MiB > limit %.1f MiB + %.0f MiB overhead\n", r,
                    static_cast<double>(stats[r].peak_rss) / (1 << 20),
                    static_cast<double>(stats[r].memory_limit) / (1 << 20), max_overhead_mib);
        status = 1;
      }
    }
    std::printf(status == 0 ? "bounded memory: ok\n" : "bounded memory: FAILED\n");
    return status;
  }, opts);
}
