// Text kernels of Series.str and astype.
#include "collections/dataframe/expr_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace tessera::dataframe::detail::text {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0u) == 0x80u; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// Python's clamping of one slice end against a length.
std::int64_t clamp_end(std::int64_t e, std::int64_t len) {
  if (e < 0) e += len;
  return std::clamp<std::int64_t>(e, 0, len);
}

/// Without surrounding whitespace and one leading '+' (from_chars takes '-' only).
std::string_view number_text(std::string_view s) {
  s = strip_ascii(s);
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  return s;
}

}  // namespace

std::size_t code_points(std::string_view s) noexcept {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return !continuation(c); }));
}

std::string slice_code_points(std::string_view s, std::int64_t start, std::int64_t stop) {
  std::vector<std::size_t> at;  // byte offset of each code point, then s.size()
  at.reserve(s.size() + 1);
  for (std::size_t b = 0; b < s.size(); ++b) {
    if (!continuation(s[b])) at.push_back(b);
  }
  const auto len = static_cast<std::int64_t>(at.size());
  at.push_back(s.size());
  const std::int64_t lo = clamp_end(start, len);
  const std::int64_t hi = stop == std::numeric_limits<std::int64_t>::max() ? len : clamp_end(stop, len);
  if (hi <= lo) return {};
  return std::string(s.substr(at[static_cast<std::size_t>(lo)], at[static_cast<std::size_t>(hi)] -
                                                                    at[static_cast<std::size_t>(lo)]));
}

std::string ascii_case(std::string_view s, bool upper) {
  std::string out(s);
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view strip_ascii(std::string_view s) noexcept {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  // The shortest digits that round-trip, in scientific form: [-]d[.ddd]e±XX.
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, r.ptr);
  const std::size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 16) return sci;  // Python's repr switches to exponents there
  const bool neg = sci.front() == '-';
  std::string digits;
  for (std::size_t i = neg ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  std::string out = neg ? "-" : "";
  if (exp < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  const auto whole = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= whole) return out + digits + std::string(whole - digits.size(), '0') + ".0";
  return out + digits.substr(0, whole) + "." + digits.substr(whole);
}

bool parse_int(std::string_view s, std::int64_t& v) noexcept {
  s = number_text(s);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_float(std::string_view s, double& v) noexcept {
  s = number_text(s);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace tessera::dataframe::detail::text
