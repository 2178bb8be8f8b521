#pragma once
// Internal: the bytes of one text block and its lines (shared by read_text and read_json).

#include <tessera/collections/bag/text.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::bag::detail {

/// The bytes of a block's lines: every line that starts in [offset, offset + length) (all lines
/// with `whole`), decompressed. Throws: FileError naming the file.
std::string load_block(const std::string& path, std::uint64_t offset, std::uint64_t length, bool whole,
                       Compression compression);

/// Calls f(line, index) for each line of `text` ("\n" or "\r\n" removed; a last line without
/// "\n" counts; no line after a final "\n").
template <class F>
void split_lines(std::string_view text, F&& f) {
  std::uint64_t index = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::size_t stop = end;
    if (nl != std::string_view::npos && stop > at && text[stop - 1] == '\r') --stop;
    f(text.substr(at, stop - at), index++);
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
}

/// The 1-based line number, in the file, of line `index` of the block at `offset`.
std::uint64_t line_number(const std::string& path, std::uint64_t offset, bool whole, std::uint64_t index);

/// True when `text` is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view text) noexcept;

}  // namespace tessera::bag::detail
