#pragma once
// Helpers for multi-rank tests run by support/mpi_main.cpp.

#include <tessera/transport/environment.hpp>

namespace tessera::testing {

/// tessera's world communicator of the running test program.
inline Comm world() { return Environment::instance().world(); }

/// True on every rank iff `ok` holds on every rank. Use it before a REQUIRE: a REQUIRE that
/// fails on one rank only would make that rank skip the next collective and hang the rest.
inline bool all_ranks(bool ok) { return world().all_of(ok); }

}  // namespace tessera::testing
