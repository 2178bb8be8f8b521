// read_hdf5: the layout is checked on the driver; each partition task reads a row range.
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/collections/dataframe/hdf5.hpp>

#include <tessera/storage/hdf5_lock.hpp>

#include "collections/dataframe/hdf5_layout.hpp"

#include <cstring>

namespace tessera::dataframe {

namespace {

using tessera::detail::Hdf5Lock;
using h5::Hdf5Id;

constexpr const char* op = "read_hdf5";

/// Reads rows [begin, begin + n) of `d` into `out` (memory type `mt`).
void read_rows(hid_t d, hid_t mt, void* out, std::int64_t begin, std::size_t n, const h5::Where& where,
               const std::string& path) {
  const hsize_t start = static_cast<hsize_t>(begin), count = n;
  Hdf5Id space(H5Dget_space(d));
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Hdf5Id mem(H5Screate_simple(1, &count, nullptr));
  if (H5Dread(d, mt, mem.get(), space.get(), H5P_DEFAULT, out) < 0) {
    where.fail("reading rows " + std::to_string(begin) + ".." + std::to_string(begin + static_cast<std::int64_t>(n)) +
               " of '" + path + "': " + tessera::detail::hdf5_error_text());
  }
}

/// Strings of a variable-length or fixed-length string dataset.
void read_strings(hid_t d, Column& c, std::int64_t begin, std::size_t n, const h5::Where& where,
                  const std::string& path) {
  Hdf5Id ft(H5Dget_type(d));
  c.offsets.reserve(n + 1);
  if (H5Tis_variable_str(ft.get()) > 0) {
    Hdf5Id mt = h5::mem_type(DType::string);
    std::vector<char*> p(n, nullptr);
    read_rows(d, mt.get(), p.data(), begin, n, where, path);
    for (char* s : p) c.push_str(s != nullptr ? std::string_view(s) : std::string_view());
    const hsize_t count = n;
    Hdf5Id mem(H5Screate_simple(1, &count, nullptr));
    H5Dvlen_reclaim(mt.get(), mem.get(), H5P_DEFAULT, p.data());
    return;
  }
  const std::size_t size = H5Tget_size(ft.get());
  Hdf5Id mt(H5Tcopy(ft.get()));
  std::string buf(n * size, '\0');
  read_rows(d, mt.get(), buf.data(), begin, n, where, path);
  for (std::size_t i = 0; i < n; ++i) c.push_str(std::string_view(buf.data() + i * size, strnlen(buf.data() + i * size, size)));
}

/// One column's rows [begin, begin + n), nulls from its mask (or NaT) restored.
Column read_column(hid_t g, bool index, const Field& field, std::int64_t begin, std::size_t n, const h5::Where& where) {
  const std::string path = std::string(h5::data_group(index)) + "/" + field.name;
  Hdf5Id d(H5Dopen2(g, path.c_str(), H5P_DEFAULT));
  Column c(field.dtype);
  Hdf5Id mt = h5::mem_type(field.dtype);
  switch (field.dtype) {
    case DType::int64:
    case DType::datetime: c.i64.resize(n); read_rows(d.get(), mt.get(), c.i64.data(), begin, n, where, path); break;
    case DType::float64: c.f64.resize(n); read_rows(d.get(), mt.get(), c.f64.data(), begin, n, where, path); break;
    case DType::boolean: {
      Hdf5Id ft(H5Dget_type(d.get()));
      Hdf5Id bt(H5Tget_class(ft.get()) == H5T_ENUM ? mt.release() : H5Tcopy(H5T_NATIVE_UINT8));
      c.b8.resize(n);
      read_rows(d.get(), bt.get(), c.b8.data(), begin, n, where, path);
      for (auto& b : c.b8) b = b != 0 ? 1 : 0;
      break;
    }
    case DType::string: read_strings(d.get(), c, begin, n, where, path); break;
  }
  const std::string mask = std::string(h5::mask_group(index)) + "/" + field.name;
  std::vector<std::uint8_t> valid;
  if (tessera::detail::hdf5_path_exists(g, mask)) {
    Hdf5Id m(H5Dopen2(g, mask.c_str(), H5P_DEFAULT));
    valid.resize(n);
    read_rows(m.get(), H5T_NATIVE_UINT8, valid.data(), begin, n, where, mask);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool nat = field.dtype == DType::datetime && c.i64[i] == h5::nat;
    if (!(nat || (!valid.empty() && valid[i] == 0))) continue;
    if (field.dtype == DType::int64 || field.dtype == DType::datetime) c.i64[i] = 0;
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
  for (const auto& field : layout.schema.columns) t.add_column(field.name, read_column(g.get(), false, field, begin, n, where));
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
