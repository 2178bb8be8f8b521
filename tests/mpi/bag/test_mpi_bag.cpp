// The bag behaviour suite on the MPI scheduler (rank 0 drives, the other ranks work): fused
// pipelines, reductions and file tasks run on workers. Registered at 1, 2, 3 and 4 ranks.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <memory>

struct MpiTag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::Runtime::current()->scheduler();
}

#define TESSERA_TEST_SCHEDULERS MpiTag
#include "unit/bag/bag_suite.hpp"
