// The bag behaviour suite on the local schedulers (sync is the oracle; threads at 1 and 4).
#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/threads.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <type_traits>

#include "support/local_schedulers.hpp"

struct Threads1Tag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  if constexpr (std::is_same_v<Tag, Threads1Tag>) return tessera::testing::local_scheduler<ThreadsTag>(1);
  else return tessera::testing::local_scheduler<Tag>(4);
}

#define TESSERA_TEST_SCHEDULERS SyncTag, Threads1Tag, ThreadsTag
#include "unit/bag/bag_suite.hpp"
