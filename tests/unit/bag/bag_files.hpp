#pragma once
// Files for the bag tests: fresh temporary directories, plain, gzip and zstd files written with
// zlib and libzstd directly (not through the code under test).

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bagtest {

namespace fs = std::filesystem;

/// A directory removed at the end of the scope.
class TempDir {
public:
  TempDir() {
    static int serial = 0;
    m_path = fs::temp_directory_path() /
             ("tessera-bag-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
    fs::remove_all(m_path);
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string operator/(const std::string& name) const { return (m_path / name).string(); }
  [[nodiscard]] const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  if (!f) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

inline std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot read " + path);
  std::string out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

inline void write_zstd(const std::string& path, const std::string& bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 1));
  write_file(path, out);
}

inline std::string unzstd(const std::string& path) {
  const std::string in = read_file(path);
  const auto n = ZSTD_getFrameContentSize(in.data(), in.size());
  std::string out(static_cast<std::size_t>(n), '\0');
  out.resize(ZSTD_decompress(out.data(), out.size(), in.data(), in.size()));
  return out;
}

/// Files in `dir` whose name contains `part`.
inline std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The lines of `text` as read_text gives them ("\n" or "\r\n" removed).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    auto end = nl == std::string::npos ? text.size() : nl;
    auto stop = end;
    if (nl != std::string::npos && stop > at && text[stop - 1] == '\r') --stop;
    out.push_back(text.substr(at, stop - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

}  // namespace bagtest
