// to_hdf5: the driver creates a temporary group, a chain of tasks appends the partitions one
// after the other, the driver renames the group into place (or removes it on failure).
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/collections/dataframe/hdf5.hpp>

#include <tessera/scheduling/scheduler.hpp>
#include <tessera/storage/hdf5_lock.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/hdf5_layout.hpp"

#include <filesystem>
#include <string_view>

namespace tessera::dataframe {

namespace {

using tessera::detail::Hdf5Lock;
using h5::Hdf5Id;

constexpr const char* op = "to_hdf5";

/// An empty, chunked, extendible 1-D dataset `path` of `type` under `loc`, with `dcpl`.
Hdf5Id create_dataset(hid_t loc, const std::string& path, hid_t type, hid_t dcpl, const h5::Where& where) {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  Hdf5Id space(H5Screate_simple(1, &zero, &unlimited));
  Hdf5Id d(H5Dcreate2(loc, path.c_str(), type, space.get(), H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (!d.valid()) where.fail("cannot create the dataset '" + path + "': " + tessera::detail::hdf5_error_text());
  return d;
}

/// The temporary group: layout attributes and an empty dataset per column.
void create_group(hid_t f, const std::string& tmp, const Schema& s, const Hdf5WriteOptions& o, const h5::Where& where) {
  Hdf5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hdf5Id g(H5Gcreate2(f, tmp.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!g.valid()) where.fail("cannot create the group: " + tessera::detail::hdf5_error_text());
  h5::write_schema_attrs(g.get(), s);
  Hdf5Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  const auto chunk = static_cast<hsize_t>(o.chunk_rows);
  H5Pset_chunk(dcpl.get(), 1, &chunk);
  if (o.compression > 0) H5Pset_deflate(dcpl.get(), static_cast<unsigned>(o.compression));
  for (const bool index : {false, true}) {
    const auto& fields = index ? s.index : s.columns;
    if (fields.empty()) continue;
    Hdf5Id sub(H5Gcreate2(g.get(), h5::data_group(index), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (const auto& field : fields) {
      Hdf5Id t = h5::file_type(field.dtype);
      Hdf5Id d = create_dataset(sub.get(), field.name, t.get(), dcpl.get(), where);
      h5::write_string_attr(d.get(), "dtype", dtype_name(field.dtype));
      if (field.dtype == DType::datetime || field.dtype == DType::timedelta) {
        h5::write_string_attr(d.get(), "unit", "ns");
      }
    }
  }
}

/// Extends `d` to `before + n` rows and writes `data` (of memory type `mt`) to the last n.
void append(hid_t d, hid_t mt, const void* data, std::int64_t before, std::size_t n, const h5::Where& where,
            const std::string& path) {
  const hsize_t total = static_cast<hsize_t>(before) + n, start = static_cast<hsize_t>(before), count = n;
  if (H5Dset_extent(d, &total) < 0) where.fail("extending '" + path + "': " + tessera::detail::hdf5_error_text());
  Hdf5Id space(H5Dget_space(d));
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Hdf5Id mem(H5Screate_simple(1, &count, nullptr));
  if (H5Dwrite(d, mt, mem.get(), space.get(), H5P_DEFAULT, data) < 0) {
    where.fail("writing rows " + std::to_string(before) + ".." + std::to_string(total) + " of '" + path +
               "': " + tessera::detail::hdf5_error_text());
  }
}

/// Appends a column's values (nulls as NaT for datetimes and timedeltas).
void append_values(hid_t d, const Column& c, std::int64_t before, const h5::Where& where, const std::string& path) {
  Hdf5Id mt = h5::mem_type(c.dtype);
  const std::size_t n = c.size();
  switch (c.dtype) {
    case DType::int64: return append(d, mt.get(), c.i64.data(), before, n, where, path);
    case DType::float64: return append(d, mt.get(), c.f64.data(), before, n, where, path);
    case DType::boolean: return append(d, mt.get(), c.b8.data(), before, n, where, path);
    case DType::datetime:
    case DType::timedelta: {
      std::vector<std::int64_t> v(c.i64);
      for (std::size_t i = 0; i < n; ++i) {
        if (c.is_null(i)) v[i] = h5::nat;
      }
      return append(d, mt.get(), v.data(), before, n, where, path);
    }
    case DType::category:  // as its strings (the partitions' categories differ); dtype "category"
      return append_values(d, categorical_to_strings(c), before, where, path);
    case DType::string: {
      std::string buf;  // the values, each ended by '\0'
      buf.reserve(c.chars.size() + n);
      std::vector<std::size_t> at(n);
      for (std::size_t i = 0; i < n; ++i) {
        if (c.str(i).find('\0') != std::string_view::npos) {
          where.fail("'" + path + "' row " + std::to_string(before + static_cast<std::int64_t>(i)) +
                     ": the string holds a NUL character, which HDF5's C strings cannot store");
        }
        at[i] = buf.size();
        buf.append(c.str(i)).push_back('\0');
      }
      std::vector<const char*> p(n);
      for (std::size_t i = 0; i < n; ++i) p[i] = buf.data() + at[i];
      return append(d, mt.get(), p.data(), before, n, where, path);
    }
  }
}

/// Appends the validity of a column to its mask, created (filled with 1 for the rows before)
/// by the first partition with a null.
void append_mask(hid_t g, hid_t data, bool index, const std::string& name, const Column& c, std::int64_t before,
                 const h5::Where& where) {
  const std::string path = std::string(h5::mask_group(index)) + "/" + name;
  const bool exists = tessera::detail::hdf5_path_exists(g, path);
  if (!exists && !c.has_nulls()) return;
  Hdf5Id m;
  if (exists) {
    m = Hdf5Id(H5Dopen2(g, path.c_str(), H5P_DEFAULT));
  } else {
    Hdf5Id dcpl(H5Dget_create_plist(data));  // the column's chunks and compression
    const std::uint8_t one = 1;
    H5Pset_fill_value(dcpl.get(), H5T_NATIVE_UINT8, &one);
    Hdf5Id lcpl(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
    Hdf5Id space(H5Screate_simple(1, &zero, &unlimited));
    m = Hdf5Id(H5Dcreate2(g, path.c_str(), H5T_STD_U8LE, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
    if (!m.valid()) where.fail("cannot create the mask '" + path + "': " + tessera::detail::hdf5_error_text());
    h5::write_string_attr(m.get(), "dtype", "bool");
  }
  std::vector<std::uint8_t> valid(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) valid[i] = c.is_null(i) ? 0 : 1;
  append(m.get(), H5T_NATIVE_UINT8, valid.data(), before, c.size(), where, path);
}

void check_partition(const Table& t, const Schema& s, const h5::Where& where) {
  const Schema got = schema_of(t);
  if (got == s) return;
  std::string want, have;
  for (const auto& f : s.columns) want += " " + f.name + ":" + dtype_name(f.dtype);
  for (const auto& f : got.columns) have += " " + f.name + ":" + dtype_name(f.dtype);
  where.fail("a partition's columns (" + have + " ) or index differ from the frame's (" + want + " )");
}

/// Task: appends partition `t` after the rows the write before it (prev) left; returns the rows.
std::int64_t write_part(const Table& t, const std::vector<std::int64_t>& prev, const std::string& file,
                        const std::string& tmp, const std::string& group) {
  const std::int64_t before = prev.empty() ? 0 : prev[0];
  Hdf5Lock lock;
  Hdf5Id f = tessera::detail::hdf5_open_file(file, H5F_ACC_RDWR, op, "group", group);
  const h5::Where where{op, file, tmp};
  Hdf5Id g;
  const h5::Layout layout = h5::read_layout(f.get(), where, g);
  check_partition(t, layout.schema, h5::Where{op, file, group});
  if (t.num_rows() == 0) return before;
  for (const bool index : {false, true}) {
    const auto& names = index ? t.index_names() : t.column_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
      const Column& c = index ? t.index_columns()[i] : t.column(i);
      const std::string path = std::string(h5::data_group(index)) + "/" + names[i];
      Hdf5Id d(H5Dopen2(g.get(), path.c_str(), H5P_DEFAULT));
      append_values(d.get(), c, before, where, path);
      append_mask(g.get(), d.get(), index, names[i], c, before, where);
    }
  }
  g = Hdf5Id();
  if (!f.reset()) where.fail("closing the file: " + tessera::detail::hdf5_error_text());
  return before + static_cast<std::int64_t>(t.num_rows());
}

void check_names(const Schema& s, const h5::Where& where) {
  for (const auto* fields : {&s.columns, &s.index}) {
    for (const auto& f : *fields) {
      if (f.name.empty() || f.name == "." || f.name.find('/') != std::string::npos) {
        where.fail("the column name '" + f.name + "' cannot name a dataset (empty, '.' or holding '/')");
      }
    }
  }
}

void check_options(const Hdf5WriteOptions& o, const std::string& group, const h5::Where& where) {
  if (o.compression < 0 || o.compression > 9) {
    where.fail("compression must be 0-9, got " + std::to_string(o.compression));
  }
  if (o.chunk_rows <= 0) where.fail("chunk_rows must be positive, got " + std::to_string(o.chunk_rows));
  if (group.find_first_not_of('/') == std::string::npos) where.fail("the group must be named (not the root)");
}

/// Opens `file` read-write, creating it (created = true) if it does not exist.
Hdf5Id open_or_create(const std::string& file, const std::string& group, bool& created, const h5::Where& where) {
  std::error_code ec;
  created = !std::filesystem::exists(file, ec);
  if (!created) return tessera::detail::hdf5_open_file(file, H5F_ACC_RDWR, op, "group", group);
  tessera::detail::hdf5_init();
  Hdf5Id f(H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT));
  if (!f.valid()) where.fail("cannot create the file: " + tessera::detail::hdf5_error_text());
  return f;
}

/// The outermost group on the way to `path` that does not exist yet (`path` itself if its
/// parents all exist): what a failed write must remove.
std::string first_missing(hid_t f, const std::string& path) {
  std::size_t pos = path.find_first_not_of('/');
  while (true) {
    const std::size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    if (!tessera::detail::hdf5_path_exists(f, prefix) || next == std::string::npos) return prefix;
    pos = next + 1;
  }
}

/// Removes what a failed write left: the groups it created (`made`: the outermost), or the
/// file it created.
void clean_up(const std::string& file, const std::string& made, bool created) noexcept {
  Hdf5Lock lock;
  std::error_code ec;
  if (created) {
    std::filesystem::remove(file, ec);
    return;
  }
  if (made.empty()) return;
  tessera::detail::hdf5_init();
  Hdf5Id f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  if (f.valid()) H5Ldelete(f.get(), made.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
}

/// `group` without trailing '/'s (HDF5 resolves "a/b/" as "a/b"; its temporary sibling must
/// not land inside it).
std::string trimmed(const std::string& group) {
  const auto last = group.find_last_not_of('/');
  return last == std::string::npos ? group : group.substr(0, last + 1);
}

/// Records the rows and moves the temporary group to `group` (replacing one there).
void finish(const std::string& file, const std::string& tmp, const std::string& group, std::int64_t rows,
            const h5::Where& where) {
  Hdf5Lock lock;
  Hdf5Id f = tessera::detail::hdf5_open_file(file, H5F_ACC_RDWR, op, "group", group);
  {
    Hdf5Id g(H5Gopen2(f.get(), tmp.c_str(), H5P_DEFAULT));
    if (!g.valid()) where.fail("the temporary group '" + tmp + "' vanished: " + tessera::detail::hdf5_error_text());
    h5::write_int64_attr(g.get(), "nrows", rows);
  }
  if (tessera::detail::hdf5_path_exists(f.get(), group) && H5Ldelete(f.get(), group.c_str(), H5P_DEFAULT) < 0) {
    where.fail("removing the old group: " + tessera::detail::hdf5_error_text());
  }
  if (H5Lmove(f.get(), tmp.c_str(), H5L_SAME_LOC, group.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0) {
    where.fail("renaming '" + tmp + "' to the group: " + tessera::detail::hdf5_error_text());
  }
  if (!f.reset()) where.fail("closing the file: " + tessera::detail::hdf5_error_text());
}

}  // namespace

void to_hdf5(const DataFrame& df, const std::string& file, const std::string& group_name,
             const Hdf5WriteOptions& options, Scheduler& scheduler) {
  const std::string group = trimmed(group_name);
  const h5::Where where{op, file, group};
  check_options(options, group, where);
  check_names(df.schema(), where);
  const std::string tmp = tessera::detail::hdf5_partial_name(group);
  bool created = false;
  std::string made;  // the outermost group this write creates
  try {
    {
      Hdf5Lock lock;
      Hdf5Id f = open_or_create(file, group, created, where);
      made = first_missing(f.get(), tmp);
      create_group(f.get(), tmp, df.schema(), options, where);
      if (!f.reset()) where.fail("closing the file: " + tessera::detail::hdf5_error_text());
    }
    auto fn = delayed(write_part, {.name = "to-hdf5-chain", .pure = false});
    std::vector<Delayed<std::int64_t>> prev;
    for (const auto& p : df.partitions()) prev = {fn(p, prev, file, tmp, group)};
    const std::int64_t rows = prev.empty() ? 0 : tessera::compute(prev[0], scheduler);
    finish(file, tmp, group, rows, where);
  } catch (...) {
    clean_up(file, made, created);
    throw;
  }
}

void to_hdf5(const DataFrame& df, const std::string& file, const std::string& group, const Hdf5WriteOptions& options) {
  to_hdf5(df, file, group, options, *default_scheduler());
}

}  // namespace tessera::dataframe
