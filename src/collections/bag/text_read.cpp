// read_text: listing the files, cutting them into blocks, and the task reading one block.
#include <tessera/collections/bag/text.hpp>

#include "collections/bag/line_reader.hpp"
#include "collections/glob_paths.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <cstring>

namespace tessera::bag::detail {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> expand(const std::string& pattern) {
  auto m = tessera::detail::glob_paths(pattern);
  if (!m.failed && m.paths.empty()) {
    TESSERA_THROW(FileError, "read_text: the glob '", pattern, "' matches no file");
  }
  if (m.failed) TESSERA_THROW(FileError, "read_text: cannot expand the glob '", pattern, "'");
  return std::move(m.paths);
}

Compression compression_of(const std::string& path, Compression asked) {
  if (asked != Compression::infer) return asked;
  if (ends_with(path, ".gz")) return Compression::gzip;
  if (ends_with(path, ".zst")) return Compression::zstd;
  return Compression::none;
}

void add_blocks(const std::string& path, const TextOptions& o, std::vector<TextBlock>& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    TESSERA_THROW(FileError, "read_text: cannot read '", path, "': ", std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) TESSERA_THROW(FileError, "read_text: '", path, "' is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  const Compression c = compression_of(path, o.compression);
  if (c != Compression::none || o.blocksize == 0 || size <= o.blocksize) {
    out.push_back(TextBlock{path, 0, size, true, c, mtime});
    return;
  }
  for (std::uint64_t at = 0; at < size; at += o.blocksize) {
    out.push_back(TextBlock{path, at, std::min(o.blocksize, size - at), false, c, mtime});
  }
}

}  // namespace

std::vector<TextBlock> plan_text_blocks(const std::vector<std::string>& patterns, const TextOptions& o) {
  if (patterns.empty()) TESSERA_THROW(FileError, "read_text: no paths given");
  std::vector<TextBlock> blocks;
  for (const auto& p : patterns) {
    // Absolute paths: tasks may run on other ranks, in another working directory.
    for (const auto& path : expand(p)) add_blocks(std::filesystem::absolute(path).string(), o, blocks);
  }
  return blocks;
}

std::vector<std::string> read_text_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                         bool whole, std::uint8_t compression, std::uint8_t encoding,
                                         std::int64_t /*mtime_ns: in the key only*/) {
  const std::string text = load_block(path, offset, length, whole, static_cast<Compression>(compression));
  std::vector<std::string> out;
  const bool utf8 = static_cast<Encoding>(encoding) == Encoding::utf8;
  if (utf8 && !valid_utf8(text)) {
    // Find the line only now: the fast check above runs over the whole block at once.
    split_lines(text, [&](std::string_view line, std::uint64_t index) {
      if (!valid_utf8(line)) {
        TESSERA_THROW(FileError, path, ":", line_number(path, offset, whole, index),
                      ": invalid UTF-8 (read it with {.encoding = tessera::bag::Encoding::bytes})");
      }
    });
  }
  split_lines(text, [&](std::string_view line, std::uint64_t) { out.emplace_back(line); });
  return out;
}

}  // namespace tessera::bag::detail

namespace tessera::bag {

Bag<std::string> read_text(const std::vector<std::string>& paths, const TextOptions& o) {
  const auto blocks = detail::plan_text_blocks(paths, o);
  auto fn = tessera::delayed(&detail::read_text_block, {.name = "read_text", .pure = true});
  std::vector<Delayed<std::vector<std::string>>> parts;
  parts.reserve(blocks.size());
  for (const auto& b : blocks) {
    parts.push_back(fn(b.path, b.offset, b.length, b.whole, static_cast<std::uint8_t>(b.compression),
                       static_cast<std::uint8_t>(o.encoding), b.mtime_ns));
  }
  return Bag<std::string>(std::move(parts));
}

Bag<std::string> read_text(const std::string& pattern, const TextOptions& o) {
  return read_text(std::vector<std::string>{pattern}, o);
}

}  // namespace tessera::bag
