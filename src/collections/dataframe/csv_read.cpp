// read_csv: files and blocks on the driver (header, dtype inference from a sample, block
// boundaries), then per block a quote/newline count task and a parse task that fills the
// columns straight from the mapped bytes (std::from_chars for numbers).
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/categorical.hpp"
#include "collections/dataframe/csv_tokenizer.hpp"
#include "collections/dataframe/file_bytes.hpp"
#include "collections/glob_paths.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <sstream>

namespace tessera::dataframe {
namespace detail {

using Counts = std::array<std::int64_t, 2>;  // quotes, newlines

/// One parse task's instructions.
struct CsvPlan {
  std::string path;
  std::int64_t begin = 0;   // byte range of the block (whole file: 0 and -1)
  std::int64_t end = -1;
  std::vector<std::string> header;      // the file's column names
  std::vector<std::int32_t> target;     // per file column: output column or -1
  std::vector<Field> out;               // output columns
  std::vector<std::string> na;
  bool empty_is_na = true;
  char sep = ',';
  bool skip_bad = false;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & path & begin & end & header & target & out & na & empty_is_na & sep & skip_bad;
  }
};

namespace {

const std::vector<std::string>& default_na() {
  static const std::vector<std::string> v{"",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
                                          "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",     "NA",       "NULL",
                                          "NaN",  "None", "n/a",      "nan",  "null"};
  return v;
}

bool is_na(std::string_view s, const std::vector<std::string>& na) {
  for (const auto& x : na) {
    if (x.size() == s.size() && x == s) return true;
  }
  return false;
}

/// NA strings with a quick rejection: most fields differ from every NA string in length or in
/// their first byte.
struct NaSet {
  std::vector<std::string> values;
  std::uint64_t lengths = 0;            // bit n: some NA string has n bytes (n < 64)
  std::array<bool, 256> first{};        // first bytes of non-empty NA strings
  bool empty_na = false;
  explicit NaSet(const std::vector<std::string>& na, bool empty_is_na) : values(na), empty_na(empty_is_na) {
    for (const auto& v : na) {
      if (v.empty()) continue;
      lengths |= v.size() < 64 ? std::uint64_t{1} << v.size() : 0;
      first[static_cast<unsigned char>(v[0])] = true;
    }
  }
  [[nodiscard]] bool contains(std::string_view s) const {
    if (s.empty()) return empty_na;
    if (s.size() >= 64 || !((lengths >> s.size()) & 1) || !first[static_cast<unsigned char>(s[0])]) return false;
    return is_na(s, values);
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, std::int64_t& v) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// Clinger's fast path: "[-]digits[.digits]" with at most 15 significant digits is an exact
/// integer divided by an exact power of ten, so one IEEE division rounds it correctly (the
/// same double std::from_chars gives). Returns false for anything else.
bool parse_simple_decimal(std::string_view s, double& v) {
  static constexpr double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = s.data();
  const char* const end = p + s.size();
  const bool neg = p < end && *p == '-';
  if (neg) ++p;
  std::uint64_t m = 0;
  int digits = 0, frac = 0;
  bool dot = false;
  if (p == end) return false;
  for (; p < end; ++p) {
    const char c = *p;
    if (c >= '0' && c <= '9') {
      m = m * 10 + static_cast<std::uint64_t>(c - '0');
      if (m != 0 || dot) ++digits;
      if (dot) ++frac;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits > 15 || frac > 15 || (dot && s.size() == static_cast<std::size_t>(neg) + 1)) return false;
  const double r = static_cast<double>(m) / pow10[frac];
  v = neg ? -r : r;
  return true;
}

bool parse_float(std::string_view s, double& v) {
  if (parse_simple_decimal(s, v)) return true;
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_bool(std::string_view s, bool& v) {
  s = trim(s);
  if (s == "True" || s == "true" || s == "TRUE") v = true;
  else if (s == "False" || s == "false" || s == "FALSE") v = false;
  else return false;
  return true;
}

/// Appends one field to its column; false if it does not parse.
bool append_field(Column& c, std::string_view s, const NaSet& na) {
  switch (c.dtype) {
    case DType::string:
    case DType::category:  // parsed as strings, encoded when the block is read
      if (na.contains(s)) c.push_null();
      else c.push_str(s);
      return true;
    case DType::int64: {
      std::int64_t v;
      if (parse_int(s, v)) c.push_int(v);
      else if (s.empty() || na.contains(s)) c.push_null();
      else return false;
      return true;
    }
    case DType::float64: {
      double v;
      if (parse_float(s, v)) c.push_float(v);
      else if (s.empty() || na.contains(s)) c.push_null();
      else return false;
      return true;
    }
    case DType::boolean: {
      bool v;
      if (parse_bool(s, v)) c.push_bool(v);
      else if (s.empty() || na.contains(s)) c.push_null();
      else return false;
      return true;
    }
    case DType::datetime: {
      std::int64_t v;
      if (parse_datetime(trim(s), v)) c.push_int(v);
      else if (s.empty() || na.contains(s)) c.push_null();
      else return false;
      return true;
    }
    case DType::timedelta: {
      std::int64_t v;
      if (parse_timedelta(s, v)) c.push_int(v);
      else if (s.empty() || na.contains(s) || trim(s) == "NaT") c.push_null();
      else return false;
      return true;
    }
  }
  return false;
}

void truncate(Column& c, std::size_t n) {
  switch (c.dtype) {
    case DType::int64:
    case DType::datetime:
    case DType::timedelta:
    case DType::category: c.i64.resize(n); break;
    case DType::float64: c.f64.resize(n); break;
    case DType::boolean: c.b8.resize(n); break;
    case DType::string:
      c.offsets.resize(n + 1);
      c.chars.resize(static_cast<std::size_t>(c.offsets.back()));
      break;
  }
  if (c.valid.size() > (n + 63) / 64) c.valid.resize((n + 63) / 64);
  // Rows from n on start valid again.
  if ((n & 63) != 0 && (n >> 6) < c.valid.size()) c.valid[n >> 6] |= ~std::uint64_t{0} << (n & 63);
}

Counts count_block(const std::string& path, std::int64_t begin, std::int64_t end) {
  const FileBytes f = FileBytes::open(path);
  const char* b = f.data() + begin;
  const char* e = f.data() + std::min<std::int64_t>(end, static_cast<std::int64_t>(f.size()));
  return Counts{static_cast<std::int64_t>(std::count(b, e, '"')), static_cast<std::int64_t>(std::count(b, e, '\n'))};
}

/// Where block parsing starts: after the first newline outside quotes at or after `begin`.
const char* first_record(const char* data, const char* begin, const char* end, bool in_quotes,
                         std::int64_t& line) {
  if (begin == data) return begin;
  if (begin[-1] == '\n' && !in_quotes) return begin;
  for (const char* p = begin; p < end; ++p) {
    if (*p == '"') in_quotes = !in_quotes;
    else if (*p == '\n') {
      ++line;
      if (!in_quotes) return p + 1;
    }
  }
  return end;
}

[[noreturn]] void bad_row(const CsvPlan& plan, std::int64_t line, const std::string& what) {
  TESSERA_THROW(ParseError, plan.path, ":", line, ": ", what);
}

Table parse_block(const CsvPlan& plan, const std::vector<Counts>& before) {
  const FileBytes f = FileBytes::open(plan.path);
  const char* data = f.data();
  const char* file_end = data + f.size();
  const char* block_begin = data + plan.begin;
  const char* block_end = plan.end < 0 ? file_end : data + std::min<std::int64_t>(plan.end, static_cast<std::int64_t>(f.size()));
  std::int64_t quotes = 0, line = 1;
  for (const auto& c : before) {
    quotes += c[0];
    line += c[1];
  }
  std::vector<Column> cols;
  for (const auto& o : plan.out) cols.emplace_back(o.dtype);
  for (auto& c : cols) {
    if (c.dtype == DType::category) c = Column(DType::string);  // strings until the block is read
  }
  const std::size_t guess = static_cast<std::size_t>(block_end - block_begin) / 32;
  for (auto& c : cols) c.reserve(guess);
  const char* p = first_record(data, block_begin, file_end, quotes % 2 == 1, line);
  Record r;
  const NaSet na(plan.na, plan.empty_is_na);
  std::size_t rows = 0;
  bool header = plan.begin == 0;
  while (p < file_end && p < block_end) {
    const std::int64_t row_line = line;
    p = next_record(p, file_end, plan.sep, r);
    line += static_cast<std::int64_t>(r.newlines);
    if (header) {
      header = false;
      continue;
    }
    if (r.blank) continue;
    std::string error;
    if (r.unterminated) error = "a quoted field is never closed";
    else if (r.fields.size() > plan.header.size()) {
      error = "expected " + std::to_string(plan.header.size()) + " fields, saw " + std::to_string(r.fields.size());
    }
    for (std::size_t j = 0; error.empty() && j < plan.header.size(); ++j) {
      const auto t = plan.target[j];
      if (t < 0) continue;
      Column& c = cols[static_cast<std::size_t>(t)];
      if (j >= r.fields.size()) {
        c.push_null();
      } else if (!append_field(c, r.field(j), na)) {
        error = "column '" + plan.header[j] + "': cannot parse '" + std::string(r.field(j)) + "' as " +
                dtype_name(c.dtype) + " (give read_csv a dtype for it, or on_bad_lines = skip)";
      }
    }
    if (!error.empty()) {
      if (!plan.skip_bad) bad_row(plan, row_line, error);
      for (auto& c : cols) truncate(c, rows);
      continue;
    }
    ++rows;
  }
  Table t;
  for (std::size_t k = 0; k < cols.size(); ++k) {
    if (plan.out[k].dtype == DType::category) cols[k] = to_categorical(cols[k]);
    t.add_column(plan.out[k].name, std::move(cols[k]));
  }
  return t;
}

// ---- driver side ----------------------------------------------------------------------------

std::vector<std::string> expand(const std::string& pattern) {
  auto out = tessera::detail::glob_paths(pattern).paths;
  if (out.empty()) TESSERA_THROW(StorageError, "read_csv: no files match '", pattern, "'");
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> header_of(const std::string& path, char sep) {
  std::size_t n = 1 << 16;
  for (;;) {
    const std::string head = read_head(path, n);
    Record r;
    const char* end = head.data() + head.size();
    const char* p = next_record(head.data(), end, sep, r);
    if (p < end || head.size() < n) {
      std::vector<std::string> names;
      if (head.empty()) return names;
      for (std::size_t i = 0; i < r.fields.size(); ++i) names.emplace_back(r.field(i));
      return names;
    }
    n *= 4;
  }
}

struct Inferred {
  bool any = false, na = false, all_int = true, all_float = true, all_bool = true;
};

std::vector<DType> infer(const std::string& path, const CsvOptions& o, std::size_t ncols,
                         const std::vector<std::string>& na) {
  const std::string head = read_head(path, o.sample);
  const bool complete = head.size() < o.sample;
  const char* p = head.data();
  const char* end = head.data() + head.size();
  Record r;
  std::vector<Inferred> inf(ncols);
  bool header = true;
  while (p < end) {
    p = next_record(p, end, o.sep, r);
    if (header) {
      header = false;
      continue;
    }
    if (p >= end && !complete) break;  // the sample cut this record
    if (r.blank) continue;
    for (std::size_t j = 0; j < std::min(ncols, r.fields.size()); ++j) {
      const auto s = r.field(j);
      auto& x = inf[j];
      std::int64_t iv;
      double dv;
      bool bv;
      if (parse_int(s, iv)) {
        x.any = true;
        x.all_bool = false;
        continue;
      }
      if (s.empty() || is_na(s, na)) {
        x.na = true;
        continue;
      }
      x.any = true;
      x.all_int = false;
      if (!parse_float(s, dv)) x.all_float = false;
      if (!parse_bool(s, bv)) x.all_bool = false;
    }
  }
  std::vector<DType> out;
  for (const auto& x : inf) {
    if (!x.any) out.push_back(DType::float64);
    else if (x.all_int && x.all_bool) out.push_back(x.na ? DType::float64 : DType::int64);
    else if (x.all_int) out.push_back(x.na ? DType::float64 : DType::int64);
    else if (x.all_float) out.push_back(DType::float64);
    else if (x.all_bool) out.push_back(DType::boolean);
    else out.push_back(DType::string);
  }
  return out;
}

std::size_t header_position(const std::vector<std::string>& header, const std::string& name, const char* what) {
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    std::ostringstream os;
    for (std::size_t i = 0; i < header.size(); ++i) os << (i ? ", " : "") << "'" << header[i] << "'";
    TESSERA_THROW(ColumnError, "read_csv: ", what, " names column '", name, "'; the columns are [", os.str(), "]");
  }
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace
}  // namespace detail

DataFrame read_csv(const std::vector<std::string>& patterns, const CsvOptions& o) {
  using namespace detail;
  std::vector<std::string> files;
  for (const auto& p : patterns) {
    auto e = expand(p);
    files.insert(files.end(), e.begin(), e.end());
  }
  if (files.empty()) TESSERA_THROW(StorageError, "read_csv: no files given");
  const auto header = header_of(files[0], o.sep);
  if (header.empty()) TESSERA_THROW(StorageError, "read_csv: '", files[0], "' is empty (no header)");
  std::vector<std::string> na = o.keep_default_na ? default_na() : std::vector<std::string>{};
  na.insert(na.end(), o.na_values.begin(), o.na_values.end());
  std::vector<DType> types = infer(files[0], o, header.size(), na);
  std::vector<bool> keep(header.size(), o.usecols.empty());
  for (const auto& u : o.usecols) keep[header_position(header, u, "usecols")] = true;
  for (const auto& d : o.parse_dates) types[header_position(header, d, "parse_dates")] = DType::datetime;
  for (const auto& d : o.parse_timedeltas) {
    types[header_position(header, d, "parse_timedeltas")] = DType::timedelta;
  }
  for (const auto& [name, t] : o.dtype) types[header_position(header, name, "dtype")] = t;
  CsvPlan base;
  base.header = header;
  base.na = na;
  base.empty_is_na = o.keep_default_na;
  base.sep = o.sep;
  base.skip_bad = o.on_bad_lines == OnBadLines::skip;
  Schema schema;
  for (std::size_t j = 0; j < header.size(); ++j) {
    if (!keep[j]) {
      base.target.push_back(-1);
      continue;
    }
    base.target.push_back(static_cast<std::int32_t>(base.out.size()));
    base.out.push_back({header[j], types[j]});
  }
  schema.columns = base.out;
  auto count = delayed(count_block, {.name = "read-csv-count", .pure = true});
  auto parse = delayed(parse_block, {.name = "read-csv", .pure = true});
  std::vector<Delayed<Table>> parts;
  for (const auto& file : files) {
    if (file != files[0] && header_of(file, o.sep) != header) {
      TESSERA_THROW(StorageError, "read_csv: '", file, "' has another header than '", files[0], "'");
    }
    CsvPlan plan = base;
    plan.path = file;
    const std::int64_t size = static_cast<std::int64_t>(file_size(file));
    const bool whole = compression_of(file) != Compression::none || o.blocksize <= 0 || size <= o.blocksize;
    if (whole) {
      parts.push_back(parse(plan, std::vector<Delayed<Counts>>{}));
      continue;
    }
    std::vector<Delayed<Counts>> before;
    for (std::int64_t b = 0; b < size; b += o.blocksize) {
      plan.begin = b;
      plan.end = std::min(size, b + o.blocksize);
      parts.push_back(parse(plan, before));
      before.push_back(count(file, plan.begin, plan.end));
    }
  }
  return DataFrame(std::move(schema), std::move(parts));
}

DataFrame read_csv(const std::string& pattern, const CsvOptions& o) {
  return read_csv(std::vector<std::string>{pattern}, o);
}
DataFrame read_csv(std::initializer_list<std::string> paths, const CsvOptions& o) {
  return read_csv(std::vector<std::string>(paths), o);
}

}  // namespace tessera::dataframe
