#pragma once
// Private to the transport layer (never installed): MPI error checking and the Comm internals.

#include <tessera/transport/comm.hpp>

#include <mpi.h>

#include <memory>

namespace tessera::detail {

/// Throws TransportError "<call> failed on rank <r>: <MPI error string> (code <c>)".
[[noreturn]] void throw_mpi_error(const char* call, int code);

/// Text of an MPI error code.
std::string mpi_error_string(int code);

/// World rank of this process, or -1 when MPI is not up (for messages only).
int world_rank_for_messages() noexcept;

struct CommState {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = -1;
  int size = 0;
};

struct CommAccess {
  static Comm make(std::shared_ptr<CommState> state) { return Comm(std::move(state)); }
  static const std::shared_ptr<CommState>& state(const Comm& c) { return c.m_state; }
  /// The MPI communicator of `c`. Throws: TransportError if null or freed.
  static MPI_Comm native(const Comm& c);
};

/// Duplicates `parent` with MPI_ERRORS_RETURN set on the copy. Collective over `parent`.
std::shared_ptr<CommState> duplicate_comm(MPI_Comm parent);
/// Frees the communicator of `state` (if any) and marks it freed. Never throws.
void free_comm(CommState& state) noexcept;

}  // namespace tessera::detail

/// Calls an MPI function and throws TransportError naming it if it does not succeed.
#define TESSERA_MPI_CHECK(fn, ...)                                     \
  do {                                                                 \
    if (const int tessera_mpi_rc_ = fn(__VA_ARGS__); tessera_mpi_rc_ != MPI_SUCCESS) { \
      ::tessera::detail::throw_mpi_error(#fn, tessera_mpi_rc_);        \
    }                                                                  \
  } while (false)
