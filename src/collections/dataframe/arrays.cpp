// DataFrame <-> Array: from_array (a partition per block of rows) and to_array (a block of rows
// per partition, the columns' common dtype).
#include <tessera/collections/dataframe/arrays.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

namespace tessera::dataframe {
namespace detail {
namespace {

using ArrayDType = tessera::DType;

template <class T>
Column column_of(std::span<const T> values, std::size_t rows, std::size_t cols, std::size_t c, DType as) {
  Column out(as);
  out.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const T v = values[r * cols + c];
    if (as == DType::boolean) out.push_bool(v != T{});
    else if (as == DType::int64) out.push_int(static_cast<std::int64_t>(v));
    else out.push_float(static_cast<double>(v));
  }
  return out;
}

DType column_dtype(ArrayDType t) {
  switch (t) {
    case ArrayDType::bool_: return DType::boolean;
    case ArrayDType::uint8:
    case ArrayDType::int32:
    case ArrayDType::int64: return DType::int64;
    case ArrayDType::float32:
    case ArrayDType::float64: break;
  }
  return DType::float64;
}

/// One block of rows of a 1-d or 2-d array as a table.
Table block_to_table(const NDArray& block, const std::vector<std::string>& names) {
  const std::size_t rows = block.ndim() == 0 ? 1 : static_cast<std::size_t>(block.shape()[0]);
  const std::size_t cols = block.ndim() == 2 ? static_cast<std::size_t>(block.shape()[1]) : 1;
  if (cols != names.size()) {
    TESSERA_THROW(ShapeError, "from_array: a block has ", cols, " columns, the frame ", names.size());
  }
  const DType as = column_dtype(block.dtype());
  Table out;
  for (std::size_t c = 0; c < cols; ++c) {
    Column col;
    switch (block.dtype()) {
      case ArrayDType::bool_: col = column_of(block.data<bool>(), rows, cols, c, as); break;
      case ArrayDType::uint8: col = column_of(block.data<std::uint8_t>(), rows, cols, c, as); break;
      case ArrayDType::int32: col = column_of(block.data<std::int32_t>(), rows, cols, c, as); break;
      case ArrayDType::int64: col = column_of(block.data<std::int64_t>(), rows, cols, c, as); break;
      case ArrayDType::float32: col = column_of(block.data<float>(), rows, cols, c, as); break;
      case ArrayDType::float64: col = column_of(block.data<double>(), rows, cols, c, as); break;
    }
    out.add_column(names[c], std::move(col));
  }
  return out;
}

template <class T>
T cell(const Column& c, std::size_t r) {
  if constexpr (std::is_same_v<T, double>) {
    if (c.is_null(r)) return std::numeric_limits<double>::quiet_NaN();
    return c.as_double(r);
  } else if constexpr (std::is_same_v<T, bool>) {
    return c.b8[r] != 0;
  } else {
    return c.i64[r];
  }
}

template <class T>
NDArray fill(const Table& t, std::size_t rows, std::uint32_t index) {
  const std::size_t cols = t.num_columns();
  if constexpr (!std::is_same_v<T, double>) {
    for (std::size_t c = 0; c < cols; ++c) {
      if (t.column(c).has_nulls()) {
        TESSERA_THROW(TypeError, "to_array: column '", t.column_names()[c], "' has nulls in partition ", index,
                      " and an ", dtype_name(t.column(c).dtype), " Array has no NaN (astype(float64) first)");
      }
    }
  }
  NDArray out = NDArray::empty({static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)}, dtype_of<T>());
  auto dst = out.mutable_data<T>();
  for (std::size_t c = 0; c < cols; ++c) {
    const Column& col = t.column(c);
    for (std::size_t r = 0; r < rows; ++r) dst[r * cols + c] = cell<T>(col, r);
  }
  return out;
}

/// Partition `index` as a block of `length` rows of dtype `as`.
NDArray table_to_block(const Table& t, const std::int64_t& length, const std::uint8_t& as,
                       const std::uint32_t& index) {
  if (static_cast<std::int64_t>(t.num_rows()) != length) {
    TESSERA_THROW(ShapeError, "to_array: partition ", index, " has ", t.num_rows(), " rows, its length says ", length);
  }
  const auto rows = static_cast<std::size_t>(length);
  switch (static_cast<ArrayDType>(as)) {
    case ArrayDType::bool_: return fill<bool>(t, rows, index);
    case ArrayDType::int64: return fill<std::int64_t>(t, rows, index);
    default: return fill<double>(t, rows, index);
  }
}

std::int64_t rows_of(const Table& t) { return static_cast<std::int64_t>(t.num_rows()); }

/// The Array dtype of the frame's columns (checked to be int64, float64 or bool).
ArrayDType common_dtype(const Schema& s) {
  std::optional<DType> common;
  for (const auto& f : s.columns) {
    if (is_text(f.dtype) || f.dtype == DType::datetime || f.dtype == DType::timedelta) {
      TESSERA_THROW(TypeError, "to_array: column '", f.name, "' is ", dtype_name(f.dtype),
                    "; only int64, float64 and bool columns make an Array (select them first)");
    }
    if (!common) common = f.dtype;
    else if (*common != f.dtype) common = DType::float64;
  }
  if (common == DType::int64) return ArrayDType::int64;
  if (common == DType::boolean) return ArrayDType::bool_;
  return ArrayDType::float64;
}

}  // namespace
}  // namespace detail

DataFrame from_array(const Array& x, std::vector<std::string> columns) {
  if (x.ndim() != 1 && x.ndim() != 2) {
    TESSERA_THROW(ShapeError, "from_array: the array has ", x.ndim(), " dimensions; a DataFrame comes from 1 or 2");
  }
  const std::int64_t ncols = x.ndim() == 2 ? x.shape()[1] : 1;
  if (columns.empty()) {
    for (std::int64_t c = 0; c < ncols; ++c) columns.push_back(std::to_string(c));
  }
  if (static_cast<std::int64_t>(columns.size()) != ncols) {
    TESSERA_THROW(ShapeError, "from_array: ", columns.size(), " column names for an array of shape ",
                  to_string(x.shape()), " (", ncols, " columns)");
  }
  Array rows = x;
  if (x.ndim() == 2 && x.chunks()[1].size() != 1) rows = x.rechunk({x.chunks()[0], {ncols}});
  Schema schema;
  for (const auto& name : columns) schema.columns.push_back({name, detail::column_dtype(x.dtype())});
  auto fn = delayed(detail::block_to_table, {.name = "from-array", .pure = true});
  std::vector<Delayed<Table>> parts;
  for (const auto& b : rows.blocks()) parts.push_back(fn(b, columns));
  return DataFrame(std::move(schema), std::move(parts));
}

std::vector<Delayed<std::int64_t>> partition_lengths(const DataFrame& df) {
  auto count = delayed(detail::rows_of, {.name = "partition-length", .pure = true});
  std::vector<Delayed<std::int64_t>> counts;
  counts.reserve(df.npartitions());
  for (const auto& p : df.partitions()) counts.push_back(count(p));
  return counts;
}

Array to_array(const DataFrame& df, std::vector<std::int64_t> lengths) {
  auto dtype = detail::common_dtype(df.schema());
  if (lengths.empty()) lengths = tessera::compute(partition_lengths(df));
  if (lengths.size() != df.npartitions()) {
    TESSERA_THROW(ShapeError, "to_array: ", lengths.size(), " lengths for ", df.npartitions(), " partitions");
  }
  std::vector<std::int64_t> row_chunks;
  std::int64_t total = 0;
  for (std::size_t k = 0; k < lengths.size(); ++k) {
    if (lengths[k] < 0) TESSERA_THROW(ShapeError, "to_array: length ", lengths[k], " of partition ", k, " is negative");
    row_chunks.push_back(lengths[k]);
    total += lengths[k];
  }
  const auto ncols = static_cast<std::int64_t>(df.schema().columns.size());
  auto fn = delayed(detail::table_to_block, {.name = "to-array", .pure = true});
  std::vector<Delayed<NDArray>> blocks;
  for (std::size_t k = 0; k < df.npartitions(); ++k) {
    blocks.push_back(fn(df.partitions()[k], lengths[k], static_cast<std::uint8_t>(dtype), static_cast<std::uint32_t>(k)));
  }
  return Array({total, ncols}, dtype, Chunks{row_chunks, {ncols}}, std::move(blocks));
}

}  // namespace tessera::dataframe
