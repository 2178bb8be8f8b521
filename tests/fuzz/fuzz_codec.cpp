// libFuzzer target: tessera::Codec decoders (the wire form of task arguments and results).
// The first byte picks a type; the rest is decoded as that type. Decoding may throw
// SerializationError (bad input, the expected outcome) but must never crash, read out of
// bounds or allocate without bound. A value that decodes must re-encode to bytes that decode
// to an equal value.
#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {

template <class T>
void round_trip(std::span<const std::byte> in) {
  T v;
  try {
    v = tessera::decode<T>(in);
  } catch (const tessera::SerializationError&) {
    return;
  }
  // Compared as bytes (a NaN is not equal to itself): encode(decode(encode(v))) == encode(v).
  const auto once = tessera::encode(v);
  const auto twice = tessera::encode(tessera::decode<T>(std::span<const std::byte>(once)));
  if (once != twice) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  switch (data[0] % 9) {
    case 0: round_trip<std::string>(in); break;
    case 1: round_trip<std::vector<double>>(in); break;
    case 2: round_trip<std::vector<std::string>>(in); break;
    case 3: round_trip<std::vector<bool>>(in); break;
    case 4: round_trip<std::map<std::string, std::vector<int>>>(in); break;
    // Not optional<double>: trivially copyable, so it travels as raw bytes and a corrupt flag
    // byte is an invalid bool (a known limit of the Bitwise path, see tests/fuzz/README.md).
    case 5: round_trip<std::tuple<int, std::string, std::optional<std::string>>>(in); break;
    case 6: round_trip<std::vector<std::vector<std::int64_t>>>(in); break;
    case 7: round_trip<std::pair<std::string, std::vector<float>>>(in); break;
    default: round_trip<std::optional<std::vector<std::string>>>(in); break;
  }
  return 0;
}
