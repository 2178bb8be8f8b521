// read_json: JSON lines parsed by simdjson into tessera::Json, block by block.
#include <tessera/collections/bag/json.hpp>

#include "collections/bag/json_convert.hpp"
#include "collections/bag/line_reader.hpp"

namespace tessera::bag::detail {
namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// Calls f(json) for each parsed line, bad(index, message) for each malformed one.
template <class Ok, class Bad>
void parse_block(const std::string& text, Ok&& ok, Bad&& bad) {
  LineParser parser;
  const char* const end = text.data() + text.size();
  split_lines(text, [&](std::string_view line, std::uint64_t index) {
    if (blank(line)) return;
    Json j;
    const auto readable_after = static_cast<std::size_t>(end - (line.data() + line.size()));
    if (parser.parse(line, readable_after, j)) ok(std::move(j));
    else bad(index);
  });
}

TextOptions text_options(const JsonOptions& o) {
  return TextOptions{.blocksize = o.blocksize, .compression = o.compression, .encoding = Encoding::bytes};
}

}  // namespace

std::vector<Json> read_json_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                  bool whole, std::uint8_t compression, std::uint8_t on_error,
                                  std::int64_t /*mtime_ns: in the key only*/) {
  const std::string text = load_block(path, offset, length, whole, static_cast<Compression>(compression));
  std::vector<Json> out;
  const bool skip = static_cast<OnError>(on_error) == OnError::skip;
  parse_block(
      text, [&](Json&& j) { out.push_back(std::move(j)); },
      [&](std::uint64_t index) {
        if (skip) return;
        // Parse again with exceptions for nlohmann's description of what is wrong.
        std::string why = "invalid UTF-8";
        std::size_t at = 0;
        for (std::uint64_t k = 0; k < index; ++k) at = text.find('\n', at) + 1;
        const auto nl = text.find('\n', at);
        const std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        try {
          const Json parsed = Json::parse(line);
          why = "parsed on the second try: " + parsed.dump();
        } catch (const Json::exception& e) {
          why = e.what();
        }
        TESSERA_THROW(FileError, path, ":", line_number(path, offset, whole, index), ": malformed JSON: ", why,
                      " (skip such lines with {.on_error = tessera::bag::OnError::skip})");
      });
  return out;
}

std::int64_t count_malformed_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                   bool whole, std::uint8_t compression, std::int64_t /*mtime_ns*/) {
  const std::string text = load_block(path, offset, length, whole, static_cast<Compression>(compression));
  std::int64_t bad = 0;
  parse_block(text, [](Json&&) {}, [&](std::uint64_t) { ++bad; });
  return bad;
}

}  // namespace tessera::bag::detail

namespace tessera::bag {

Bag<Json> read_json(const std::vector<std::string>& paths, const JsonOptions& o) {
  const auto blocks = detail::plan_text_blocks(paths, detail::text_options(o));
  auto fn = tessera::delayed(&detail::read_json_block, {.name = "read_json", .pure = true});
  std::vector<Delayed<std::vector<Json>>> parts;
  parts.reserve(blocks.size());
  for (const auto& b : blocks) {
    parts.push_back(fn(b.path, b.offset, b.length, b.whole, static_cast<std::uint8_t>(b.compression),
                       static_cast<std::uint8_t>(o.on_error), b.mtime_ns));
  }
  return Bag<Json>(std::move(parts));
}

Bag<Json> read_json(const std::string& pattern, const JsonOptions& o) {
  return read_json(std::vector<std::string>{pattern}, o);
}

Delayed<std::int64_t> count_malformed(const std::vector<std::string>& paths, const JsonOptions& o) {
  const auto blocks = detail::plan_text_blocks(paths, detail::text_options(o));
  auto fn = tessera::delayed(&detail::count_malformed_block, {.name = "count_malformed", .pure = true});
  std::vector<Delayed<std::int64_t>> counts;
  for (const auto& b : blocks) {
    counts.push_back(fn(b.path, b.offset, b.length, b.whole, static_cast<std::uint8_t>(b.compression), b.mtime_ns));
  }
  auto sum = tessera::delayed(detail::SumAll{}, {.name = "count_malformed-sum", .pure = true});
  return detail::tree_reduce(
      std::move(counts), default_split_every, [&](const auto& g) { return sum(g); },
      [&](const auto& g) { return sum(g); });
}

Delayed<std::int64_t> count_malformed(const std::string& pattern, const JsonOptions& o) {
  return count_malformed(std::vector<std::string>{pattern}, o);
}

}  // namespace tessera::bag
