// The futures suite on the local schedulers.
#include <tessera/tessera.hpp>

#include <memory>

struct SyncTag {};
struct ThreadsTag {};

template <class Tag>
std::shared_ptr<tessera::Scheduler> make_test_scheduler() {
  if constexpr (std::is_same_v<Tag, SyncTag>) return std::make_shared<tessera::SyncScheduler>();
  else return std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{2});
}

#define TESSERA_TEST_SCHEDULERS SyncTag, ThreadsTag
#include "support/futures_suite.hpp"
