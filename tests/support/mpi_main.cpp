// Multi-rank doctest main: brings up one tessera::Environment, runs the test cases on every
// rank, and reports once. Rank 0 writes to the console; the other ranks write into a buffer
// that rank 0 prints only when that rank failed. Exit code 1 if any rank failed.
// Tests reach the communicator through tessera::testing::world() (support/mpi_support.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <tessera/transport/environment.hpp>

#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  tessera::Environment env(argc, argv);
  const tessera::Comm world = env.world();
  const int rank = world.rank();

  doctest::Context ctx;
  ctx.applyCommandLine(argc, argv);
  std::ostringstream quiet;
  if (rank != 0) ctx.setCout(&quiet);

  int local_failed = 1;
  try {
    local_failed = ctx.run() != 0 ? 1 : 0;
  } catch (const std::exception& e) {
    quiet << "rank " << rank << ": exception outside any test case: " << e.what() << '\n';
  }

  // Rank 0 prints the output of every other rank that failed.
  const std::string text = local_failed != 0 ? quiet.str() : std::string();
  const auto reports = world.gather(std::as_bytes(std::span(text.data(), text.size())), 0);
  const int failed_ranks = world.all_reduce_sum(local_failed);
  if (rank == 0) {
    for (std::size_t r = 1; r < reports.size(); ++r) {
      if (reports[r].empty()) continue;
      std::cout << "\n===== output of rank " << r << " =====\n"
                << std::string(reinterpret_cast<const char*>(reports[r].data()), reports[r].size());
    }
    std::cout << "[mpi_main] " << world.size() << " rank(s), " << failed_ranks << " failed\n";
  }
  return failed_ranks > 0 ? 1 : 0;
}
