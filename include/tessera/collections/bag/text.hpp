#pragma once

/// @file
/// Text files as bags: read_text (a line per element) and to_textfiles (a file per partition).
///
/// @code
/// namespace tb = tessera::bag;
/// auto lines = tb::read_text("logs/*.txt", {.blocksize = 16 << 20});   // Bag<std::string>
/// auto gz = tb::read_text({"a.txt.gz", "b.txt.zst"});                   // by suffix
/// auto paths = tb::to_textfiles(lines.filter(is_error), "out/part-*.txt.gz");
/// @endcode
///
/// Lines. Elements are the lines without their terminator ("\n" or "\r\n"); a last line without
/// a newline is a line; an empty file has no lines. (Dask keeps the "\n"; C++ code rarely wants it.)
///
/// Blocks. An uncompressed file larger than `blocksize` is read as several partitions, cut at
/// byte offsets; a line belongs to the block in which it STARTS, so a line spanning a boundary
/// is read whole, once, by the earlier block (as Dask's read_bytes with a delimiter). Compressed
/// files (.gz through zlib, .zst through libzstd, chosen by suffix unless `.compression` says)
/// cannot be cut at offsets: each is one partition.
///
/// Encoding. Lines must be valid UTF-8 unless `.encoding = Encoding::bytes`: the task fails with
/// bag::FileError naming file:line.
///
/// Files are listed (and stat'ed) when the bag is built, on the driver, and named by absolute
/// paths; tasks read them on whichever rank runs them, so under MPI all ranks must see the same
/// file system. to_textfiles likewise resolves its pattern against the driver's directory.
///
/// Throws (when building): bag::FileError if a glob matches nothing (naming the glob), a listed
/// file is missing or cannot be stat'ed (naming it).

#include <tessera/collections/bag/bag.hpp>
#include <tessera/collections/bag/errors.hpp>
#include <tessera/graph/delayed.hpp>
#include <tessera/scheduling/compute.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tessera::bag {

/// Compression of text files: by suffix (.gz, .zst), or forced.
enum class Compression : std::uint8_t { infer, none, gzip, zstd };
/// What lines must be: valid UTF-8, or any bytes.
enum class Encoding : std::uint8_t { utf8, bytes };

/// Options of read_text.
struct TextOptions {
  /// Bytes per partition of an uncompressed file; 0: one partition per file.
  std::uint64_t blocksize = std::uint64_t{64} << 20;
  Compression compression = Compression::infer;
  Encoding encoding = Encoding::utf8;
};

namespace detail {

/// One partition of a text input: a file and a byte range of it (the whole file if compressed).
struct TextBlock {
  std::string path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // bytes of the file the block covers (the file size with `whole`)
  bool whole = false;        // read to the end (compressed files)
  Compression compression = Compression::none;
  std::int64_t mtime_ns = 0;  // part of the key: a changed file is read again
};

/// The blocks of the files `patterns` match. Throws: FileError (see read_text).
std::vector<TextBlock> plan_text_blocks(const std::vector<std::string>& patterns, const TextOptions& o);

/// The task of one text block: its lines.
std::vector<std::string> read_text_block(const std::string& path, std::uint64_t offset, std::uint64_t length,
                                         bool whole, std::uint8_t compression, std::uint8_t encoding,
                                         std::int64_t mtime_ns);

/// The task writing one partition: to a temporary name beside `path`, compressed by its suffix,
/// then renamed to `path`; on failure the temporary file is removed. Returns `path`.
std::string write_text_partition(const std::vector<std::string>& lines, const std::string& path);
/// "out/part-*.txt" with partition i: "<absolute>/out/part-i.txt". Throws: FileError unless the pattern
/// has exactly one '*'.
std::string output_path(const std::string& pattern, std::size_t partition);
/// Creates the directory that will hold `path` (and its parents). Throws: FileError.
void make_parent_dirs(const std::string& path);

struct WriteLines {
  std::string operator()(const std::vector<std::string>& lines, const std::string& path) const {
    return write_text_partition(lines, path);
  }
};

}  // namespace detail

/// The lines of the files matching `pattern` (a glob, or a plain path): Bag<std::string>.
/// Throws: bag::FileError (see @file). Builds the graph only; reads nothing.
Bag<std::string> read_text(const std::string& pattern, const TextOptions& o = {});
/// The lines of every file of `paths` (each may be a glob), in order.
Bag<std::string> read_text(const std::vector<std::string>& paths,
                                                  const TextOptions& o = {});

/// The tasks writing `bag` as text, one file per partition: `pattern`'s '*' replaced by the
/// partition number, each element a line (followed by "\n"), compressed by suffix (.gz,
/// .zst). Each file is written under a temporary name and renamed when complete, so a failed
/// write leaves no half-written file. Throws: FileError unless the pattern has one '*'.
template <class B>
std::vector<Delayed<std::string>> to_textfiles_delayed(const B& bag, const std::string& pattern) {
  static_assert(std::is_same_v<typename B::value_type, std::string>,
                "to_textfiles: the bag's elements must be std::string (map them to text first)");
  std::vector<Delayed<std::string>> out;
  out.reserve(bag.npartitions());
  for (std::size_t i = 0; i < bag.npartitions(); ++i) {
    const std::string path = detail::output_path(pattern, i);
    if (i == 0) detail::make_parent_dirs(path);
    out.push_back(bag.partition_task(detail::WriteLines{}, "to_textfiles", i, path));
  }
  return out;
}

/// Writes `bag` as text now (see to_textfiles_delayed) on the default scheduler; returns the
/// paths written. Blocks. Collective: rank 0 only under MPI. Throws: TaskError if a write fails.
template <class B>
std::vector<std::string> to_textfiles(const B& bag, const std::string& pattern) {
  return tessera::compute(to_textfiles_delayed(bag, pattern));
}

}  // namespace tessera::bag
