#include <tessera/transport/environment.hpp>

#include <tessera/core/error.hpp>

#include <atomic>
#include <cstdio>
#include <exception>

#include "transport/mpi_check.hpp"

namespace tessera {

namespace {
std::atomic<Environment*> g_instance{nullptr};

int native_level(ThreadLevel level) {
  switch (level) {
    case ThreadLevel::single: return MPI_THREAD_SINGLE;
    case ThreadLevel::funneled: return MPI_THREAD_FUNNELED;
    case ThreadLevel::serialized: return MPI_THREAD_SERIALIZED;
    case ThreadLevel::multiple: return MPI_THREAD_MULTIPLE;
  }
  return MPI_THREAD_MULTIPLE;
}

ThreadLevel from_native(int level) {
  if (level >= MPI_THREAD_MULTIPLE) return ThreadLevel::multiple;
  if (level >= MPI_THREAD_SERIALIZED) return ThreadLevel::serialized;
  if (level >= MPI_THREAD_FUNNELED) return ThreadLevel::funneled;
  return ThreadLevel::single;
}

// Claims the one-per-process slot; throws if it is taken.
void claim(Environment* self) {
  Environment* expected = nullptr;
  if (!g_instance.compare_exchange_strong(expected, self)) {
    TESSERA_THROW(TransportError, "a tessera::Environment already exists in this process (rank ",
                  detail::world_rank_for_messages(),
                  "); create exactly one, in main(), and reach it through "
                  "Environment::instance()");
  }
}

void check_not_finalized() {
  int fin = 0;
  MPI_Finalized(&fin);
  if (fin) {
    TESSERA_THROW(TransportError,
                  "MPI was already finalized in this process: MPI cannot be initialized twice, "
                  "so create one tessera::Environment for the whole run");
  }
}
}  // namespace

const char* to_string(ThreadLevel level) noexcept {
  switch (level) {
    case ThreadLevel::single: return "MPI_THREAD_SINGLE";
    case ThreadLevel::funneled: return "MPI_THREAD_FUNNELED";
    case ThreadLevel::serialized: return "MPI_THREAD_SERIALIZED";
    case ThreadLevel::multiple: return "MPI_THREAD_MULTIPLE";
  }
  return "unknown";
}

Environment::Environment(int& argc, char**& argv, ThreadLevel wanted)
    : m_uncaught_at_start(std::uncaught_exceptions()) {
  claim(this);
  try {
    init_owned(&argc, &argv, wanted);
  } catch (...) {
    g_instance.store(nullptr);
    throw;
  }
}

Environment::Environment(ThreadLevel wanted) : m_uncaught_at_start(std::uncaught_exceptions()) {
  claim(this);
  try {
    init_owned(nullptr, nullptr, wanted);
  } catch (...) {
    g_instance.store(nullptr);
    throw;
  }
}

Environment::Environment(ExternalComm comm) : m_uncaught_at_start(std::uncaught_exceptions()) {
  claim(this);
  try {
    check_not_finalized();
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      TESSERA_THROW(TransportError,
                    "Environment(ExternalComm) needs MPI to be initialized by the caller; use "
                    "Environment(argc, argv) to let tessera initialize it");
    }
    int level = MPI_THREAD_SINGLE;
    TESSERA_MPI_CHECK(MPI_Query_thread, &level);
    m_provided = from_native(level);
    const MPI_Comm parent = MPI_Comm_f2c(static_cast<MPI_Fint>(comm.fortran_handle));
    if (parent == MPI_COMM_NULL) {
      TESSERA_THROW(TransportError, "ExternalComm{", comm.fortran_handle,
                    "} is MPI_COMM_NULL; pass MPI_Comm_c2f(<your communicator>)");
    }
    m_world = detail::CommAccess::make(detail::duplicate_comm(parent));
  } catch (...) {
    g_instance.store(nullptr);
    throw;
  }
}

void Environment::init_owned(int* argc, char*** argv, ThreadLevel wanted) {
  check_not_finalized();
  int init = 0;
  MPI_Initialized(&init);
  if (init) {
    // MPI was started by someone else: use MPI_COMM_WORLD but leave finalization to them.
    int level = MPI_THREAD_SINGLE;
    TESSERA_MPI_CHECK(MPI_Query_thread, &level);
    m_provided = from_native(level);
  } else {
    int provided = MPI_THREAD_SINGLE;
    const int rc = MPI_Init_thread(argc, argv, native_level(wanted), &provided);
    if (rc != MPI_SUCCESS) detail::throw_mpi_error("MPI_Init_thread", rc);
    m_owns_mpi = true;
    m_provided = from_native(provided);
    // Errors on MPI_COMM_WORLD come back as codes too (it is ours to configure).
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  m_world = detail::CommAccess::make(detail::duplicate_comm(MPI_COMM_WORLD));
}

Environment::~Environment() {
  if (std::uncaught_exceptions() > m_uncaught_at_start && !m_agreed_failure) {
    // An exception is unwinding through main(): the other ranks are probably inside a
    // collective with us and would wait forever.
    std::fprintf(stderr,
                 "tessera: rank %d is unwinding with an exception; calling MPI_Abort so the "
                 "other ranks do not hang\n",
                 detail::world_rank_for_messages());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (const auto& state = detail::CommAccess::state(m_world)) detail::free_comm(*state);
  if (m_owns_mpi) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
  }
  g_instance.store(nullptr);
}

Environment& Environment::instance() {
  Environment* env = g_instance.load();
  if (env == nullptr) {
    TESSERA_THROW(TransportError,
                  "no tessera::Environment exists; create one in main() before using MPI "
                  "features");
  }
  return *env;
}

bool Environment::exists() noexcept { return g_instance.load() != nullptr; }

void Environment::abort(const std::string& reason, int exit_code) const noexcept {
  std::fprintf(stderr, "tessera: rank %d aborts the job: %s\n", detail::world_rank_for_messages(),
               reason.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::abort();  // MPI_Abort does not return; keep [[noreturn]] honest if it does.
}

}  // namespace tessera
