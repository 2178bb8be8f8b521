#pragma once

/// @file
/// The one process-wide lock around every HDF5 call. Debian's HDF5 is built without its
/// thread-safety option, so no two threads may be inside the HDF5 library at once, whichever
/// layer (spill store, array I/O) makes the call. This header does not include <hdf5.h>.

#include <mutex>

namespace tessera::detail {

/// The mutex every HDF5 call in this process must hold. Recursive, so a helper that takes it may
/// call another helper that takes it too.
/// Thread safety: safe to call from any thread; the same object is returned every time.
std::recursive_mutex& hdf5_mutex() noexcept;

/// Holds hdf5_mutex() for the lifetime of the object.
class Hdf5Lock {
public:
  Hdf5Lock() : m_lock(hdf5_mutex()) {}

private:
  std::lock_guard<std::recursive_mutex> m_lock;
};

}  // namespace tessera::detail
