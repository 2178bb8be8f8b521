// Standalone probe: the exit status mpirun reports. Every rank returns argv[1] from main;
// argv[2]: "kill": the last rank SIGKILLs itself first; "abort": rank 0 calls
// MPI_Abort(argv[1]); "kill-abort": both (the abort a second after the kill). See run_probes.sh.
#include <mpi.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int r = 0, n = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  const int code = argc > 1 ? std::atoi(argv[1]) : 0;
  const std::string how = argc > 2 ? argv[2] : "";
  if ((how == "kill" || how == "kill-abort") && r == n - 1) raise(SIGKILL);
  sleep(1);
  if ((how == "abort" || how == "kill-abort") && r == 0) MPI_Abort(MPI_COMM_WORLD, code);
  if (how == "abort" || how == "kill-abort") sleep(5);  // the others wait to be killed
  MPI_Finalize();
  return code;
}
