#pragma once

/// @file
/// Internal: tree reductions over a list of partial results (Dask's `split_every`).

#include <tessera/core/error.hpp>
#include <tessera/graph/delayed.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace tessera::bag::detail {

/// Combines `partials` `split_every` at a time with `combine(list) -> Delayed<A>` until at most
/// `split_every` are left, then `finish(list)` makes the one result. So 4 partials with
/// split_every 4 are 4 partials -> 1 aggregate; N take ceil(log_k N) levels.
/// Throws: GraphError if split_every < 2 or there are no partials.
template <class A, class Combine, class Finish>
auto tree_reduce(std::vector<Delayed<A>> partials, int split_every, Combine combine, Finish finish) {
  if (split_every < 2) TESSERA_THROW(GraphError, "bag reduction: split_every must be >= 2, got ", split_every);
  if (partials.empty()) TESSERA_THROW(GraphError, "bag reduction of a bag without partitions");
  const auto k = static_cast<std::size_t>(split_every);
  while (partials.size() > k) {
    std::vector<Delayed<A>> next;
    for (std::size_t i = 0; i < partials.size(); i += k) {
      const auto end = std::min(partials.size(), i + k);
      std::vector<Delayed<A>> group(partials.begin() + static_cast<std::ptrdiff_t>(i),
                                    partials.begin() + static_cast<std::ptrdiff_t>(end));
      next.push_back(group.size() == 1 ? group.front() : combine(group));
    }
    partials = std::move(next);
  }
  return finish(partials);
}

}  // namespace tessera::bag::detail
