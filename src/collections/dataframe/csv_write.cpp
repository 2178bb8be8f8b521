// to_csv: one file per partition, written under a temporary name and renamed when complete.
#include <tessera/collections/dataframe/dataframe.hpp>

#include <tessera/scheduling/scheduler.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace tessera::dataframe {
namespace {

void put_string(std::string& out, std::string_view s, char sep) {
  if (s.find_first_of(std::string{sep, '"', '\n', '\r'}) == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

bool midnight_only(const Column& c) {
  constexpr std::int64_t day = 86'400'000'000'000;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c.is_null(i) && ((c.i64[i] % day) + day) % day != 0) return false;
  }
  return true;
}

void put_value(std::string& out, const Column& c, std::size_t i, char sep, bool date_only) {
  if (c.is_null(i)) return;
  char buf[64];
  switch (c.dtype) {
    case DType::int64: {
      auto r = std::to_chars(buf, buf + sizeof buf, c.i64[i]);
      out.append(buf, r.ptr);
      break;
    }
    case DType::float64: {
      const double v = c.f64[i];
      if (std::isnan(v)) return;
      if (std::isinf(v)) {
        out.append(v > 0 ? "inf" : "-inf");
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
      out.append(s);
      if (s.find_first_of(".e") == std::string_view::npos) out.append(".0");
      break;
    }
    case DType::boolean: out.append(c.b8[i] ? "True" : "False"); break;
    case DType::string:
    case DType::category: put_string(out, c.text(i), sep); break;
    case DType::datetime: out.append(format_datetime(c.i64[i], date_only)); break;
    case DType::timedelta: out.append(format_timedelta(c.i64[i], !date_only)); break;
  }
}

std::string part_name(const std::string& pattern, std::size_t i) {
  const auto star = pattern.find('*');
  if (star != std::string::npos) return pattern.substr(0, star) + std::to_string(i) + pattern.substr(star + 1);
  const std::filesystem::path p(pattern);
  return (p.parent_path() / (p.stem().string() + "-" + std::to_string(i) + p.extension().string())).string();
}

std::string write_part(const Table& t, const std::string& path, const CsvWriteOptions& o) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) TESSERA_THROW(StorageError, "to_csv: cannot write '", tmp, "'");
    const std::string text = format_csv(t, o);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) TESSERA_THROW(StorageError, "to_csv: writing '", tmp, "' failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) TESSERA_THROW(StorageError, "to_csv: cannot rename '", tmp, "' to '", path, "': ", ec.message());
  return path;
}

std::string write_task(const Table& t, const std::string& path, const CsvWriteOptions& o) {
  return write_part(t, path, o);
}

}  // namespace

std::string format_csv(const Table& t, const CsvWriteOptions& o) {
  std::string out;
  std::vector<const Column*> cols;
  std::vector<std::string> names;
  const bool range = t.has_range_index();
  if (o.index && !range) {
    for (std::size_t l = 0; l < t.index_columns().size(); ++l) {
      cols.push_back(&t.index_columns()[l]);
      names.push_back(t.index_names()[l]);
    }
  }
  for (std::size_t c = 0; c < t.num_columns(); ++c) {
    cols.push_back(&t.column(c));
    names.push_back(t.column_names()[c]);
  }
  const bool range_col = o.index && range;
  if (range_col) out.append("");
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (c || range_col) out.push_back(o.sep);
    put_string(out, names[c], o.sep);
  }
  out.push_back('\n');
  std::vector<bool> date_only;
  for (const Column* c : cols) {  // pandas' column-wide choices: dates alone, durations as "N days"
    date_only.push_back((c->dtype == DType::datetime || c->dtype == DType::timedelta) && midnight_only(*c));
  }
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    if (range_col) out.append(std::to_string(i));
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c || range_col) out.push_back(o.sep);
      put_value(out, *cols[c], i, o.sep, date_only[c]);
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace tessera::dataframe

namespace tessera::dataframe {

std::vector<Delayed<std::string>> to_csv_tasks(const DataFrame& df, const std::string& pattern,
                                               const CsvWriteOptions& o) {
  auto fn = delayed(write_task, {.name = "to-csv", .pure = true});
  std::vector<Delayed<std::string>> out;
  for (std::size_t i = 0; i < df.npartitions(); ++i) out.push_back(fn(df.partitions()[i], part_name(pattern, i), o));
  return out;
}

std::vector<std::string> to_csv(const DataFrame& df, const std::string& pattern, const CsvWriteOptions& o) {
  return tessera::compute(to_csv_tasks(df, pattern, o));
}

std::vector<std::string> to_csv(const DataFrame& df, const std::string& pattern, const CsvWriteOptions& o,
                                Scheduler& scheduler) {
  return tessera::compute(to_csv_tasks(df, pattern, o), scheduler);
}

}  // namespace tessera::dataframe
