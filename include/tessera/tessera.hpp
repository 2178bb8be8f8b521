#pragma once

/// @file
/// Umbrella header: delayed, compute, the local schedulers, graph inspection and diagnostics.
/// MPI (tessera/scheduling/mpi.hpp) and collections have their own headers.

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/diagnostics/observer.hpp>
#include <tessera/diagnostics/progress.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/graph/task_graph.hpp>
#include <tessera/scheduling/compute.hpp>
#include <tessera/scheduling/local_store.hpp>
#include <tessera/scheduling/sync.hpp>
#include <tessera/scheduling/threads.hpp>
#include <tessera/futures/client.hpp>
#include <tessera/diagnostics/chrome_trace.hpp>
#include <tessera/diagnostics/summary.hpp>
