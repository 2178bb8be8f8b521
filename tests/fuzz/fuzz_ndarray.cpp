// libFuzzer target: the NDArray wire codec (array chunks between ranks and in spill files).
// Decoding arbitrary bytes may throw SerializationError but must never crash, read out of
// bounds, or allocate more than the input can describe; with an owner (the receive path) large
// payloads become views. A decoded array re-encodes to bytes that decode to the same array.
#include <tessera/collections/array/ndarray.hpp>

#include <cstring>
#include <memory>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: bit 0 decodes from a shared buffer (views allowed), as a received message.
  auto owned = std::make_shared<std::vector<std::byte>>(size - 1);
  if (size > 1) std::memcpy(owned->data(), data + 1, size - 1);
  const std::span<const std::byte> in(*owned);
  tessera::ByteReader r = (data[0] & 1) ? tessera::ByteReader(in, owned) : tessera::ByteReader(in);
  tessera::NDArray a;
  try {
    a = tessera::Codec<tessera::NDArray>::read(r);
  } catch (const tessera::Error&) {
    return 0;
  }
  tessera::Bytes again;
  tessera::ByteWriter w(again);
  tessera::Codec<tessera::NDArray>::write(w, a);
  tessera::ByteReader r2{std::span<const std::byte>(again)};
  const auto b = tessera::Codec<tessera::NDArray>::read(r2);
  if (b.shape() != a.shape() || b.dtype() != a.dtype() || b.nbytes() != a.nbytes() ||
      (a.nbytes() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) != 0)) {
    __builtin_trap();
  }
  return 0;
}
