#pragma once

/// @file
/// Working memory: what a running task allocates outside the result store (the pieces of a
/// shuffle it splits or collects, the partition it assembles, a merge's or a sort's output),
/// charged to the store that holds this process's results before it is allocated, so that the
/// store spills its unpinned results in time and the process keeps to its memory limit.
///
/// @code
/// // In a kernel that is about to build an output of about n bytes:
/// tessera::MemoryCharge charge = tessera::charge_working_memory(n);
/// std::vector<Row> out;
/// out.reserve(n / sizeof(Row));   // counted while `charge` lives
/// @endcode

#include <tessera/storage/result_store.hpp>

#include <cstdint>

namespace tessera {

/// Makes `store` the store charge_working_memory() charges (null: none). An MPI worker sets its
/// results store at start and clears it before the store goes; the local schedulers set
/// local_result_store() under TESSERA_MEMORY_LIMIT. The store must outlive the setting and
/// every charge taken from it. Thread safety: any thread.
void set_working_memory_store(ResultStore* store) noexcept;

/// The store set by set_working_memory_store (null: none). Thread safety: any thread.
[[nodiscard]] ResultStore* working_memory_store() noexcept;

/// A charge of `bytes` against the working-memory store (ResultStore::charge: spills first),
/// or an empty charge when none is set.
/// Throws: StorageError if spilling fails. Thread safety: any thread.
[[nodiscard]] MemoryCharge charge_working_memory(std::uint64_t bytes);

}  // namespace tessera
