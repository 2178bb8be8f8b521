// Tables printed as pandas prints DataFrames (display.precision 6, max_rows 60).
#include <tessera/collections/dataframe/table.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace tessera::dataframe {
namespace {

constexpr std::size_t max_rows = 60;
constexpr std::size_t edge_rows = 5;

/// pandas' float format: "%.6f" for every value, then the trailing zeros all values share
/// trimmed (at least one decimal kept); scientific when magnitudes are extreme.
std::vector<std::string> format_floats(const Column& c, const std::vector<std::size_t>& rows) {
  bool sci = false;
  for (auto r : rows) {
    const double v = c.f64[r];
    if (c.is_null(r) || !std::isfinite(v)) continue;
    const double a = std::fabs(v);
    if (a >= 1e16 || (a != 0 && a < 1e-4)) sci = true;
  }
  std::vector<std::string> out;
  char buf[64];
  for (auto r : rows) {
    const double v = c.f64[r];
    if (c.is_null(r) || std::isnan(v)) out.emplace_back("NaN");
    else if (std::isinf(v)) out.emplace_back(v > 0 ? "inf" : "-inf");
    else {
      std::snprintf(buf, sizeof buf, sci ? "%.6e" : "%.6f", v);
      out.emplace_back(buf);
    }
  }
  if (sci) return out;
  // Trim the zeros every finite value has at its end.
  std::size_t trim = 5;
  for (const auto& s : out) {
    if (s.find('.') == std::string::npos) continue;
    std::size_t z = 0;
    while (z < 5 && s[s.size() - 1 - z] == '0') ++z;
    trim = std::min(trim, z);
  }
  for (auto& s : out) {
    if (s.find('.') != std::string::npos) s.resize(s.size() - trim);
  }
  return out;
}

bool all_midnight(const Column& c, const std::vector<std::size_t>& rows) {
  constexpr std::int64_t day = 86'400'000'000'000;
  for (auto r : rows) {
    if (!c.is_null(r) && ((c.i64[r] % day) + day) % day != 0) return false;
  }
  return true;
}

std::vector<std::string> format_column(const Column& c, const std::vector<std::size_t>& rows) {
  if (c.dtype == DType::float64) return format_floats(c, rows);
  std::vector<std::string> out;
  const bool date_only = (c.dtype == DType::datetime || c.dtype == DType::timedelta) && all_midnight(c, rows);
  for (auto r : rows) {
    if (c.is_null(r)) {
      const bool nat = c.dtype == DType::datetime || c.dtype == DType::timedelta;
      out.emplace_back(nat ? "NaT" : is_text(c.dtype) ? "NaN" : "<NA>");
      continue;
    }
    switch (c.dtype) {
      case DType::int64: out.push_back(std::to_string(c.i64[r])); break;
      case DType::boolean: out.emplace_back(c.b8[r] ? "True" : "False"); break;
      case DType::string:
      case DType::category: out.emplace_back(c.text(r)); break;
      case DType::datetime: out.push_back(format_datetime(c.i64[r], date_only)); break;
      case DType::timedelta: out.push_back(format_timedelta(c.i64[r], !date_only)); break;
      case DType::float64: break;
    }
  }
  return out;
}

std::size_t width_of(const std::vector<std::string>& cells, std::size_t w) {
  for (const auto& s : cells) w = std::max(w, s.size());
  return w;
}

void pad_left(std::ostream& os, const std::string& s, std::size_t w) {
  os << std::string(w > s.size() ? w - s.size() : 0, ' ') << s;
}
void pad_right(std::ostream& os, const std::string& s, std::size_t w) {
  os << s << std::string(w > s.size() ? w - s.size() : 0, ' ');
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Table& t) {
  const std::size_t n = t.num_rows();
  if (n == 0) {
    os << "Empty DataFrame\nColumns: [";
    for (std::size_t i = 0; i < t.num_columns(); ++i) os << (i ? ", " : "") << t.column_names()[i];
    return os << "]\nIndex: []";
  }
  std::vector<std::size_t> rows;
  const bool cut = n > max_rows;
  for (std::size_t r = 0; r < n; ++r) {
    if (!cut || r < edge_rows || r >= n - edge_rows) rows.push_back(r);
  }
  const std::size_t dots_at = cut ? edge_rows : rows.size();
  auto with_dots = [&](std::vector<std::string> v, const char* dots) {
    if (cut) v.insert(v.begin() + static_cast<std::ptrdiff_t>(dots_at), dots);
    return v;
  };
  // Index cells: one column per level (range index: the row numbers).
  std::vector<std::vector<std::string>> idx;
  std::vector<std::string> idx_names;
  if (t.has_range_index()) {
    std::vector<std::string> v;
    for (auto r : rows) v.push_back(std::to_string(r));
    idx.push_back(with_dots(std::move(v), ".."));
    idx_names.emplace_back();
  } else {
    for (std::size_t l = 0; l < t.index_columns().size(); ++l) {
      idx.push_back(with_dots(format_column(t.index_columns()[l], rows), ".."));
      idx_names.push_back(t.index_names()[l]);
    }
  }
  bool named_index = false;
  for (const auto& s : idx_names) named_index = named_index || !s.empty();
  std::vector<std::size_t> iw;
  for (std::size_t l = 0; l < idx.size(); ++l) iw.push_back(width_of(idx[l], named_index ? idx_names[l].size() : 0));
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> cw;
  for (std::size_t c = 0; c < t.num_columns(); ++c) {
    auto v = format_column(t.column(c), rows);
    cw.push_back(width_of(v, t.column_names()[c].size()));
    cells.push_back(with_dots(std::move(v), cw.back() >= 3 ? "..." : ".."));
  }
  auto index_blank = [&] {
    for (std::size_t l = 0; l < iw.size(); ++l) os << (l ? " " : "") << std::string(iw[l], ' ');
  };
  index_blank();
  // pandas pads each cell with a leading space, but not timedelta cells: one space before them.
  auto gap = [&](std::size_t c) { return t.column(c).dtype == DType::timedelta ? " " : "  "; };
  for (std::size_t c = 0; c < cells.size(); ++c) {
    os << gap(c);
    pad_left(os, t.column_names()[c], cw[c]);
  }
  if (named_index) {
    os << "\n";
    for (std::size_t l = 0; l < iw.size(); ++l) {
      os << (l ? " " : "");
      pad_right(os, idx_names[l], iw[l]);
    }
    for (std::size_t c = 0; c < cells.size(); ++c) os << gap(c) << std::string(cw[c], ' ');
  }
  const std::size_t shown = idx[0].size();
  for (std::size_t r = 0; r < shown; ++r) {
    os << "\n";
    for (std::size_t l = 0; l < iw.size(); ++l) {
      os << (l ? " " : "");
      pad_right(os, idx[l][r], iw[l]);
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      os << gap(c);
      pad_left(os, cells[c][r], cw[c]);
    }
  }
  if (cut) os << "\n\n[" << n << " rows x " << t.num_columns() << " columns]";
  return os;
}

// ---- datetimes ------------------------------------------------------------------------------

std::int64_t datetime_ns(int year, unsigned month, unsigned day, int hour, int minute, int second,
                         std::int64_t nanos) noexcept {
  // Howard Hinnant's days_from_civil.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60'000'000'000LL + second * 1'000'000'000LL + nanos;
}

std::string format_datetime(std::int64_t ns, bool date_only) {
  constexpr std::int64_t per_day = 86'400'000'000'000;
  std::int64_t days = ns / per_day;
  std::int64_t rem = ns % per_day;
  if (rem < 0) {
    rem += per_day;
    --days;
  }
  // civil_from_days.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  if (date_only) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
    return buf;
  }
  const std::int64_t secs = rem / 1'000'000'000;
  const std::int64_t frac = rem % 1'000'000'000;
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  std::string s = buf;
  if (frac) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
    s += buf;
  }
  return s;
}

namespace {
bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t k = at; k < at + n; ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
    out = out * 10 + (s[k] - '0');
  }
  return true;
}
}  // namespace

bool parse_datetime(std::string_view s, std::int64_t& ns) noexcept {
  int y, mo, d, h = 0, mi = 0, se = 0;
  std::int64_t frac = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  std::size_t at = 10;
  if (at < s.size()) {
    if ((s[at] != ' ' && s[at] != 'T') || !digits(s, at + 1, 2, h) || at + 3 >= s.size() + 0 ||
        s[at + 3] != ':' || !digits(s, at + 4, 2, mi)) {
      return false;
    }
    at += 6;
    if (at < s.size()) {
      if (s[at] != ':' || !digits(s, at + 1, 2, se)) return false;
      at += 3;
      if (at < s.size()) {
        if (s[at] != '.') return false;
        std::int64_t scale = 100'000'000;
        for (++at; at < s.size(); ++at) {
          if (s[at] < '0' || s[at] > '9') return false;
          frac += (s[at] - '0') * scale;
          scale /= 10;
        }
      }
    }
    if (h > 23 || mi > 59 || se > 60) return false;
  }
  ns = datetime_ns(y, static_cast<unsigned>(mo), static_cast<unsigned>(d), h, mi, se, frac);
  return true;
}

}  // namespace tessera::dataframe
