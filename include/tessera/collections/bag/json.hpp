#pragma once

/// @file
/// JSON lines as bags: tessera::Json (nlohmann::json), its compact binary Codec, and read_json.
///
/// @code
/// #include <tessera/collections/bag/json.hpp>
/// namespace tb = tessera::bag;
/// auto recs = tb::read_json("accounts.*.json.gz");                     // Bag<tessera::Json>
/// auto alice = recs.filter([](const tessera::Json& r) { return r["name"] == "Alice"; });
/// std::int64_t n = tessera::compute(alice.count());
/// auto lenient = tb::read_json("dirty/*.jsonl", {.on_error = tb::OnError::skip});
/// std::int64_t bad = tessera::compute(tb::count_malformed("dirty/*.jsonl"));
/// @endcode
///
/// Kept out of bag.hpp so that bag users who do not read JSON do not compile nlohmann/json.
///
/// Between ranks and in spill files a Json travels in a compact tagged binary form: typed numbers,
/// no re-printing and re-parsing of text, types kept exactly.
///
/// read_json reads the files as read_text does (globs, blocks cut at line starts, .gz/.zst by
/// suffix, UTF-8 checked) and parses one JSON value per line; blank lines are skipped. A line
/// that is not JSON fails the task with bag::FileError naming file:line, or with
/// `{.on_error = OnError::skip}` is left out (count_malformed counts them).

#include <tessera/collections/bag/bag.hpp>
#include <tessera/serialization/codec.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

/// A JSON value (nlohmann::json).
using Json = nlohmann::json;

/// Json travels in tessera's own tagged binary form (src/collections/bag/json_codec.cpp): each
/// value keeps its exact nlohmann type (signed, unsigned and float numbers, binary subtypes), so a
/// Json computed on any rank equals, type for type, what the synchronous scheduler returns.
/// Throws: SerializationError on bytes that are not such a value (truncated, unknown tag, nested
/// deeper than 4096, refused on write as on read).
template <>
struct Codec<Json> {
  static void write(ByteWriter& w, const Json& j);
  static Json read(ByteReader& r);
};

namespace bag {

/// What read_json does with a line that is not JSON.
enum class OnError : std::uint8_t { raise, skip };

/// Options of read_json.
struct JsonOptions {
  std::uint64_t blocksize = std::uint64_t{64} << 20;
  Compression compression = Compression::infer;
  OnError on_error = OnError::raise;
};

namespace detail {
/// The task of one block: its records (malformed lines raise or are skipped).
std::vector<Json> read_json_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                  bool whole, std::uint8_t compression, std::uint8_t on_error,
                                  std::int64_t mtime_ns);
/// The task counting one block's malformed lines.
std::int64_t count_malformed_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                   bool whole, std::uint8_t compression, std::int64_t mtime_ns);
}  // namespace detail

/// One Json per non-blank line of the files matching `pattern` (a glob or path). Builds the
/// graph only. Throws: bag::FileError as read_text.
Bag<Json> read_json(const std::string& pattern, const JsonOptions& o = {});
Bag<Json> read_json(const std::vector<std::string>& paths, const JsonOptions& o = {});
/// The number of lines read_json with {.on_error = skip} leaves out (a tree sum over the same
/// blocks).
Delayed<std::int64_t> count_malformed(const std::vector<std::string>& paths, const JsonOptions& o = {});
Delayed<std::int64_t> count_malformed(const std::string& pattern, const JsonOptions& o = {});

}  // namespace bag
}  // namespace tessera
