#pragma once

/// @file
/// Code pointers that survive the trip to another rank. Every rank runs the same executable
/// (checked at start-up by the MPI runtime), but address-space layout randomization loads it at
/// a different address on each rank, so a function travels as (module, offset from the module's
/// load address) and is turned back into an address on arrival.

#include <cstdint>
#include <string>

namespace tessera {

/// A code address as (hash of the module's path, offset into the module).
struct CodeRef {
  std::uint64_t module = 0;
  std::uint64_t offset = 0;
  friend bool operator==(const CodeRef&, const CodeRef&) = default;
};

/// Translates a code address of this process into a CodeRef.
/// Throws: SerializationError if the address is in no loaded module (e.g. JIT code).
CodeRef code_ref(const void* address);

/// Translates a CodeRef into an address of this process.
/// Throws: SerializationError if the module is not loaded here (a different binary).
const void* resolve_code_ref(const CodeRef& ref);

/// Best-effort symbol name of a code address ("inc" for `int inc(int)`), or "" when the symbol
/// is not exported (link executables with ENABLE_EXPORTS / -rdynamic to get names).
std::string symbol_name(const void* address);

}  // namespace tessera
