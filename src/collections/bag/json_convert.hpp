#pragma once
// Internal: one JSON line parsed by simdjson (DOM) and built into a tessera::Json directly, with
// nlohmann's own parse as the fallback wherever the two libraries could differ.

#include <tessera/collections/bag/json.hpp>

#include <memory>
#include <string_view>

namespace tessera::bag::detail {

/// A simdjson parser reused line after line (one per task; not thread-safe).
class LineParser {
public:
  LineParser();
  ~LineParser();
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  /// Parses `line` into `out`; false when it is not JSON (or not valid UTF-8). `readable_after`:
  /// how many bytes after the line may be read (simdjson reads up to 64 past the end; with fewer
  /// the line is copied). The result equals nlohmann's Json::parse(line), types included:
  /// non-negative integers unsigned, negative ones signed, the last of duplicate keys kept;
  /// lines simdjson rejects (integers beyond 64 bits, "-0", huge exponents, deep nesting) are
  /// parsed by nlohmann.
  bool parse(std::string_view line, std::size_t readable_after, Json& out);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tessera::bag::detail
