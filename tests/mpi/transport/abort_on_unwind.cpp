// An exception unwinds through the Environment on rank 0 while rank 1 waits in a barrier that
// rank 0 never joins. Without the Environment's MPI_Abort during unwinding the job would hang;
// the test passes when the job ends with the Environment's message (ctest's TIMEOUT catches a
// hang). The try/catch matters: an exception that escapes main() uncaught calls
// std::terminate without unwinding, so no destructor runs (the process aborts, and mpirun then
// ends the job itself).
#include <tessera/transport/environment.hpp>

#include <cstdio>
#include <stdexcept>

int main(int argc, char** argv) {
  try {
    tessera::Environment env(argc, argv);
    if (env.world().rank() == 0) throw std::runtime_error("rank 0 fails before the barrier");
    env.world().barrier();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not reached: %s\n", e.what());
    return 1;
  }
  return 0;
}
