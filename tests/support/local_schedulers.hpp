#pragma once

// Tags naming the in-process schedulers for TEST_CASE_TEMPLATE, and the factory that makes them.

#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/threads.hpp>

#include <memory>
#include <type_traits>

struct SyncTag {};
struct ThreadsTag {};

namespace tessera::testing {

/// The scheduler a tag names; ThreadsTag gets a pool of `threads` threads.
template <class Tag>
std::shared_ptr<Scheduler> local_scheduler(unsigned threads) {
  if constexpr (std::is_same_v<Tag, SyncTag>) return std::make_shared<SyncScheduler>();
  else return std::make_shared<ThreadScheduler>(ThreadScheduler::Options{threads});
}

}  // namespace tessera::testing
