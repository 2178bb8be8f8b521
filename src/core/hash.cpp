#include <tessera/core/hash.hpp>

#include <cstring>

namespace tessera {

namespace {
constexpr std::uint64_t fmix(std::uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}
}  // namespace

void Hasher::mix(std::uint64_t v) noexcept {
  m_state = fmix(m_state ^ (v + 0x9E3779B97F4A7C15ULL + (m_state << 6) + (m_state >> 2)));
}

void Hasher::bytes(const void* data, std::size_t n) noexcept {
  mix(n);
  const auto* p = static_cast<const unsigned char*>(data);
  // Four independent lanes keep large literals (arrays passed by value) cheap to hash.
  std::uint64_t lane[4] = {m_state, m_state ^ 0x1234567ULL, m_state ^ 0x89abcdefULL, ~m_state};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int j = 0; j < 4; ++j) {
      std::uint64_t w;
      std::memcpy(&w, p + i + 8 * j, 8);
      lane[j] = (lane[j] ^ w) * 0x9FB21C651E98DF25ULL;
      lane[j] ^= lane[j] >> 29;
    }
  }
  for (int j = 0; j < 4; ++j) mix(lane[j]);
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    mix(w);
  }
  if (i < n) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, n - i);
    mix(w ^ 0xA5A5A5A5ULL);
  }
}

std::uint64_t Hasher::digest() const noexcept { return fmix(m_state ^ 0xD6E8FEB86659FD93ULL); }

std::string to_hex(std::uint64_t h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = digits[h & 0xF];
  return s;
}

}  // namespace tessera
