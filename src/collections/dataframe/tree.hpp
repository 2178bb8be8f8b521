#pragma once

// Internal: tree reduction of per-partition partials, as Dask's split_every: combine tasks of
// at most `split_every` inputs, in partition order, until at most split_every remain.

#include <tessera/graph/delayed.hpp>

#include <vector>

namespace tessera::dataframe::detail {

inline constexpr std::size_t split_every = 8;

template <class S, class Combine>
std::vector<Delayed<S>> tree_levels(std::vector<Delayed<S>> level, const Combine& combine) {
  while (level.size() > split_every) {
    std::vector<Delayed<S>> next;
    for (std::size_t i = 0; i < level.size(); i += split_every) {
      const std::size_t end = std::min(level.size(), i + split_every);
      next.push_back(combine(std::vector<Delayed<S>>(level.begin() + static_cast<std::ptrdiff_t>(i),
                                                     level.begin() + static_cast<std::ptrdiff_t>(end))));
    }
    level = std::move(next);
  }
  return level;
}

}  // namespace tessera::dataframe::detail
