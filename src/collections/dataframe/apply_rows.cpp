// DataFrame::apply_rows' non-template parts: the build-time check of the columns against the
// lambda's parameters, the error naming the row the lambda failed on, the result table.
#include <tessera/collections/dataframe/dataframe.hpp>

#include <exception>
#include <string>

namespace tessera::dataframe::detail {
namespace {

std::string accepted(unsigned dtypes) {
  std::string out;
  for (auto t : {DType::int64, DType::float64, DType::boolean, DType::string, DType::datetime,
                 DType::timedelta, DType::category}) {
    if ((dtypes >> unsigned(t)) & 1u) out += (out.empty() ? "" : " or ") + std::string(dtype_name(t));
  }
  return out;
}

std::string cell_text(const Column& c, std::size_t row) {
  if (c.is_null(row)) return "null";
  switch (c.dtype) {
    case DType::int64: return std::to_string(c.i64[row]);
    case DType::float64: return std::to_string(c.f64[row]);
    case DType::boolean: return c.b8[row] ? "True" : "False";
    case DType::string:
    case DType::category: return "'" + std::string(c.text(row)) + "'";
    case DType::datetime: return format_datetime(c.i64[row], false);
    case DType::timedelta: return format_timedelta(c.i64[row], false);
  }
  return "?";
}

}  // namespace

void check_row_args(const Schema& schema, const std::vector<std::string>& columns, std::span<const RowParam> params) {
  if (columns.size() != params.size()) {
    TESSERA_THROW(GraphError, "apply_rows: ", columns.size(), " column(s) named for a function of ", params.size(),
                  " parameter(s)");
  }
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const DType t = schema.dtype(columns[k]);  // ColumnError for an unknown column
    if (((params[k].dtypes >> unsigned(t)) & 1u) == 0) {
      TESSERA_THROW(TypeError, "apply_rows: column '", columns[k], "' is ", dtype_name(t), ", but parameter ", k + 1,
                    " of the function is ", params[k].name, " (for ", accepted(params[k].dtypes), " columns)");
    }
  }
}

void throw_row_error(const Table& part, std::size_t row, const std::string& name) {
  std::string what = "unknown exception";
  try {
    throw;
  } catch (const std::exception& e) {
    what = tessera::detail::current_exception_type() + ": " + e.what();
  } catch (...) {
  }
  std::string label;
  for (std::size_t k = 0; k < part.index_columns().size(); ++k) {
    label += (k ? ", " : "") + part.index_names()[k] + " = " + cell_text(part.index_columns()[k], row);
  }
  TESSERA_THROW(Error, "apply_rows '", name, "': the function threw on row ", row, " of the partition",
                label.empty() ? "" : " (index " + label + ")", ": ", what);
}

Table row_result(const Table& part, Column values, const std::string& name) {
  Table out;
  if (!part.has_range_index()) out.set_index(part.index_names(), part.index_columns());
  out.add_column(name, std::move(values));
  return out;
}

}  // namespace tessera::dataframe::detail
