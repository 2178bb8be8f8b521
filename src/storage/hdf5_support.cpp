#include "storage/hdf5_support.hpp"

#include <tessera/storage/hdf5_lock.hpp>

#include <mutex>
#include <vector>

namespace tessera::detail {

void hdf5_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

namespace {
herr_t collect_error(unsigned /*n*/, const H5E_error2_t* err, void* client) {
  auto* out = static_cast<std::vector<std::string>*>(client);
  std::string line;
  if (err->func_name != nullptr) line += err->func_name;
  if (err->desc != nullptr && *err->desc != '\0') {
    if (!line.empty()) line += ": ";
    line += err->desc;
  }
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  out->push_back(std::move(line));
  return 0;
}
}  // namespace

std::string hdf5_error_text() {
  std::vector<std::string> lines;
  // Upward: from the innermost frame (where HDF5 detected the problem, e.g. the failed write()).
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &lines);
  H5Eclear2(H5E_DEFAULT);
  if (lines.empty()) return "unknown HDF5 error";
  std::string text;
  const std::size_t n = lines.size() < 3 ? lines.size() : 3;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) text += " <- ";
    text += lines[i];
  }
  return text;
}

bool Hdf5Id::reset() noexcept {
  if (m_id < 0) return true;
  const herr_t rc = H5Idec_ref(m_id);
  m_id = H5I_INVALID_HID;
  return rc >= 0;
}

}  // namespace tessera::detail
