// doctest main for tests of the distributed runtime: every rank builds the tessera::Runtime;
// rank 0 runs the test cases as the driver while the other ranks serve tasks; the exit code
// (any failure) reaches every rank through the runtime's shutdown.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <tessera/scheduling/mpi.hpp>

int main(int argc, char** argv) {
  return tessera::run_distributed(argc, argv, [&](tessera::Runtime&) {
    doctest::Context ctx;
    ctx.applyCommandLine(argc, argv);
    return ctx.run() != 0 ? 1 : 0;
  });
}
