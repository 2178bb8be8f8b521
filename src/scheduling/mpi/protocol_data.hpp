#pragma once

// Private: the data messages of the scheduler/worker protocol (protocol.hpp): asking a holder
// for results (fetch), its answer (a data header, then the body), and rank 0 telling a worker
// to free results (release) or to send them to rank 0 (gather).
//
// The body that follows an ok DataHeader (tag_data_body) has no framing of its own: it is the
// result's Value in its wire form (Value::wire(), sent from the object's memory in pieces) and
// is decoded lazily by the Value codec (Value::serialized), whose decoders are fuzzed by
// tests/fuzz/fuzz_codec and fuzz_ndarray.

#include "scheduling/mpi/protocol.hpp"
#include "scheduling/mpi/protocol_wire.hpp"

#include <span>
#include <string>
#include <vector>

namespace tessera::detail::mpi {

/// tag_fetch, any -> holder: results the sender needs; the holder answers each with a
/// DataHeader (and a body when it has it).
struct FetchRequest {
  static constexpr const char* kind = "fetch";
  std::vector<DataId> ids;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the id, field and byte offset.
  static FetchRequest decode(std::span<const std::byte> bytes);
  friend bool operator==(const FetchRequest&, const FetchRequest&) = default;
};

/// tag_release, scheduler -> worker: results nobody needs any more.
struct ReleaseRequest {
  static constexpr const char* kind = "release";
  std::vector<DataId> ids;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the id, field and byte offset.
  static ReleaseRequest decode(std::span<const std::byte> bytes);
  friend bool operator==(const ReleaseRequest&, const ReleaseRequest&) = default;
};

/// tag_gather, scheduler -> worker: results to send to rank 0 (as for a fetch).
struct GatherRequest {
  static constexpr const char* kind = "gather";
  std::vector<DataId> ids;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the id, field and byte offset.
  static GatherRequest decode(std::span<const std::byte> bytes);
  friend bool operator==(const GatherRequest&, const GatherRequest&) = default;
};

/// tag_data, holder -> requester: one requested result. `ok`: its body follows; otherwise
/// `error` says why it cannot be had.
struct DataHeader {
  static constexpr const char* kind = "data";
  enum Status : std::uint8_t {
    ok = 0,
    not_held = 1,  // the rank does not hold it (released, or never computed there)
    failed = 2,    // reading it back from the spill file or encoding it failed
  };
  DataId id = 0;
  Status status = ok;
  std::string error;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the field and byte offset (a bad status, a truncated error).
  static DataHeader decode(std::span<const std::byte> bytes);
  friend bool operator==(const DataHeader&, const DataHeader&) = default;
};

}  // namespace tessera::detail::mpi
