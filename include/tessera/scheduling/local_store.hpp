#pragma once

/// @file
/// The store that keeps the results of sync and threads runs in this process under a memory
/// limit, and spills them to HDF5 past it (MPI workers each have their own).

#include <tessera/storage/result_store.hpp>

#include <memory>

namespace tessera {

/// The store of local (sync and threads) runs in this process: created on the first call from
/// TESSERA_MEMORY_LIMIT (a size, a fraction of the node's memory, or "auto"), the thresholds
/// TESSERA_MEMORY_TARGET/SPILL/PAUSE and TESSERA_SPILL_DIR. Null when TESSERA_MEMORY_LIMIT is
/// unset: results then stay in memory. Its stats() tell how much was held and spilled.
/// Throws: ConfigError for an invalid setting (nothing is kept then: the next call checks again).
/// Thread safety: any thread.
std::shared_ptr<ResultStore> local_result_store();

}  // namespace tessera
