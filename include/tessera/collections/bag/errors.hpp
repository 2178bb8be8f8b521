#pragma once

/// @file
/// The errors of tessera::bag.
///
/// @code
/// try {
///   tessera::compute(tb::from_sequence(v).map([](int x) { return 10 / x; }));
/// } catch (const tessera::TaskError& e) {
///   // e.what(): "... bag partition 0, element 3: std::domain_error: ..."
/// }
/// @endcode
///
/// Inside a task these are thrown by the task and reach compute() as tessera::TaskError, whose
/// message carries theirs (the failing task's key and rank come first).

#include <tessera/core/error.hpp>

#include <cstddef>
#include <cstdint>

namespace tessera::bag {

/// A user function failed on one element: the message names the partition, the element's index
/// in it (before the fused operations of the task) and the original exception's type and text.
class ElementError : public Error {
public:
  using Error::Error;
};

/// A file could not be found, read, decoded or written: the message names the file (and the
/// line, for text that is not valid UTF-8 or JSON), or the glob and what it matched.
class FileError : public Error {
public:
  using Error::Error;
};

namespace detail {
/// Thrown by per-partition kernels that know the failing element's index but not the
/// partition; rethrow_partition turns it into an ElementError naming both.
class IndexedFailure : public Error {
public:
  using Error::Error;
};
/// Throws IndexedFailure for the exception being handled. Call only inside a catch block.
[[noreturn]] void rethrow_index(std::size_t index);
/// Throws ElementError for the exception being handled. Call only inside a catch block.
[[noreturn]] void rethrow_element(std::uint64_t partition, std::size_t index);
/// Throws ElementError naming only the partition (a per-partition function failed).
[[noreturn]] void rethrow_partition(std::uint64_t partition);
}  // namespace detail

}  // namespace tessera::bag
