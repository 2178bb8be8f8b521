#pragma once

// Private HDF5 helpers shared by the collections' file formats (array/hdf5_io.cpp,
// dataframe/hdf5_*.cpp): error messages naming file and object, opening files, h5py's bool
// type, path checks, and the temporary name a write goes to before it is renamed into place.
// Every function here expects the caller to hold tessera::detail::hdf5_mutex() (Hdf5Lock).

#include "storage/hdf5_support.hpp"

#include <string>

namespace tessera::detail {

/// Throws StorageError "<op>: file '<file>', <kind> '<object>': <why>" (kind: "dataset",
/// "group").
[[noreturn]] void hdf5_fail(const char* op, const std::string& file, const char* kind, const std::string& object,
                            const std::string& why);

/// Opens an existing HDF5 file with `flags` (H5F_ACC_RDONLY / H5F_ACC_RDWR). Throws (through
/// hdf5_fail, naming `kind` `object`) if it does not exist, is not HDF5 or cannot be opened.
Hdf5Id hdf5_open_file(const std::string& file, unsigned flags, const char* op, const char* kind,
                      const std::string& object);

/// True if every component of the absolute or relative `path` exists under `loc` (so a missing
/// parent group is "absent" rather than an HDF5 error).
bool hdf5_path_exists(hid_t loc, const std::string& path);

/// h5py's bool type: an int8 enum FALSE=0, TRUE=1.
Hdf5Id hdf5_bool_type();

/// "<parent>/.<leaf>.tessera-partial-<pid>-<n>": the sibling of `path` a write fills before it
/// is renamed to `path` (unique per process and call).
std::string hdf5_partial_name(const std::string& path);

/// "integer of 8 bytes": the class and size of an HDF5 type, for error messages.
std::string hdf5_type_text(hid_t type);

}  // namespace tessera::detail
