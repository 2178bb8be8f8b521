// read_hdf5: the layout is checked on the driver; each partition task reads a row range.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/collections/dataframe/hdf5.hpp>

#include <tessera/storage/hdf5_lock.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/hdf5_layout.hpp"

#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

namespace tessera::dataframe {

namespace {

using tessera::detail::Hdf5Lock;
using h5::Hdf5Id;

constexpr const char* op = "read_hdf5";

/// Reads rows [begin, begin + n) of `d` into `out` (memory type `mt`).
void read_rows(hid_t d, hid_t mt, void* out, std::int64_t begin, std::size_t n, const h5::Where& where,
               const std::string& path) {
  if (n == 0) return;  // an empty hyperslab is an error in some HDF5 versions
  const hsize_t start = static_cast<hsize_t>(begin), count = n;
  Hdf5Id space(H5Dget_space(d));
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Hdf5Id mem(H5Screate_simple(1, &count, nullptr));
  if (H5Dread(d, mt, mem.get(), space.get(), H5P_DEFAULT, out) < 0) {
    where.fail("reading rows " + std::to_string(begin) + ".." + std::to_string(begin + static_cast<std::int64_t>(n)) +
               " of '" + path + "': " + tessera::detail::hdf5_error_text());
  }
}

/// Strings of a variable-length or fixed-length string dataset; a null row (valid[i] == 0)
/// gets "" whatever the file holds there.
void read_strings(hid_t d, Column& c, std::int64_t begin, std::size_t n, const std::vector<std::uint8_t>& valid,
                  const h5::Where& where, const std::string& path) {
  Hdf5Id ft(H5Dget_type(d));
  c.offsets.reserve(n + 1);
  const auto push = [&](std::size_t i, std::string_view s) {
    c.push_str(valid.empty() || valid[i] ? s : std::string_view());
  };
  if (H5Tis_variable_str(ft.get()) > 0) {
    Hdf5Id mt = h5::mem_type(DType::string);
    std::vector<char*> p(n, nullptr);
    read_rows(d, mt.get(), p.data(), begin, n, where, path);
    for (std::size_t i = 0; i < n; ++i) push(i, p[i] != nullptr ? std::string_view(p[i]) : std::string_view());
    const hsize_t count = n;
    Hdf5Id mem(H5Screate_simple(1, &count, nullptr));
    if (n > 0) H5Dvlen_reclaim(mt.get(), mem.get(), H5P_DEFAULT, p.data());
    return;
  }
  const std::size_t size = H5Tget_size(ft.get());
  Hdf5Id mt(H5Tcopy(ft.get()));
  std::string buf(n * size, '\0');
  read_rows(d, mt.get(), buf.data(), begin, n, where, path);
  for (std::size_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * size;
    push(i, std::string_view(s, strnlen(s, size)));
  }
}

/// One-byte values (bools, masks) of an int8/uint8 or h5py bool-enum dataset, as 0 or 1.
std::vector<std::uint8_t> read_flags(hid_t d, std::int64_t begin, std::size_t n, const h5::Where& where,
                                     const std::string& path) {
  Hdf5Id ft(H5Dget_type(d));
  const bool is_enum = H5Tget_class(ft.get()) == H5T_ENUM;
  Hdf5Id mt(is_enum ? tessera::detail::hdf5_bool_type().release() : H5Tcopy(H5T_NATIVE_UINT8));
  std::vector<std::uint8_t> out(n);
  read_rows(d, mt.get(), out.data(), begin, n, where, path);
  for (auto& b : out) b = b != 0 ? 1 : 0;
  return out;
}

/// The mask of a column's rows (empty: no mask, every row valid).
std::vector<std::uint8_t> read_mask(hid_t g, bool index, const Field& field, std::int64_t begin, std::size_t n,
                                    const h5::Where& where) {
  const std::string mask = std::string(h5::mask_group(index)) + "/" + field.name;
  if (!tessera::detail::hdf5_path_exists(g, mask)) return {};
  Hdf5Id m(H5Dopen2(g, mask.c_str(), H5P_DEFAULT));
  return read_flags(m.get(), begin, n, where, mask);
}

/// One column's rows [begin, begin + n), nulls from its mask (or NaT) restored; a null row's
/// slot holds 0, NaN or "" (Column's invariant) whatever the file holds there.
Column read_column(hid_t g, bool index, const Field& field, std::int64_t begin, std::size_t n, const h5::Where& where) {
  const std::string path = std::string(h5::data_group(index)) + "/" + field.name;
  Hdf5Id d(H5Dopen2(g, path.c_str(), H5P_DEFAULT));
  const std::vector<std::uint8_t> valid = read_mask(g, index, field, begin, n, where);
  Column c(field.dtype);
  Hdf5Id mt = h5::mem_type(field.dtype);
  switch (field.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta: c.i64.resize(n); read_rows(d.get(), mt.get(), c.i64.data(), begin, n, where, path); break;
    case DType::float64: c.f64.resize(n); read_rows(d.get(), mt.get(), c.f64.data(), begin, n, where, path); break;
    case DType::boolean: c.b8 = read_flags(d.get(), begin, n, where, path); break;
    case DType::string: read_strings(d.get(), c, begin, n, valid, where, path); break;
    case DType::category: {  // stored as its strings: categories rebuilt (sorted) per partition read
      Column s(DType::string);
      read_strings(d.get(), s, begin, n, valid, where, path);
      for (std::size_t i = 0; i < n; ++i) {
        if (!valid.empty() && valid[i] == 0) s.set_null(i);
      }
      return to_categorical(s);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool nat = (field.dtype == DType::datetime || field.dtype == DType::timedelta) && c.i64[i] == h5::nat;
    if (!(nat || (!valid.empty() && valid[i] == 0))) continue;
    if (field.dtype == DType::int64 || field.dtype == DType::datetime || field.dtype == DType::timedelta) c.i64[i] = 0;
    if (field.dtype == DType::float64) c.f64[i] = std::nan("");
    if (field.dtype == DType::boolean) c.b8[i] = 0;
    c.set_null(i);
  }
  return c;
}

/// Task: rows [begin, end) of `group` as a Table.
Table read_part(const std::string& file, const std::string& group, std::int64_t begin, std::int64_t end) {
  Hdf5Lock lock;
  Hdf5Id f = tessera::detail::hdf5_open_file(file, H5F_ACC_RDONLY, op, "group", group);
  const h5::Where where{op, file, group};
  Hdf5Id g;
  const h5::Layout layout = h5::read_layout(f.get(), where, g);
  if (end > layout.nrows) where.fail("rows up to " + std::to_string(end) + " asked of " + std::to_string(layout.nrows));
  const auto n = static_cast<std::size_t>(end - begin);
  Table t;
  for (const auto& field : layout.schema.columns) {
    t.add_column(field.name, read_column(g.get(), false, field, begin, n, where));
  }
  std::vector<std::string> names;
  std::vector<Column> cols;
  for (const auto& field : layout.schema.index) {
    names.push_back(field.name);
    cols.push_back(read_column(g.get(), true, field, begin, n, where));
  }
  if (!names.empty()) t.set_index(std::move(names), std::move(cols));
  return t;
}

std::int64_t rows_per_part(const Hdf5ReadOptions& o, std::int64_t nrows, const h5::Where& where) {
  if (o.partition_rows < 0 || o.npartitions < 0) where.fail("partition_rows and npartitions must not be negative");
  if (o.partition_rows > 0 && o.npartitions > 0) where.fail("give partition_rows or npartitions, not both");
  if (o.partition_rows > 0) return o.partition_rows;
  if (o.npartitions > 0) return std::max<std::int64_t>(1, (nrows + o.npartitions - 1) / o.npartitions);
  return std::int64_t{1} << 20;
}

}  // namespace

DataFrame read_hdf5(const std::string& file, const std::string& group, const Hdf5ReadOptions& options) {
  const h5::Where where{op, file, group};
  h5::Layout layout;
  {
    Hdf5Lock lock;
    Hdf5Id f = tessera::detail::hdf5_open_file(file, H5F_ACC_RDONLY, op, "group", group);
    Hdf5Id g;
    layout = h5::read_layout(f.get(), where, g);
  }
  if (layout.nrows < 0) where.fail("no attribute 'nrows' (a write that did not finish?)");
  const std::int64_t step = rows_per_part(options, layout.nrows, where);
  auto fn = delayed(read_part, {.name = "read-hdf5", .pure = true});
  std::vector<Delayed<Table>> parts;
  for (std::int64_t b = 0; b < layout.nrows || parts.empty(); b += step) {
    parts.push_back(fn(file, group, b, std::min(layout.nrows, b + step)));
  }
  return DataFrame(layout.schema, std::move(parts));
}

}  // namespace tessera::dataframe
