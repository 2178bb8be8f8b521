#pragma once

/// @file
/// The identity of the running executable: which binary this process runs, so that ranks of one
/// job (transport's check_same_binary) and a checkpoint and its resumed run (storage) can tell
/// whether they run the same code.

#include <string>

namespace tessera {

/// Identity of the running executable: "build-id:<hex>" from the GNU build-id note when the
/// binary has one, else "content:<16 hex digits>" (tessera::Hasher over /proc/self/exe).
/// Throws: tessera::Error if /proc/self/exe cannot be read in the fallback case.
/// Thread safety: any.
[[nodiscard]] std::string executable_fingerprint();

/// Path of the running executable (/proc/self/exe resolved), or "<unknown>".
/// Thread safety: any.
[[nodiscard]] std::string executable_path();

}  // namespace tessera
