// Reading one text block: a byte range of a plain file cut at line starts, or a whole
// gzip/zstd file decompressed.
#include "collections/bag/line_reader.hpp"

#include <tessera/collections/bag/errors.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace tessera::bag::detail {
namespace {

class Fd {
public:
  explicit Fd(const std::string& path) : m_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (m_fd < 0) TESSERA_THROW(FileError, "cannot open '", path, "': ", std::strerror(errno));
  }
  ~Fd() { ::close(m_fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const noexcept { return m_fd; }

private:
  int m_fd;
};

/// Reads up to n bytes at `at` (fewer at the end of the file).
std::size_t pread_some(const Fd& fd, const std::string& path, char* out, std::size_t n, std::uint64_t at) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd.get(), out + done, n - done, static_cast<off_t>(at + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      TESSERA_THROW(FileError, "cannot read '", path, "' at byte ", at + done, ": ", std::strerror(errno));
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

/// Offset of the first line that starts at or after `offset`.
std::uint64_t first_line_start(const Fd& fd, const std::string& path, std::uint64_t offset) {
  if (offset == 0) return 0;
  char buf[65536];
  std::uint64_t at = offset - 1;
  for (;;) {
    const std::size_t n = pread_some(fd, path, buf, sizeof buf, at);
    if (n == 0) return at;
    const void* nl = std::memchr(buf, '\n', n);
    if (nl) return at + static_cast<std::uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    at += n;
  }
}

std::string read_plain(const std::string& path, std::uint64_t offset, std::uint64_t length, bool whole) {
  const Fd fd(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) TESSERA_THROW(FileError, "cannot stat '", path, "': ", std::strerror(errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (whole) {
    offset = 0;
    length = size;
  }
  const std::uint64_t limit = std::min(size, offset + length);  // lines must start before it
  const std::uint64_t start = first_line_start(fd, path, offset);
  std::string out;
  if (start >= limit) return out;
  out.resize(limit - start);
  out.resize(pread_some(fd, path, out.data(), out.size(), start));
  // The last line that starts before `limit` runs on to its newline.
  if (out.empty() || out.back() == '\n') return out;
  char buf[65536];
  std::uint64_t at = start + out.size();
  for (;;) {
    const std::size_t n = pread_some(fd, path, buf, sizeof buf, at);
    if (n == 0) return out;
    const void* nl = std::memchr(buf, '\n', n);
    const std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - buf) + 1 : n;
    out.append(buf, take);
    if (nl) return out;
    at += n;
  }
}

std::string read_gzip(const std::string& path) {
  gzFile f = ::gzopen(path.c_str(), "rb");
  if (!f) TESSERA_THROW(FileError, "cannot open '", path, "': ", std::strerror(errno));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, &::gzclose);
  ::gzbuffer(f, 1 << 17);
  std::string out;
  std::size_t at = 0;
  for (;;) {
    out.resize(at + (std::size_t{1} << 20));
    const int n = ::gzread(f, out.data() + at, static_cast<unsigned>(out.size() - at));
    if (n < 0) {
      int code = 0;
      const char* msg = ::gzerror(f, &code);
      TESSERA_THROW(FileError, "cannot decompress '", path, "' (gzip): ", msg ? msg : "error");
    }
    at += static_cast<std::size_t>(n);
    if (n == 0) break;
  }
  out.resize(at);
  return out;
}

std::string read_zstd(const std::string& path) {
  const Fd fd(path);
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::vector<char> in(ZSTD_DStreamInSize());
  std::string out;
  std::uint64_t at = 0;
  std::size_t last = 0;
  for (;;) {
    const std::size_t n = pread_some(fd, path, in.data(), in.size(), at);
    if (n == 0) break;
    at += n;
    ZSTD_inBuffer ib{in.data(), n, 0};
    while (ib.pos < ib.size) {
      const std::size_t have = out.size();
      out.resize(have + ZSTD_DStreamOutSize());
      ZSTD_outBuffer ob{out.data() + have, ZSTD_DStreamOutSize(), 0};
      last = ZSTD_decompressStream(ctx.get(), &ob, &ib);
      out.resize(have + ob.pos);
      if (ZSTD_isError(last)) {
        TESSERA_THROW(FileError, "cannot decompress '", path, "' (zstd): ", ZSTD_getErrorName(last));
      }
    }
  }
  // zstd consumes a frame's last byte only after flushing all its output: a complete frame
  // ends with a call that returned 0.
  if (last != 0) TESSERA_THROW(FileError, "cannot decompress '", path, "' (zstd): the file is truncated");
  return out;
}

}  // namespace

std::string load_block(const std::string& path, std::uint64_t offset, std::uint64_t length, bool whole,
                       Compression compression) {
  switch (compression) {
    case Compression::gzip: return read_gzip(path);
    case Compression::zstd: return read_zstd(path);
    default: return read_plain(path, offset, length, whole);
  }
}

std::uint64_t line_number(const std::string& path, std::uint64_t offset, bool whole, std::uint64_t index) {
  if (whole || offset == 0) return index + 1;
  const Fd fd(path);
  const std::uint64_t start = first_line_start(fd, path, offset);
  std::uint64_t lines = 0;
  char buf[65536];
  for (std::uint64_t at = 0; at < start;) {
    const std::size_t n = pread_some(fd, path, buf, static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, start - at)), at);
    if (n == 0) break;
    for (std::size_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    at += n;
  }
  return lines + index + 1;
}

bool valid_utf8(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else return false;
    if (i + len > n) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace tessera::bag::detail
