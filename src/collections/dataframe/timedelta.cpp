// timedelta64[ns] text: pandas' printed form (Timedelta._repr_base) and the forms
// pd.Timedelta(str) parses that tessera accepts.
#include <tessera/collections/dataframe/table.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace tessera::dataframe {
namespace {

constexpr std::int64_t ns_per_second = 1'000'000'000;
constexpr std::int64_t ns_per_day = 86'400 * ns_per_second;

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Leading digits of `s` as a number (consumed); false without a digit or on overflow.
bool take_int(std::string_view& s, std::int64_t& v) {
  std::size_t k = 0;
  v = 0;
  while (k < s.size() && is_digit(s[k])) {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[k] - '0', &v)) return false;
    ++k;
  }
  s.remove_prefix(k);
  return k > 0;
}

/// ".fraction" (consumed) as nanoseconds, digits past the ninth dropped as pandas does.
bool take_fraction(std::string_view& s, std::int64_t scale, std::int64_t& ns) {
  ns = 0;
  if (s.empty() || s.front() != '.') return true;
  s.remove_prefix(1);
  std::size_t k = 0;
  for (; k < s.size() && is_digit(s[k]); ++k) {
    ns += (s[k] - '0') * (scale /= 10);
  }
  s.remove_prefix(k);
  return k > 0;
}

/// "H[H...]:MM:SS[.fraction]" and nothing else, as nanoseconds.
bool parse_clock(std::string_view s, std::int64_t& ns) {
  std::int64_t h = 0, m = 0, sec = 0, frac = 0;
  if (!take_int(s, h) || s.empty() || s.front() != ':') return false;
  s.remove_prefix(1);
  if (s.size() < 2 || !take_int(s, m) || m > 59 || s.empty() || s.front() != ':') return false;
  s.remove_prefix(1);
  if (s.size() < 2 || !is_digit(s[0]) || !is_digit(s[1])) return false;
  sec = (s[0] - '0') * 10 + (s[1] - '0');
  s.remove_prefix(2);
  if (sec > 59 || !take_fraction(s, ns_per_second, frac) || !s.empty()) return false;
  std::int64_t v = 0;
  if (__builtin_mul_overflow(h, 3600 * ns_per_second, &v)) return false;
  return !__builtin_add_overflow(v, (m * 60 + sec) * ns_per_second + frac, &ns);
}

/// Nanoseconds per unit of pandas' unit names; 0 for an unknown unit.
std::int64_t unit_ns(std::string_view u) {
  if (u == "d" || u == "day" || u == "days" || u == "D") return ns_per_day;
  if (u == "h" || u == "hr" || u == "hour" || u == "hours") return 3600 * ns_per_second;
  if (u == "m" || u == "min" || u == "minute" || u == "minutes") return 60 * ns_per_second;
  if (u == "s" || u == "sec" || u == "second" || u == "seconds") return ns_per_second;
  if (u == "ms" || u == "milliseconds") return 1'000'000;
  if (u == "us" || u == "microseconds") return 1'000;
  if (u == "ns" || u == "nanoseconds") return 1;
  return 0;
}

/// "N[.f]unit" ("1.5s", "90 min").
bool parse_with_unit(std::string_view s, std::int64_t& ns) {
  std::int64_t whole = 0;
  if (!take_int(s, whole)) return false;
  std::string_view frac_text = s;
  std::int64_t frac_digits = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    while (!s.empty() && is_digit(s.front())) s.remove_prefix(1);
  }
  frac_text = frac_text.substr(0, frac_text.size() - s.size());
  const std::int64_t per = unit_ns(trim_spaces(s));
  if (per == 0) return false;
  if (__builtin_mul_overflow(whole, per, &ns)) return false;
  std::int64_t scale = per;
  for (std::size_t k = 1; k < frac_text.size() && scale > 0; ++k) {
    frac_digits += (frac_text[k] - '0') * (scale /= 10);  // exact for units of whole nanoseconds
  }
  return !__builtin_add_overflow(ns, frac_digits, &ns);
}

}  // namespace

std::string format_timedelta(std::int64_t ns, bool long_form) {
  std::int64_t days = ns / ns_per_day;
  std::int64_t rem = ns % ns_per_day;
  if (rem < 0) {  // pandas' components: days rounded down, the time of day positive
    rem += ns_per_day;
    --days;
  }
  std::string out = std::to_string(days) + " days";
  if (!long_form && rem == 0) return out;
  const std::int64_t secs = rem / ns_per_second, frac = rem % ns_per_second;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%02lld:%02lld:%02lld", days < 0 ? " +" : " ", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  out += buf;
  if (frac % 1000 != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
    out += buf;
  } else if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac / 1000));
    out += buf;
  }
  return out;
}

bool parse_timedelta(std::string_view s, std::int64_t& ns) noexcept {
  s = trim_spaces(s);
  const bool neg = !s.empty() && s.front() == '-';
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s = trim_spaces(s.substr(1));
  std::int64_t v = 0;
  const auto day_at = s.find("day");
  if (day_at != std::string_view::npos) {
    std::string_view head = trim_spaces(s.substr(0, day_at));
    std::int64_t days = 0;
    if (!take_int(head, days) || !head.empty()) return false;
    std::string_view rest = s.substr(day_at + 3);
    if (!rest.empty() && rest.front() == 's') rest.remove_prefix(1);
    rest = trim_spaces(rest);
    if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
    std::int64_t clock = 0;
    if (!rest.empty() && !parse_clock(rest, clock)) return false;
    if (__builtin_mul_overflow(neg ? -days : days, ns_per_day, &v)) return false;
    if (__builtin_add_overflow(v, clock, &v)) return false;  // the time adds to signed days, as pandas
    ns = v;
    return true;
  }
  const bool ok = s.find(':') != std::string_view::npos ? parse_clock(s, v) : parse_with_unit(s, v);
  if (!ok) return false;
  ns = neg ? -v : v;
  return true;
}

}  // namespace tessera::dataframe
