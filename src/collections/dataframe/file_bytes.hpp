#pragma once

// Internal: the bytes of an input file. Plain files are memory-mapped; .gz (zlib, multi-member)
// and .zst (zstd, multi-frame) files are decompressed whole by suffix. Kept in the dataframe
// folder for now (the bag collection has its own line reader; the integrator unifies them).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tessera::dataframe::detail {

enum class Compression { none, gzip, zstd };
Compression compression_of(const std::string& path) noexcept;

class FileBytes {
public:
  /// Maps or decompresses `path`. Throws: StorageError naming the file.
  static FileBytes open(const std::string& path);
  FileBytes(FileBytes&&) noexcept;
  FileBytes& operator=(FileBytes&&) noexcept;
  ~FileBytes();
  [[nodiscard]] const char* data() const noexcept { return m_data; }
  [[nodiscard]] std::size_t size() const noexcept { return m_size; }

private:
  FileBytes() = default;
  const char* m_data = nullptr;
  std::size_t m_size = 0;
  void* m_map = nullptr;
  std::string m_owned;
};

/// The first `n` bytes of the (decompressed) file, fewer at its end. Throws: StorageError.
std::string read_head(const std::string& path, std::size_t n);
/// Size on disk. Throws: StorageError.
std::uint64_t file_size(const std::string& path);

}  // namespace tessera::dataframe::detail
