#pragma once

/// @file
/// tessera::Comm: an opaque, copyable handle on an MPI communicator, with the handful of
/// collectives the runtime needs (barrier, reductions, byte broadcast/gather). Part of the
/// transport layer; this header does not include <mpi.h>.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

namespace tessera {

namespace detail {
struct CommState;
struct CommAccess;
enum class ReduceOp { sum, max, min };
}  // namespace detail

/// Handle on a communicator owned by an Environment (or by a Messenger). Copies share the
/// communicator; it is freed by its owner, after which every call throws TransportError.
///
/// Thread safety: calls on one communicator must not overlap (MPI collectives on one
/// communicator are ordered); distinct communicators may be used from distinct threads.
class Comm {
public:
  /// A null handle: valid() is false and every other call throws TransportError.
  Comm() = default;

  /// Rank of this process in the communicator.
  /// Throws: TransportError if the handle is null or the communicator was freed.
  [[nodiscard]] int rank() const;
  /// Number of processes in the communicator.
  /// Throws: TransportError if the handle is null or the communicator was freed.
  [[nodiscard]] int size() const;
  /// True while the handle refers to a live communicator.
  [[nodiscard]] bool valid() const noexcept;

  /// Blocks until every rank has called it.
  /// Collective: every rank. Throws: TransportError on MPI failure.
  void barrier() const;

  /// Sum / max / min of `value` over all ranks, returned on every rank. Integral types are
  /// reduced as int64, floating-point types as double.
  /// Collective: every rank. Throws: TransportError on MPI failure.
  template <class T>
    requires std::is_arithmetic_v<T>
  [[nodiscard]] T all_reduce_sum(T value) const { return reduce(value, detail::ReduceOp::sum); }
  template <class T>
    requires std::is_arithmetic_v<T>
  [[nodiscard]] T all_reduce_max(T value) const { return reduce(value, detail::ReduceOp::max); }
  template <class T>
    requires std::is_arithmetic_v<T>
  [[nodiscard]] T all_reduce_min(T value) const { return reduce(value, detail::ReduceOp::min); }

  /// True on every rank iff `flag` is true on every rank. Use it before a REQUIRE or an early
  /// return that would otherwise make ranks disagree about which collective comes next.
  /// Collective: every rank. Throws: TransportError on MPI failure.
  [[nodiscard]] bool all_of(bool flag) const { return all_reduce_min(flag ? 1 : 0) == 1; }
  /// True on every rank iff `flag` is true on at least one rank.
  /// Collective: every rank. Throws: TransportError on MPI failure.
  [[nodiscard]] bool any_of(bool flag) const { return all_reduce_max(flag ? 1 : 0) == 1; }

  /// Copies `bytes` of rank `root` into `bytes` on every other rank (resized to fit). Any size;
  /// sent in pieces of at most 1 GiB.
  /// Collective: every rank, same root. Throws: TransportError on MPI failure or a bad root.
  void broadcast(std::vector<std::byte>& bytes, int root = 0) const;

  /// Gathers each rank's `bytes` on `root`: element r of the result holds rank r's bytes; the
  /// result is empty on other ranks. The total must stay below 2 GiB.
  /// Collective: every rank, same root. Throws: TransportError on MPI failure, a bad root or
  /// a total of 2 GiB or more.
  [[nodiscard]] std::vector<std::vector<std::byte>> gather(std::span<const std::byte> bytes,
                                                           int root = 0) const;

  /// Every rank's `value`, indexed by rank, on every rank.
  /// Collective: every rank. Throws: TransportError on MPI failure.
  [[nodiscard]] std::vector<std::uint64_t> all_gather(std::uint64_t value) const;

private:
  friend struct detail::CommAccess;
  explicit Comm(std::shared_ptr<detail::CommState> state) : m_state(std::move(state)) {}

  template <class T>
  T reduce(T value, detail::ReduceOp op) const {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(reduce_double(static_cast<double>(value), op));
    } else {
      return static_cast<T>(reduce_i64(static_cast<std::int64_t>(value), op));
    }
  }
  [[nodiscard]] std::int64_t reduce_i64(std::int64_t value, detail::ReduceOp op) const;
  [[nodiscard]] double reduce_double(double value, detail::ReduceOp op) const;

  std::shared_ptr<detail::CommState> m_state;
};

}  // namespace tessera
