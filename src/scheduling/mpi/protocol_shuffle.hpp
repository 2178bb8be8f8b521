#pragma once

// Private: the messages of the MPI shuffle service (scheduling/shuffle/mpi_service.hpp), on
// tags of their own, decoded with the same checks as the scheduler/worker protocol
// (protocol_wire.hpp: every malformed field is a ProtocolError naming the message kind, the
// field, the piece and the byte offset):
//
//   shuffle_put          transfer -> owner   ShufflePut: token, spec, input, then per piece:
//                                            output, separate, size, and the bytes of the
//                                            pieces that travel inline (not separate)
//   shuffle_body         transfer -> owner   the bytes of one separate piece, right after its
//                                            put message, in the put's order (no framing: a
//                                            Value's wire form, as data_body)
//   shuffle_ack          owner -> transfer   ShuffleAck: token, ok, the error when not ok
//   shuffle_drop         rank 0 -> worker    ShuffleDrop (empty): forget every piece
//   shuffle_dropped      worker -> rank 0    ShuffleStatsReply: the worker's shuffle counters
//   shuffle_stats        rank 0 -> worker    ShuffleStatsRequest (empty)
//   shuffle_stats_reply  worker -> rank 0    ShuffleStatsReply
//
// A sender never gathers a put into one buffer: encode_head() and encode_piece_head() frame
// it, and the pieces' bytes are sent from their own memory between the frames (Messenger's
// send of spans). encode() builds the same bytes in one buffer (tests, fuzzing).

#include "scheduling/mpi/protocol_wire.hpp"

#include <tessera/scheduling/detail/shuffle_service.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tessera::detail::mpi {

enum ShuffleTag : int {
  tag_shuffle_put = 21001,
  tag_shuffle_ack = 21002,
  tag_shuffle_drop = 21003,
  tag_shuffle_dropped = 21004,
  tag_shuffle_stats = 21005,
  tag_shuffle_stats_reply = 21006,
  tag_shuffle_body = 21007,
};

/// tag_shuffle_put, transfer -> owner: the pieces of input `input` for some outputs the
/// receiver owns. Decoded, the inline pieces' bytes are views into the message.
struct ShufflePut {
  static constexpr const char* kind = "shuffle_put";
  /// Bytes of the message's head (token, spec, input, piece count).
  static constexpr std::size_t head_bytes = 8 + 8 + 8 + 4 + 4 + 4 + 4;
  /// Bytes of a piece's frame (output, separate, size).
  static constexpr std::size_t piece_head_bytes = 4 + 1 + 8;
  struct Piece {
    std::uint32_t output = 0;
    bool separate = false;          ///< its bytes follow as a shuffle_body message of their own
    std::uint64_t size = 0;         ///< its bytes (inline or in the body)
    std::span<const std::byte> bytes;  ///< inline: the `size` bytes; separate: empty
    friend bool operator==(const Piece& a, const Piece& b) {
      return a.output == b.output && a.separate == b.separate && a.size == b.size &&
             std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    }
  };
  std::uint64_t token = 0;
  ShuffleSpec spec;
  std::uint32_t input = 0;
  std::vector<Piece> pieces;

  /// The whole message in one buffer. Throws: ProtocolError if an inline piece's bytes are
  /// not its size, or a count does not fit.
  [[nodiscard]] Bytes encode() const;
  /// The message's head (token, spec, input, piece count), appended to `w`.
  void encode_head(WireWriter& w) const;
  /// A piece's frame (output, separate, size), appended to `w`; its inline bytes follow it.
  static void encode_piece_head(WireWriter& w, std::uint32_t output, bool separate, std::uint64_t size);
  /// Throws: ProtocolError naming the piece, the field and byte offset (an input or output out
  /// of the spec's range, a size the bytes cannot hold, a bad flag, bytes left over).
  static ShufflePut decode(std::span<const std::byte> bytes);
  friend bool operator==(const ShufflePut& a, const ShufflePut& b) {
    return a.token == b.token && a.spec.id == b.spec.id && a.spec.seq == b.spec.seq &&
           a.spec.n_in == b.spec.n_in && a.spec.n_out == b.spec.n_out && a.input == b.input &&
           a.pieces == b.pieces;
  }
};

/// tag_shuffle_ack, owner -> transfer: every piece of put `token` is stored (ok), or why not.
struct ShuffleAck {
  static constexpr const char* kind = "shuffle_ack";
  std::uint64_t token = 0;
  bool ok = true;
  std::string error;  ///< only when !ok (not sent otherwise)
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the field and byte offset.
  static ShuffleAck decode(std::span<const std::byte> bytes);
  friend bool operator==(const ShuffleAck&, const ShuffleAck&) = default;
};

/// tag_shuffle_drop, rank 0 -> worker: forget every shuffle piece. Empty.
struct ShuffleDrop {
  static constexpr const char* kind = "shuffle_drop";
  [[nodiscard]] Bytes encode() const { return {}; }
  /// Throws: ProtocolError if the message is not empty.
  static ShuffleDrop decode(std::span<const std::byte> bytes);
  friend bool operator==(const ShuffleDrop&, const ShuffleDrop&) = default;
};

/// tag_shuffle_stats, rank 0 -> worker: asks for a ShuffleStatsReply. Empty.
struct ShuffleStatsRequest {
  static constexpr const char* kind = "shuffle_stats";
  [[nodiscard]] Bytes encode() const { return {}; }
  /// Throws: ProtocolError if the message is not empty.
  static ShuffleStatsRequest decode(std::span<const std::byte> bytes);
  friend bool operator==(const ShuffleStatsRequest&, const ShuffleStatsRequest&) = default;
};

/// tag_shuffle_stats_reply and tag_shuffle_dropped, worker -> rank 0: the worker's shuffle
/// counters (ShuffleService::Stats, field by field).
struct ShuffleStatsReply {
  static constexpr const char* kind = "shuffle_stats_reply";
  ShuffleService::Stats stats;
  [[nodiscard]] Bytes encode() const;
  /// Throws: ProtocolError naming the field and byte offset.
  static ShuffleStatsReply decode(std::span<const std::byte> bytes);
  friend bool operator==(const ShuffleStatsReply& a, const ShuffleStatsReply& b);
};

}  // namespace tessera::detail::mpi
