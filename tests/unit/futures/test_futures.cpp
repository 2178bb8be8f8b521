// The futures suite on the local schedulers.
#include <tessera/tessera.hpp>

#include <memory>

#include "support/local_schedulers.hpp"

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  return tessera::testing::local_scheduler<Tag>(2);
}

#define TESSERA_TEST_SCHEDULERS SyncTag, ThreadsTag
#include "support/futures_suite.hpp"
