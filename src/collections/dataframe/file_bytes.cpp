// Input file bytes: mmap for plain files, zlib / zstd decompression by suffix.
#include "collections/dataframe/file_bytes.hpp"

#include <tessera/core/error.hpp>

#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace tessera::dataframe::detail {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string read_raw(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) TESSERA_THROW(StorageError, "cannot open '", path, "': ", std::strerror(errno));
  std::string out;
  std::vector<char> buf(1 << 16);
  while (out.size() < limit && in) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min(buf.size(), limit - out.size())));
    out.append(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return out;
}

/// Decompresses gzip members until `limit` output bytes (or the end).
std::string gunzip(const std::string& path, std::size_t limit) {
  const std::string in = read_raw(path, static_cast<std::size_t>(-1));
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) TESSERA_THROW(StorageError, "zlib init failed for '", path, "'");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::vector<char> buf(1 << 18);
  while (out.size() < limit) {
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows
      continue;
    }
    if (rc != Z_OK) {
      inflateEnd(&z);
      TESSERA_THROW(StorageError, "'", path, "' is not a valid gzip file (zlib: ", z.msg ? z.msg : "error", ")");
    }
    if (z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      TESSERA_THROW(StorageError, "'", path, "' is a truncated gzip file");
    }
  }
  inflateEnd(&z);
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::string unzstd(const std::string& path, std::size_t limit) {
  const std::string in = read_raw(path, static_cast<std::size_t>(-1));
  std::string out;
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_initDStream(d);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::vector<char> buf(ZSTD_DStreamOutSize());
  std::size_t last = 1;
  while (out.size() < limit && (ib.pos < ib.size || last != 0)) {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(last)) {
      const std::string why = ZSTD_getErrorName(last);
      ZSTD_freeDStream(d);
      TESSERA_THROW(StorageError, "'", path, "' is not a valid zstd file (", why, ")");
    }
    out.append(buf.data(), ob.pos);
    if (ib.pos == ib.size && ob.pos == 0 && last != 0) {
      ZSTD_freeDStream(d);
      TESSERA_THROW(StorageError, "'", path, "' is a truncated zstd file");
    }
  }
  ZSTD_freeDStream(d);
  if (out.size() > limit) out.resize(limit);
  return out;
}
}  // namespace

Compression compression_of(const std::string& path) noexcept {
  if (ends_with(path, ".gz")) return Compression::gzip;
  if (ends_with(path, ".zst")) return Compression::zstd;
  return Compression::none;
}

FileBytes FileBytes::open(const std::string& path) {
  FileBytes f;
  const Compression c = compression_of(path);
  if (c != Compression::none) {
    f.m_owned = c == Compression::gzip ? gunzip(path, static_cast<std::size_t>(-1))
                                       : unzstd(path, static_cast<std::size_t>(-1));
    f.m_data = f.m_owned.data();
    f.m_size = f.m_owned.size();
    return f;
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) TESSERA_THROW(StorageError, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  f.m_size = static_cast<std::size_t>(st.st_size);
  if (f.m_size > 0) {
    void* m = ::mmap(nullptr, f.m_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      TESSERA_THROW(StorageError, "cannot map '", path, "': ", std::strerror(errno));
    }
    ::madvise(m, f.m_size, MADV_SEQUENTIAL);
    f.m_map = m;
    f.m_data = static_cast<const char*>(m);
  }
  ::close(fd);
  return f;
}

FileBytes::FileBytes(FileBytes&& o) noexcept
    : m_data(o.m_data), m_size(o.m_size), m_map(o.m_map), m_owned(std::move(o.m_owned)) {
  if (!m_map) m_data = m_owned.data();
  o.m_map = nullptr;
  o.m_data = nullptr;
  o.m_size = 0;
}

FileBytes& FileBytes::operator=(FileBytes&& o) noexcept {
  if (this != &o) {
    if (m_map) ::munmap(m_map, m_size);
    m_size = o.m_size;
    m_map = o.m_map;
    m_owned = std::move(o.m_owned);
    m_data = m_map ? o.m_data : m_owned.data();
    o.m_map = nullptr;
    o.m_data = nullptr;
    o.m_size = 0;
  }
  return *this;
}

FileBytes::~FileBytes() {
  if (m_map) ::munmap(m_map, m_size);
}

std::string read_head(const std::string& path, std::size_t n) {
  switch (compression_of(path)) {
    case Compression::gzip: return gunzip(path, n);
    case Compression::zstd: return unzstd(path, n);
    case Compression::none: break;
  }
  return read_raw(path, n);
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) TESSERA_THROW(StorageError, "cannot stat '", path, "': ", std::strerror(errno));
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace tessera::dataframe::detail
