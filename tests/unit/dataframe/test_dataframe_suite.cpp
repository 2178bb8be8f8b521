// The DataFrame behaviour suites (operations, shuffle, HDF5 round trips) on the sync scheduler and
// thread pools of 1 and 4 threads.
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include "support/local_schedulers.hpp"

struct Threads1Tag {};
struct Threads4Tag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  if constexpr (std::is_same_v<Tag, SyncTag>) return tessera::testing::local_scheduler<SyncTag>(1);
  else if constexpr (std::is_same_v<Tag, Threads1Tag>) return tessera::testing::local_scheduler<ThreadsTag>(1);
  else return tessera::testing::local_scheduler<ThreadsTag>(4);
}

#define TESSERA_TEST_SCHEDULERS SyncTag, Threads1Tag, Threads4Tag
#include "support/dataframe_suite.hpp"
#include "support/dataframe_window_suite.hpp"
#include "support/dataframe_resample_suite.hpp"
#include "support/dataframe_apply_suite.hpp"
#include "support/dataframe_shuffle_suite.hpp"
#include "support/dataframe_timedelta_suite.hpp"
#include "support/dataframe_categorical_suite.hpp"
#if defined(TESSERA_HAVE_HDF5_IO)
#include "support/dataframe_hdf5_suite.hpp"
#endif
