// to_textfiles: one file per partition, compressed by suffix, written under a temporary name
// and renamed when complete.
#include <tessera/collections/bag/text.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace tessera::bag::detail {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The text of the partition: each line followed by "\n".
std::string joined(const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n += l.size() + 1;
  std::string out;
  out.reserve(n);
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

void write_all(const std::string& tmp, const std::string& path, std::string_view bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) TESSERA_THROW(FileError, "to_textfiles: cannot create '", tmp, "': ", std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = errno;
      ::close(fd);
      TESSERA_THROW(FileError, "to_textfiles: cannot write '", path, "': ", std::strerror(err));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0) TESSERA_THROW(FileError, "to_textfiles: cannot write '", path, "': ", std::strerror(errno));
}

std::string gzip(const std::string& text, const std::string& path) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    TESSERA_THROW(FileError, "to_textfiles: cannot start gzip for '", path, "'");
  }
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) TESSERA_THROW(FileError, "to_textfiles: gzip failed for '", path, "'");
  return out;
}

std::string zstd(const std::string& text, const std::string& path) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  if (ZSTD_isError(n)) TESSERA_THROW(FileError, "to_textfiles: zstd failed for '", path, "': ", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string temporary_name(const std::string& path) {
  static std::atomic<std::uint64_t> serial{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
}

}  // namespace

std::string write_text_partition(const std::vector<std::string>& lines, const std::string& path) {
  std::string text = joined(lines);
  if (ends_with(path, ".gz")) text = gzip(text, path);
  else if (ends_with(path, ".zst")) text = zstd(text, path);
  const std::string tmp = temporary_name(path);
  try {
    write_all(tmp, path, text);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      TESSERA_THROW(FileError, "to_textfiles: cannot rename '", tmp, "' to '", path, "': ", std::strerror(errno));
    }
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  return path;
}

std::string output_path(const std::string& pattern, std::size_t partition) {
  const auto star = pattern.find('*');
  if (star == std::string::npos || pattern.find('*', star + 1) != std::string::npos) {
    TESSERA_THROW(FileError, "to_textfiles: the path '", pattern,
                  "' must contain exactly one '*' (replaced by the partition number)");
  }
  // Absolute: the writing task may run on another rank, in another working directory.
  return std::filesystem::absolute(pattern.substr(0, star) + std::to_string(partition) + pattern.substr(star + 1))
      .string();
}

void make_parent_dirs(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) TESSERA_THROW(FileError, "to_textfiles: cannot create the directory '", dir.string(), "': ", ec.message());
}

}  // namespace tessera::bag::detail
