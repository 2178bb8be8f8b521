#pragma once

// The columnar HDF5 layout of DataFrames (documented in include/.../dataframe/hdf5.hpp): its
// names, the HDF5 types of each dtype, its attributes, and the checked reading of a group's
// layout that read_hdf5 and the write tasks share. Callers hold tessera::detail::hdf5_mutex().

#include <tessera/collections/dataframe/schema.hpp>

#include "collections/hdf5_common.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::dataframe::h5 {

using tessera::detail::Hdf5Id;

inline constexpr const char* layout_name = "tessera.dataframe/1";
/// Stored in a null datetime's slot: numpy's NaT.
inline constexpr std::int64_t nat = INT64_MIN;

/// "columns" / "index": the subgroup of a section's data; "valid" / "index_valid": its masks.
inline const char* data_group(bool index) { return index ? "index" : "columns"; }
inline const char* mask_group(bool index) { return index ? "index_valid" : "valid"; }

/// What a group holds: its schema and rows (-1 while a write is under way: no `nrows` yet).
struct Layout {
  Schema schema;
  std::int64_t nrows = -1;
};

/// Which operation and object an error names: "read_hdf5: file 'f', group '/g': ...".
struct Where {
  const char* op;
  const std::string& file;
  const std::string& group;
  [[noreturn]] void fail(const std::string& why) const { tessera::detail::hdf5_fail(op, file, "group", group, why); }
};

/// HDF5 file type and memory type of a dtype's values.
Hdf5Id file_type(DType t);
Hdf5Id mem_type(DType t);

/// Attributes: an array of UTF-8 strings, one string, one int64.
void write_strings_attr(hid_t obj, const char* name, const std::vector<std::string>& values);
void write_string_attr(hid_t obj, const char* name, const std::string& value);
void write_int64_attr(hid_t obj, const char* name, std::int64_t value);

/// Writes the group attributes of `s` (all but nrows).
void write_schema_attrs(hid_t group, const Schema& s);

/// Opens `group` of the open file `f` and checks it holds the layout: attributes, known
/// dtypes, every dataset present with a type that fits its dtype and, where nrows is known,
/// nrows rows (masks too). Throws: StorageError through `where`, naming what is wrong.
Layout read_layout(hid_t f, const Where& where, Hdf5Id& group_out);

/// Number of elements of a 1-D dataset.
std::int64_t dataset_rows(hid_t dataset);

}  // namespace tessera::dataframe::h5
