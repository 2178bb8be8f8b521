#pragma once

// Private: the text kernels of Series.str and astype (UTF-8 aware where pandas counts
// characters; case mapping and stripping of ASCII only).

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::dataframe::detail::text {

/// Number of code points of a UTF-8 string (bytes that do not continue a sequence).
std::size_t code_points(std::string_view s) noexcept;
/// Python's s[start:stop] on code points (negative ends count from the end; stop INT64_MAX
/// is "to the end").
std::string slice_code_points(std::string_view s, std::int64_t start, std::int64_t stop);
/// ASCII letters to lower (or upper) case; other bytes are kept.
std::string ascii_case(std::string_view s, bool upper);
/// Without leading and trailing ASCII whitespace.
std::string_view strip_ascii(std::string_view s) noexcept;
/// Python's repr of a float: "1.0", "0.1", "1e+16", "1e-05", "nan", "inf".
std::string python_float(double v);
/// A whole number, as Python's int(): surrounding whitespace and a sign allowed.
bool parse_int(std::string_view s, std::int64_t& v) noexcept;
/// A number, as Python's float(): surrounding whitespace, a sign, "nan" and "inf" allowed.
bool parse_float(std::string_view s, double& v) noexcept;

}  // namespace tessera::dataframe::detail::text
