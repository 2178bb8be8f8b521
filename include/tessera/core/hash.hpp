#pragma once

/// @file
/// Deterministic 64-bit hashing used for task keys (Dask's `tokenize`). The same bytes give the
/// same hash in every process and every run, on every rank.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

/// Incremental, deterministic 64-bit hash (a 64-bit multiply-xorshift over 8-byte words).
/// Not cryptographic. Thread safety: a Hasher is a value; distinct objects are independent.
class Hasher {
public:
  constexpr Hasher() noexcept = default;
  constexpr explicit Hasher(std::uint64_t seed) noexcept : m_state(seed ^ 0x9E3779B97F4A7C15ULL) {}

  /// Mixes `n` bytes at `data` into the hash. Length-prefixed, so ("ab","c") != ("a","bc").
  void bytes(const void* data, std::size_t n) noexcept;
  void u64(std::uint64_t v) noexcept { mix(v); }
  void str(std::string_view s) noexcept { bytes(s.data(), s.size()); }

  [[nodiscard]] std::uint64_t digest() const noexcept;

private:
  void mix(std::uint64_t v) noexcept;
  std::uint64_t m_state = 0x243F6A8885A308D3ULL;
};

/// 16 lower-case hex digits of `h`.
std::string to_hex(std::uint64_t h);

}  // namespace tessera
