#include <tessera/storage/hdf5_lock.hpp>

namespace tessera::detail {

std::recursive_mutex& hdf5_mutex() noexcept {
  static std::recursive_mutex m;
  return m;
}

}  // namespace tessera::detail
