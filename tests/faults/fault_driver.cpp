// One program, many ways to fail, for the fault-injection suite (run_case.sh drives it under
// mpirun and checks message, exit status, time and leftovers). The first argument picks the
// fault; every mode prints "fault driver: <mode> ..." on rank 0 before it starts.
//   ok              a small computation that works (the baseline: status 0)
//   exception       a task throws std::runtime_error on a worker
//   segfault        a task dereferences a null pointer on a worker
//   sigkill         a task SIGKILLs its worker
//   sigstop         a task SIGSTOPs its worker (heartbeats stop)
//   spill-sigkill   workers spill persisted blocks, then a task SIGKILLs its worker
//   kill0           rank 0 SIGKILLs itself while the workers wait for work
//   spill           workers hold far more than their memory limit (spill to TESSERA_SPILL_DIR)
//   hdf5 <path>     reads an HDF5 dataset "x" of doubles with from_hdf5 and sums it
//   library-single  library mode: the host initializes MPI with MPI_THREAD_SINGLE and catches
//   make-mpi        make_scheduler("mpi") on a worker rank reports a clear error
//   make-h5 <path>  no MPI: writes a dataset "x" of 65536 ones (for the truncated-file case)
//   local           no MPI: one task on the default scheduler; a ConfigError gives status 2
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>
#include <tessera/collections/array/hdf5_io.hpp>

#include <mpi.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

int plus_one(int x) { return x + 1; }
int throws(int) { throw std::runtime_error("deliberate failure in a task"); }
int crashes(int x) {
  volatile int* p = nullptr;
  *p = x;  // SIGSEGV
  return x;
}
int kills_itself(int x) {
  std::raise(SIGKILL);
  return x;
}
int stops_itself(int x) {
  std::raise(SIGSTOP);
  return x;
}
std::vector<double> block(int i) { return std::vector<double>(256 * 1024, 0.5 * i); }  // 2 MiB
double block_sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
double total(const std::vector<double>& parts) { return std::accumulate(parts.begin(), parts.end(), 0.0); }
std::vector<double> combine(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) out[k] = a[k] + 2 * b[k];
  return out;
}

int one_task(int (*f)(int)) {
  const int got = tessera::compute(tessera::delayed(f)(41));
  std::printf("fault driver: unexpected: the task returned %d\n", got);
  return 0;
}

int spill() {
  std::vector<tessera::Delayed<std::vector<double>>> blocks;
  const int n = 24;  // 48 MiB in all, every block alive until the late combine steps
  for (int i = 0; i < n; ++i) blocks.push_back(tessera::delayed(block)(i));
  std::vector<tessera::Delayed<double>> sums;
  for (int i = 0; i < n; ++i) {
    sums.push_back(tessera::delayed(block_sum)(tessera::delayed(combine)(
        blocks[static_cast<std::size_t>(i)], blocks[static_cast<std::size_t>(n - 1 - i)])));
  }
  const double got = tessera::compute(tessera::delayed(total)(sums));
  std::printf("fault driver: spill finished: %g\n", got);
  return 0;
}

int library_single(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int caught = 0;
  try {
    tessera::Runtime rt(static_cast<std::int64_t>(MPI_Comm_c2f(MPI_COMM_WORLD)));
    std::printf("fault driver: unexpected: the Runtime started without MPI_THREAD_MULTIPLE\n");
  } catch (const tessera::TransportError& e) {
    caught = 1;
    if (rank == 0) std::printf("fault driver: host caught: %s\n", e.what());
  }
  int all = 0;
  MPI_Allreduce(&caught, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0) std::printf("fault driver: %d of %d ranks caught the error\n", all, size);
  MPI_Finalize();
  return all == size ? 3 : 1;  // 3: the expected outcome, distinct from any tessera status
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "ok";
  if (mode == "library-single") return library_single(argc, argv);
  if (mode == "make-h5" && argc > 2) {  // no MPI: writes dataset "x" (65536 ones) to argv[2]
    tessera::SyncScheduler sync;
    tessera::array::to_hdf5(argv[2], "x", tessera::array::ones(tessera::Shape{65536}, tessera::Shape{8192}), sync);
    return 0;
  }
  if (mode == "local") {  // no MPI: the default scheduler (TESSERA_SCHEDULER) in this process
    try {
      const int got = tessera::compute(tessera::delayed(plus_one)(41));
      std::printf("fault driver: local result %d\n", got);
      return got == 42 ? 0 : 1;
    } catch (const tessera::ConfigError& e) {
      std::fprintf(stderr, "fault driver: configuration error: %s\n", e.what());
      return 2;
    }
  }
  if (mode == "make-mpi") {
    tessera::Runtime rt(argc, argv);
    int code = 0;
    if (!rt.is_driver()) {
      try {
        (void)tessera::make_scheduler("mpi");
        code = 1;
      } catch (const tessera::ConfigError& e) {
        if (rt.rank() == 1) std::printf("fault driver: worker: %s\n", e.what());
      }
      code = std::max(code, rt.serve());
    } else {
      std::printf("fault driver: make-mpi\n");
      code = tessera::make_scheduler("mpi") == rt.scheduler() ? 0 : 1;
      rt.shutdown(code);
    }
    return code;
  }
  return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
    std::printf("fault driver: %s on %d ranks (pid %d)\n", mode.c_str(), rt.size(), static_cast<int>(::getpid()));
    std::fflush(stdout);
    if (mode == "ok") return tessera::compute(tessera::delayed(plus_one)(41)) == 42 ? 0 : 1;
    if (mode == "exception") return one_task(throws);
    if (mode == "segfault") return one_task(crashes);
    if (mode == "sigkill") return one_task(kills_itself);
    if (mode == "sigstop") return one_task(stops_itself);
    if (mode == "kill0") {
      (void)tessera::compute(tessera::delayed(plus_one)(1));  // the workers are up
      std::raise(SIGKILL);
    }
    if (mode == "spill") return spill();
    if (mode == "spill-sigkill") {  // workers hold spill files, then one is SIGKILLed
      std::vector<tessera::Delayed<std::vector<double>>> blocks;
      for (int i = 0; i < 16; ++i) blocks.push_back(tessera::delayed(block)(i));
      auto kept = tessera::persist(blocks);
      std::printf("fault driver: %zu blocks persisted (spilled)\n", kept.size());
      std::fflush(stdout);
      return one_task(kills_itself);
    }
    if (mode == "hdf5" && argc > 2) {
      auto x = tessera::array::from_hdf5(argv[2], "x", tessera::Shape{64});
      std::printf("fault driver: sum %g\n", tessera::compute(x.sum()).at<double>());
      return 0;
    }
    std::fprintf(stderr, "fault driver: unknown mode '%s'\n", mode.c_str());
    return 64;
  });
}
