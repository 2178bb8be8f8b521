#pragma once

// Helpers of the DataFrame tests: temporary folders, files, the sample CSV and its values.

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dataframe_suite {

namespace td = tessera::dataframe;

inline std::filesystem::path fresh_dir(const std::string& what) {
  static int serial = 0;
  auto p = std::filesystem::temp_directory_path() /
           ("tessera-df-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

inline std::string write_file(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  const auto p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

/// A CSV of n rows: id, group (a/b/c), x (float, every 7th missing), name (quoted, some with
/// commas, quotes and newlines), flag (True/False), day (dates).
inline std::string sample_csv(int n) {
  std::ostringstream os;
  os << "id,group,x,name,flag,day\n";
  for (int i = 0; i < n; ++i) {
    os << i << "," << "abc"[i % 3] << ",";
    if (i % 7 != 3) os << (i % 11) * 0.5 - 2;
    else os << "NA";
    os << ",";
    if (i % 5 == 0) os << "\"x, \"\"quoted\"\"\nline " << i << "\"";
    else os << "n" << i;
    os << "," << (i % 2 ? "True" : "False") << ",2024-01-" << (i % 28 + 1 < 10 ? "0" : "") << i % 28 + 1 << "\n";
  }
  return os.str();
}

/// Expected by hand: the x values of sample_csv that are not NA.
inline std::vector<double> sample_x(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) {
    if (i % 7 != 3) v.push_back((i % 11) * 0.5 - 2);
  }
  return v;
}

/// sample_csv's table with nulls in every dtype: id (int64) on rows 5k+1, group (string) on
/// 5k+2, flag (bool) on 5k+3, day (datetime) on 5k+4; x (float64) has the CSV's NAs.
/// Rows are numbered by id, so the nulls do not depend on the partitioning.
inline td::Table with_nulls(const td::Table& t) {
  td::Table out = t;
  const auto& ids = t.column("id").i64;
  const char* cols[] = {"id", "group", "flag", "day"};
  for (int k = 0; k < 4; ++k) {
    td::Column& c = out.column(out.column_index(cols[k]));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] % 5 == k + 1) {
        c.set_null(i);
        if (c.dtype == td::DType::int64 || c.dtype == td::DType::datetime) c.i64[i] = 0;  // Column's invariant
        if (c.dtype == td::DType::boolean) c.b8[i] = 0;
      }
    }
  }
  return out;
}

/// a and b have equal index, columns, dtypes and nulls; float64 cells agree to 1e-12 relative
/// (partial results merged in another order round differently), other cells exactly.
inline void check_close(const td::Table& a, const td::Table& b) {
  REQUIRE(a.num_rows() == b.num_rows());
  REQUIRE(a.column_names() == b.column_names());
  REQUIRE(a.index_names() == b.index_names());
  for (std::size_t k = 0; k < a.index_columns().size(); ++k) CHECK(a.index_columns()[k] == b.index_columns()[k]);
  for (std::size_t c = 0; c < a.num_columns(); ++c) {
    const td::Column& x = a.column(c);
    const td::Column& y = b.column(c);
    CAPTURE(a.column_names()[c]);
    REQUIRE(x.dtype == y.dtype);
    if (x.dtype != td::DType::float64) {
      CHECK(x == y);
      continue;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      CHECK(x.is_null(i) == y.is_null(i));
      if (!x.is_null(i)) CHECK(x.f64[i] == doctest::Approx(y.f64[i]).epsilon(1e-12));
    }
  }
}

inline td::Table on_sync(const td::DataFrame& df) {
  tessera::SyncScheduler sync;
  return tessera::compute(df, sync);
}

inline td::Table add_one_to_x(const td::Table& t) {
  td::Table out = t;
  td::Column x = t.column("x");
  for (auto& v : x.f64) v += 1;
  out.add_column("x1", std::move(x));
  return out;
}

}  // namespace dataframe_suite

