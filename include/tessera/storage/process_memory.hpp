#pragma once

/// @file
/// Memory use of this process and size of the node, from /proc (Linux).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tessera {

/// Resident set size of this process now (VmRSS), in bytes; 0 if /proc is unreadable.
std::uint64_t current_rss() noexcept;

/// Peak resident set size of this process (VmHWM), in bytes; 0 if /proc is unreadable.
std::uint64_t peak_rss() noexcept;

/// Stops the C allocator from keeping freed memory that the memory limit does not see. glibc
/// raises its mmap threshold each time a large block is freed (up to 32 MiB), after which blocks
/// of chunk size come from per-thread arenas and stay resident after free: at a 16 MiB limit that
/// kept 25-35 MiB per worker beyond the held results. This fixes the threshold at
/// `mmap_threshold` bytes (default 64 KiB: shuffle pieces of 64-256 KiB stayed in the arenas at
/// 256 KiB, 64 MiB x 3 workers 125-131 MiB against 116-119; bench/README.md), so larger blocks are
/// mapped and unmapped exactly when
/// allocated and freed (hot chunk buffers are recycled by the buffer pools instead). Called by
/// every worker rank at start-up. Returns whether the allocator accepted it; never throws.
/// Thread safety: call before starting threads that allocate.
bool bound_allocator_retention(std::size_t mmap_threshold = std::size_t{64} << 10) noexcept;

/// Turns off glibc's fastbins (M_MXFAST = 0) unless GLIBC_TUNABLES sets glibc.malloc.mxfast.
/// Tasks that free millions of small objects (parsed JSON records, strings) between larger
/// allocations made glibc walk and coalesce every fastbin chunk again and again
/// (malloc_consolidate + unlink_chunk: 34 % of a JSON-lines bag run; user CPU 5.1 s -> 2.9 s
/// without fastbins, bench/README.md); the per-thread tcache still serves hot small sizes.
/// Called once per process by the local schedulers' first run and by every MPI rank at
/// start-up. Returns whether it was applied; never throws. Thread safety: any.
bool avoid_fastbin_consolidation() noexcept;

/// Advises the whole 2 MiB pages inside [data, data + bytes) as transparent huge pages
/// (madvise(MADV_HUGEPAGE)), for a fresh buffer of at least 4 MiB not yet touched: it then
/// faults in 2 MiB at a time instead of 4 KiB (each 4 KiB fault costs more than clearing the
/// page). Does nothing for smaller buffers or where the kernel refuses; never throws.
/// Thread safety: any thread.
void advise_huge_pages(const void* data, std::size_t bytes) noexcept;

/// Physical memory of the node (sysconf pages x page size), in bytes.
std::uint64_t node_physical_memory() noexcept;

/// Resets the peak RSS to the current RSS by writing "5" to /proc/self/clear_refs. Returns
/// whether the kernel accepted it (it may be refused in containers); never throws.
bool reset_peak_rss() noexcept;

/// The value in bytes of a "<field>:  <n> kB" line of /proc/<pid>/status contents, or nullopt
/// if the field is missing or malformed.
std::optional<std::uint64_t> parse_proc_status_field(std::string_view contents,
                                                     std::string_view field) noexcept;

}  // namespace tessera
