#pragma once
// The number of ranks of this MPI job, known before MPI starts (from the launcher's
// environment), so that a test case that needs workers can be decorated with
// doctest::skip(world_size() < n) and is reported as skipped at fewer ranks, instead of
// returning early and counting as passed.
#include <cstdlib>

namespace tessera::testing {

inline int world_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"}) {
    if (const char* v = std::getenv(var)) return std::atoi(v);
  }
  return 1;  // a singleton run without a launcher
}

}  // namespace tessera::testing
