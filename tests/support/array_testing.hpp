#pragma once

// Shared by the lazy-array unit tests: the schedulers they run on, the names they use, and a
// walk over an array's task graph.

#include <tessera/collections/array/array.hpp>
#include <tessera/graph/task.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/local_schedulers.hpp"

namespace array_testing {

/// The in-process scheduler a tag names (threads: a pool of 3).
template <class Tag>
std::shared_ptr<tessera::Scheduler> sched() {
  return tessera::testing::local_scheduler<Tag>(3);
}

using tessera::Array;
using tessera::Chunks;
using tessera::DType;
using tessera::NDArray;
using tessera::Shape;
namespace ta = tessera::array;

/// Checks `got` has `shape` and elements within a relative `tol` of `want` (NaN matches NaN).
inline void check_close(const NDArray& got, const Shape& shape, const std::vector<double>& want, double tol = 1e-9) {
  REQUIRE(got.shape() == shape);
  REQUIRE(got.size() == static_cast<std::int64_t>(want.size()));
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = got.value_as_double(static_cast<std::int64_t>(i));
    if (std::isnan(want[i])) {
      CHECK(std::isnan(g));
    } else {
      CHECK_MESSAGE(std::abs(g - want[i]) <= tol * (1 + std::abs(want[i])), "element ", i, ": ", g, " vs ", want[i]);
    }
  }
}

/// The names of all tasks reachable from an array's blocks.
inline std::multiset<std::string> task_names(const Array& a) {
  std::multiset<std::string> names;
  std::set<const tessera::detail::TaskNode*> seen;
  std::vector<const tessera::detail::TaskNode*> stack;
  for (const auto& b : a.blocks()) stack.push_back(b.node().get());
  while (!stack.empty()) {
    auto* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    names.insert(std::string(n->name()));
    for (const auto& in : n->inputs) stack.push_back(in.get());
  }
  return names;
}

}  // namespace array_testing
