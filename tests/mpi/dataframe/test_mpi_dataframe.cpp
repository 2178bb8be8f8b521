// The DataFrame behaviour suite on the MPI scheduler (rank 0 drives; partitions, group states
// and reduction partials travel between ranks as bytes), and the issue example's queries on
// pandas-generated data against pandas' results, and the HDF5 round trips (the ranks take turns
// appending to one file). Registered at 1, 2, 3 and 4 ranks.
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

struct MpiTag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::Runtime::current()->scheduler();
}

#define TESSERA_TEST_SCHEDULERS MpiTag
#include "support/dataframe_suite.hpp"
#include "support/dataframe_window_suite.hpp"
#include "support/dataframe_resample_suite.hpp"
#include "support/dataframe_apply_suite.hpp"
#include "support/dataframe_flights.hpp"
#include "support/dataframe_shuffle_suite.hpp"
#include "support/dataframe_timedelta_suite.hpp"
#include "support/dataframe_categorical_suite.hpp"
#if defined(TESSERA_HAVE_HDF5_IO)
#include "support/dataframe_hdf5_suite.hpp"
#endif
