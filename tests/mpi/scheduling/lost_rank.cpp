// A worker rank that stops answering (here: it stops itself with SIGSTOP inside a task) must end
// the job within seconds with a message naming the rank, never hang. Run with
// TESSERA_HEARTBEAT_TIMEOUT=2; the test expects a non-zero exit and that message.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <csignal>
#include <cstdio>

static int freeze(int x) {
  std::raise(SIGSTOP);  // the whole worker process stops: no task, no heartbeat
  return x;
}

int main(int argc, char** argv) {
  return tessera::run_distributed(argc, argv, [](tessera::Runtime&) {
    std::printf("computing a task that freezes its worker\n");
    std::fflush(stdout);
    (void)tessera::compute(tessera::delayed(freeze)(1));
    std::printf("unexpected: compute returned\n");
    return 0;
  });
}
