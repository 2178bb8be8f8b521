// libFuzzer target: the scheduler/worker protocol messages (src/scheduling/mpi/protocol_*.hpp):
// run and done batches, fetch/release/gather requests, data headers, stats request and reply,
// shutdown, and the shuffle service's put, ack, drop and stats messages (protocol_shuffle.hpp).
// The first byte picks the message; the rest is decoded as it. Decoding may throw
// ProtocolError (bad input, the expected outcome) but must never crash, read out of bounds or
// allocate more than the input can describe. The encoding is canonical (flags are 0 or 1,
// enumerators in range, nothing left over), so a message that decodes re-encodes to exactly
// the bytes it was decoded from.
#include "support/protocol_samples.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // An exact-size copy: any read past the message is a heap overflow for ASan.
  std::vector<std::byte> in(size - 1);
  if (size > 1) std::memcpy(in.data(), data + 1, size - 1);
  tessera::Bytes again;
  try {
    again = tessera::testing::protocol::reencode(data[0], in);
  } catch (const tessera::detail::mpi::ProtocolError&) {
    return 0;
  }
  if (again != in) __builtin_trap();
  return 0;
}
