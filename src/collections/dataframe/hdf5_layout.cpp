// The DataFrame HDF5 layout: types, attributes and the checked reading of a group's layout.
#include "collections/dataframe/hdf5_layout.hpp"

#include <tessera/core/error.hpp>

#include <cstring>
#include <optional>

namespace tessera::dataframe::h5 {

namespace {

Hdf5Id string_type() {
  Hdf5Id t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

std::optional<DType> dtype_named(const std::string& name) {
  for (DType t : {DType::int64, DType::float64, DType::boolean, DType::string, DType::datetime,
                  DType::timedelta, DType::category}) {
    if (name == dtype_name(t)) return t;
  }
  return std::nullopt;
}

bool type_fits(hid_t type, DType t) {
  const auto cls = H5Tget_class(type);
  switch (t) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return cls == H5T_INTEGER;
    case DType::float64: return cls == H5T_FLOAT;
    case DType::boolean: return (cls == H5T_ENUM || cls == H5T_INTEGER) && H5Tget_size(type) == 1;
    case DType::string:
    case DType::category: return cls == H5T_STRING;  // a category is stored as its strings
  }
  return false;
}

bool has_attr(hid_t obj, const char* name) {
  const htri_t e = H5Aexists(obj, name);
  H5Eclear2(H5E_DEFAULT);
  return e > 0;
}

/// The strings of attribute `name` (a string or an array of them; variable or fixed length).
std::vector<std::string> read_strings_attr(hid_t obj, const char* name, const Where& where) {
  Hdf5Id a(H5Aopen(obj, name, H5P_DEFAULT));
  if (!a.valid()) {
    where.fail(std::string("cannot open the attribute '") + name + "': " + tessera::detail::hdf5_error_text());
  }
  Hdf5Id ft(H5Aget_type(a.get()));
  if (H5Tget_class(ft.get()) != H5T_STRING) {
    where.fail(std::string("the attribute '") + name + "' is not a string (" +
               tessera::detail::hdf5_type_text(ft.get()) + ")");
  }
  Hdf5Id space(H5Aget_space(a.get()));
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<std::string> out;
  if (H5Tis_variable_str(ft.get()) > 0) {
    std::vector<char*> p(n, nullptr);
    Hdf5Id mt = string_type();
    if (H5Aread(a.get(), mt.get(), p.data()) < 0) where.fail(std::string("reading the attribute '") + name + "'");
    for (char* s : p) out.emplace_back(s != nullptr ? s : "");
    H5Dvlen_reclaim(mt.get(), space.get(), H5P_DEFAULT, p.data());
  } else {
    const std::size_t size = H5Tget_size(ft.get());
    std::string buf(n * size, '\0');
    if (H5Aread(a.get(), ft.get(), buf.data()) < 0) where.fail(std::string("reading the attribute '") + name + "'");
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(buf.c_str() + i * size, strnlen(buf.c_str() + i * size, size));
  }
  return out;
}

std::vector<std::string> strings_or_none(hid_t obj, const char* name, const Where& where) {
  return has_attr(obj, name) ? read_strings_attr(obj, name, where) : std::vector<std::string>{};
}

std::vector<Field> read_fields(hid_t g, const char* names_attr, const char* dtypes_attr, const Where& where) {
  const auto names = strings_or_none(g, names_attr, where);
  const auto dtypes = strings_or_none(g, dtypes_attr, where);
  if (names.size() != dtypes.size()) {
    where.fail(std::string("the attribute '") + names_attr + "' names " + std::to_string(names.size()) +
               " columns, '" + dtypes_attr + "' has " + std::to_string(dtypes.size()) + " dtypes");
  }
  std::vector<Field> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto t = dtype_named(dtypes[i]);
    if (!t) {
      where.fail("column '" + names[i] + "': unknown dtype '" + dtypes[i] +
                 "' (known: int64, float64, bool, object, datetime64[ns], timedelta64[ns])");
    }
    out.push_back({names[i], *t});
  }
  return out;
}

/// Checks one column's dataset (and its mask, if any) against its dtype and nrows.
void check_dataset(hid_t g, bool index, const Field& field, std::int64_t nrows, const Where& where) {
  const std::string path = std::string(data_group(index)) + "/" + field.name;
  const std::string shown = "dataset '" + where.group + "/" + path + "'";
  if (!tessera::detail::hdf5_path_exists(g, path)) where.fail(shown + " of column '" + field.name + "' is missing");
  Hdf5Id d(H5Dopen2(g, path.c_str(), H5P_DEFAULT));
  if (!d.valid()) where.fail(shown + " is not a dataset: " + tessera::detail::hdf5_error_text());
  Hdf5Id t(H5Dget_type(d.get()));
  if (!type_fits(t.get(), field.dtype)) {
    where.fail(shown + ": its HDF5 type (" + tessera::detail::hdf5_type_text(t.get()) + ") cannot hold dtype " +
               dtype_name(field.dtype));
  }
  if (has_attr(d.get(), "dtype")) {
    const auto named = read_strings_attr(d.get(), "dtype", where);
    if (named.size() != 1 || named[0] != dtype_name(field.dtype)) {
      where.fail(shown + ": dtype mismatch for column '" + field.name + "': the dataset's attribute 'dtype' is '" +
                 (named.empty() ? std::string() : named[0]) + "', the group's attributes say '" +
                 dtype_name(field.dtype) + "'");
    }
  }
  const std::int64_t rows = dataset_rows(d.get());
  if (rows < 0) where.fail(shown + " is not one-dimensional");
  if (nrows >= 0 && rows != nrows) {
    where.fail("length mismatch: " + shown + " has " + std::to_string(rows) + " rows, the table " +
               std::to_string(nrows) + " (attribute 'nrows')");
  }
  const std::string mask = std::string(mask_group(index)) + "/" + field.name;
  if (nrows < 0 || !tessera::detail::hdf5_path_exists(g, mask)) return;
  Hdf5Id m(H5Dopen2(g, mask.c_str(), H5P_DEFAULT));
  if (!m.valid()) where.fail("mask '" + where.group + "/" + mask + "' is not a dataset");
  Hdf5Id mt(H5Dget_type(m.get()));
  if (!type_fits(mt.get(), DType::boolean)) {
    where.fail("mask dataset '" + where.group + "/" + mask + "' of column '" + field.name + "': its HDF5 type (" +
               tessera::detail::hdf5_type_text(mt.get()) + ") is not uint8 or bool");
  }
  const std::int64_t mrows = dataset_rows(m.get());
  if (mrows != nrows) {
    where.fail("length mismatch: mask dataset '" + where.group + "/" + mask + "' has " + std::to_string(mrows) +
               " rows, the table " + std::to_string(nrows));
  }
}

}  // namespace

Hdf5Id file_type(DType t) {
  switch (t) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return Hdf5Id(H5Tcopy(H5T_STD_I64LE));
    case DType::float64: return Hdf5Id(H5Tcopy(H5T_IEEE_F64LE));
    case DType::boolean: return tessera::detail::hdf5_bool_type();
    case DType::string:
    case DType::category: return string_type();
  }
  return Hdf5Id();
}

Hdf5Id mem_type(DType t) {
  switch (t) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: return Hdf5Id(H5Tcopy(H5T_NATIVE_INT64));
    case DType::float64: return Hdf5Id(H5Tcopy(H5T_NATIVE_DOUBLE));
    case DType::boolean: return tessera::detail::hdf5_bool_type();
    case DType::string:
    case DType::category: return string_type();
  }
  return Hdf5Id();
}

void write_strings_attr(hid_t obj, const char* name, const std::vector<std::string>& values) {
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  const hsize_t n = values.size();
  Hdf5Id space(H5Screate_simple(1, &n, nullptr));
  Hdf5Id t = string_type();
  Hdf5Id a(H5Acreate2(obj, name, t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), t.get(), p.data()) < 0) {
    TESSERA_THROW(StorageError, "to_hdf5: writing the attribute '", name, "': ", tessera::detail::hdf5_error_text());
  }
}

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  Hdf5Id space(H5Screate(H5S_SCALAR));
  Hdf5Id t = string_type();
  const char* p = value.c_str();
  Hdf5Id a(H5Acreate2(obj, name, t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), t.get(), &p) < 0) {
    TESSERA_THROW(StorageError, "to_hdf5: writing the attribute '", name, "': ", tessera::detail::hdf5_error_text());
  }
}

void write_int64_attr(hid_t obj, const char* name, std::int64_t value) {
  Hdf5Id space(H5Screate(H5S_SCALAR));
  Hdf5Id a(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), H5T_NATIVE_INT64, &value) < 0) {
    TESSERA_THROW(StorageError, "to_hdf5: writing the attribute '", name, "': ", tessera::detail::hdf5_error_text());
  }
}

void write_schema_attrs(hid_t group, const Schema& s) {
  write_string_attr(group, "tessera_layout", layout_name);
  const auto put = [group](const std::vector<Field>& fields, const char* names_attr, const char* dtypes_attr) {
    if (fields.empty()) return;
    std::vector<std::string> names, dtypes;
    for (const auto& f : fields) {
      names.push_back(f.name);
      dtypes.emplace_back(dtype_name(f.dtype));
    }
    write_strings_attr(group, names_attr, names);
    write_strings_attr(group, dtypes_attr, dtypes);
  };
  put(s.columns, "columns", "dtypes");
  write_string_attr(group, "index_type", s.index.empty() ? "range" : "columns");
  put(s.index, "index", "index_dtypes");
}

std::int64_t dataset_rows(hid_t dataset) {
  Hdf5Id space(H5Dget_space(dataset));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return -1;
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return static_cast<std::int64_t>(n);
}

Layout read_layout(hid_t f, const Where& where, Hdf5Id& group_out) {
  if (where.group.empty() || !tessera::detail::hdf5_path_exists(f, where.group)) where.fail("no such group");
  Hdf5Id g(H5Gopen2(f, where.group.c_str(), H5P_DEFAULT));
  if (!g.valid()) where.fail("not a group: " + tessera::detail::hdf5_error_text());
  if (!has_attr(g.get(), "tessera_layout")) {
    where.fail("not a DataFrame in tessera's layout (no attribute 'tessera_layout')");
  }
  const auto name = read_strings_attr(g.get(), "tessera_layout", where);
  if (name.size() != 1 || name[0] != layout_name) {
    where.fail("unknown layout '" + (name.empty() ? std::string() : name[0]) + "' (expected '" + layout_name + "')");
  }
  Layout out;
  out.schema.columns = read_fields(g.get(), "columns", "dtypes", where);
  out.schema.index = read_fields(g.get(), "index", "index_dtypes", where);
  const auto index_type = strings_or_none(g.get(), "index_type", where);
  const std::string want_index = out.schema.index.empty() ? "range" : "columns";
  if (index_type.size() != 1 || index_type[0] != want_index) {
    where.fail("the attribute 'index_type' is '" + (index_type.empty() ? std::string() : index_type[0]) +
               "', expected '" + want_index + "' (" + (out.schema.index.empty() ? "no" : "an") +
               " attribute 'index')");
  }
  if (has_attr(g.get(), "nrows")) {
    Hdf5Id a(H5Aopen(g.get(), "nrows", H5P_DEFAULT));
    if (!a.valid() || H5Aread(a.get(), H5T_NATIVE_INT64, &out.nrows) < 0 || out.nrows < 0) {
      where.fail("cannot read the attribute 'nrows'");
    }
  }
  for (const auto& c : out.schema.columns) check_dataset(g.get(), false, c, out.nrows, where);
  for (const auto& c : out.schema.index) check_dataset(g.get(), true, c, out.nrows, where);
  group_out = std::move(g);
  return out;
}

}  // namespace tessera::dataframe::h5
