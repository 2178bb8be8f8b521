#pragma once

/// @file
/// tessera::Environment: the RAII owner of MPI's lifetime in a process, and the binary identity
/// check that every multi-rank job runs first. Part of the transport layer; this header does
/// not include <mpi.h>.
///
/// @code
/// int main(int argc, char** argv) {
///   tessera::Environment env(argc, argv);   // MPI_Init_thread(MPI_THREAD_MULTIPLE)
///   tessera::check_same_binary(env.world());
///   ...
/// }                                          // MPI_Finalize (or MPI_Abort while unwinding)
/// @endcode

#include <tessera/core/executable.hpp>
#include <tessera/transport/comm.hpp>

#include <cstdint>
#include <string>

namespace tessera {

/// MPI thread support levels, in increasing order (MPI_THREAD_SINGLE .. MPI_THREAD_MULTIPLE).
enum class ThreadLevel { single, funneled, serialized, multiple };

/// Name of a thread level: "MPI_THREAD_MULTIPLE", ...
const char* to_string(ThreadLevel level) noexcept;

/// A communicator created by code outside tessera, passed by its Fortran handle so that this
/// header needs no <mpi.h>: `tessera::ExternalComm{MPI_Comm_c2f(my_comm)}`.
struct ExternalComm {
  std::int64_t fortran_handle;
};

/// Owns MPI's lifetime for this process, and tessera's communicator.
///
/// - If MPI is not initialized, the constructor calls MPI_Init_thread asking for `wanted`
///   (MPI_THREAD_MULTIPLE by default) and records what MPI provided; the destructor calls
///   MPI_Finalize.
/// - If MPI is already initialized (tessera used as a library inside an MPI code), it neither
///   initializes nor finalizes MPI.
/// - Either way world() is a private duplicate of MPI_COMM_WORLD (or of the communicator
///   given), with MPI_ERRORS_RETURN set, so MPI failures arrive as TransportError
///   ("MPI_Isend failed on rank 3: <MPI error string> (code 15)") instead of aborting.
/// - If the destructor runs while an exception propagates (std::uncaught_exceptions() grew
///   since construction), it calls MPI_Abort, so the other ranks do not wait forever.
///
/// At most one Environment exists per process at a time (instance()).
/// Thread safety: construct and destroy on one thread (normally the main thread).
class Environment {
public:
  /// Initializes MPI if needed and duplicates MPI_COMM_WORLD.
  /// Collective: every rank of MPI_COMM_WORLD.
  /// Throws: TransportError if another Environment exists, if MPI was already finalized in
  /// this process, or on MPI failure.
  Environment(int& argc, char**& argv, ThreadLevel wanted = ThreadLevel::multiple);
  /// As above, without command-line arguments (MPI_Init_thread(nullptr, nullptr, ...)).
  explicit Environment(ThreadLevel wanted = ThreadLevel::multiple);
  /// Uses the communicator `comm` of an MPI code that has initialized MPI itself (duplicated;
  /// MPI is not finalized by tessera).
  /// Collective: every rank of `comm`.
  /// Throws: TransportError if MPI is not initialized, another Environment exists, or on MPI
  /// failure.
  explicit Environment(ExternalComm comm);

  /// Frees the communicator and finalizes MPI if this object initialized it; calls MPI_Abort
  /// instead if an exception is propagating. Never throws.
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  Environment(Environment&&) = delete;
  Environment& operator=(Environment&&) = delete;

  /// The live Environment of this process.
  /// Throws: TransportError if there is none.
  [[nodiscard]] static Environment& instance();
  /// True while an Environment exists in this process.
  [[nodiscard]] static bool exists() noexcept;

  /// tessera's communicator (a duplicate of MPI_COMM_WORLD or of the external communicator).
  [[nodiscard]] Comm world() const noexcept { return m_world; }
  /// Thread level MPI provided; may be lower than requested.
  [[nodiscard]] ThreadLevel provided() const noexcept { return m_provided; }
  /// True if this Environment called MPI_Init_thread (and will call MPI_Finalize).
  [[nodiscard]] bool owns_mpi() const noexcept { return m_owns_mpi; }

  /// Says that the exception about to propagate through this object's destructor is known to
  /// every rank (each throws it: a configuration error, missing thread support), so the
  /// destructor finalizes normally instead of calling MPI_Abort. Thread safety: as the
  /// destructor.
  void expect_agreed_failure() noexcept { m_agreed_failure = true; }

  /// Ends every process of the job now (MPI_Abort on world()). For fatal errors that other
  /// ranks cannot learn about otherwise. Prints `reason` to stderr first. Never returns.
  [[noreturn]] void abort(const std::string& reason, int exit_code = 1) const noexcept;

private:
  void init_owned(int* argc, char*** argv, ThreadLevel wanted);

  Comm m_world;
  ThreadLevel m_provided = ThreadLevel::single;
  bool m_owns_mpi = false;
  int m_uncaught_at_start = 0;
  bool m_agreed_failure = false;
};

/// Checks that every rank runs the same executable (executable_fingerprint()).
/// Collective: every rank of `comm`.
/// Throws: TransportError on every rank when they differ, naming the ranks whose executable
/// differs from rank 0's, with paths and fingerprints; TransportError on MPI failure.
void check_same_binary(const Comm& comm);

namespace detail {
/// check_same_binary with the fingerprint and path supplied (lets tests fake a mismatch).
/// Collective: every rank of `comm`.
void check_same_fingerprint(const Comm& comm, const std::string& fingerprint,
                            const std::string& path);
}  // namespace detail

}  // namespace tessera
