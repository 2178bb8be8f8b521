// HDF5 helpers shared by the collections' HDF5 formats (see hdf5_common.hpp).
#include "collections/hdf5_common.hpp"

#include <tessera/core/error.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>

namespace tessera::detail {

void hdf5_fail(const char* op, const std::string& file, const char* kind, const std::string& object,
               const std::string& why) {
  TESSERA_THROW(StorageError, op, ": file '", file, "', ", kind, " '", object, "': ", why);
}

Hdf5Id hdf5_open_file(const std::string& file, unsigned flags, const char* op, const char* kind,
                      const std::string& object) {
  hdf5_init();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) hdf5_fail(op, file, kind, object, "the file does not exist");
  if (H5Fis_hdf5(file.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    hdf5_fail(op, file, kind, object, "not an HDF5 file");
  }
  Hdf5Id f(H5Fopen(file.c_str(), flags, H5P_DEFAULT));
  if (!f.valid()) hdf5_fail(op, file, kind, object, "cannot open: " + hdf5_error_text());
  return f;
}

bool hdf5_path_exists(hid_t loc, const std::string& path) {
  const bool absolute = !path.empty() && path[0] == '/';
  std::string prefix;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const std::size_t next = path.find('/', pos);
    const std::string part = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!part.empty()) {
      prefix += (absolute || !prefix.empty() ? "/" : "") + part;
      if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return true;
}

Hdf5Id hdf5_bool_type() {
  Hdf5Id t(H5Tenum_create(H5T_NATIVE_INT8));
  std::int8_t v = 0;
  H5Tenum_insert(t.get(), "FALSE", &v);
  v = 1;
  H5Tenum_insert(t.get(), "TRUE", &v);
  return t;
}

std::string hdf5_partial_name(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  const auto slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  return parent + "." + leaf + ".tessera-partial-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string hdf5_type_text(hid_t type) {
  const auto cls = H5Tget_class(type);
  const char* names[] = {"integer", "float", "time", "string", "bitfield", "opaque", "compound",
                         "reference", "enum", "vlen", "array"};
  const std::string c = cls >= 0 && cls < 11 ? names[cls] : "unknown";
  return c + " of " + std::to_string(H5Tget_size(type)) + " bytes";
}

}  // namespace tessera::detail
