// tessera inside an existing MPI code: the host calls MPI_Init and MPI_Finalize itself and hands
// tessera its communicator. Worker ranks that call compute() get a clear error. Prints
// "library mode ok" on rank 0 when everything worked.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <mpi.h>

#include <cstdio>
#include <string>

static int square(int x) { return x * x; }

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  int failures = 0;
  {
    tessera::Runtime rt(static_cast<std::int64_t>(MPI_Comm_c2f(MPI_COMM_WORLD)));
    if (rt.is_driver()) {
      std::vector<tessera::Delayed<int>> xs;
      for (int i = 0; i < 10; ++i) xs.push_back(tessera::delayed(square)(i));
      auto total = tessera::delayed([](const std::vector<int>& v) {
        int s = 0;
        for (int x : v) s += x;
        return s;
      }, {.name = "total"})(xs);
      const int got = tessera::compute(total, rt.scheduler());
      if (got != 285) {
        std::fprintf(stderr, "wrong result %d\n", got);
        ++failures;
      }
      // A second Runtime in the same process is refused with a clear error.
      try {
        tessera::Runtime again(static_cast<std::int64_t>(MPI_Comm_c2f(MPI_COMM_WORLD)));
        ++failures;
      } catch (const tessera::Error& e) {
        if (std::string(e.what()).find("already exists") == std::string::npos) ++failures;
      }
      rt.shutdown(0);
    } else {
      // compute() on a worker rank is wrong use: a clear error, not a hang.
      try {
        (void)tessera::compute(tessera::delayed(square)(3));
        ++failures;
      } catch (const tessera::ConfigError& e) {
        if (std::string(e.what()).find("worker rank") == std::string::npos) ++failures;
      }
      rt.serve();
    }
  }
  int total_failures = 0;
  MPI_Allreduce(&failures, &total_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (world_rank == 0 && total_failures == 0) std::printf("library mode ok\n");
  MPI_Finalize();  // the host finalizes MPI, not tessera
  return total_failures == 0 ? 0 : 1;
}
