#pragma once

// Private: the wire helpers of the scheduler/worker protocol (protocol.hpp). A WireWriter
// builds one message; a WireReader takes one apart and checks every field as it goes: a read
// past the end, a count that the remaining bytes cannot hold, a flag that is not 0 or 1, an
// enumerator out of range and bytes left over all throw ProtocolError, which names the
// message kind, the field, the item (task, completion, id ...) and the byte offset.
// Fields are written in the host's byte order (every rank runs the same binary).

#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tessera::detail::mpi {

/// A protocol message that could not be encoded or decoded (malformed, truncated, a length
/// that does not fit). A TransportError: callers that catch transport failures catch it.
///
/// what() reads "malformed 'run' message (60 bytes) from rank 2: task 1, field 'state' at byte
/// 57: length 1000 exceeds the 3 bytes left".
class ProtocolError : public TransportError {
public:
  /// `item_name` ("task", "completion", "id") and `item` say which item of the message the
  /// field belongs to (empty: the message's own header); `size` is the message's length.
  ProtocolError(std::string kind, std::string field, const char* item_name,
                std::optional<std::size_t> item, std::size_t offset, std::size_t size,
                std::string detail, bool encoding = false);

  /// The message kind ("run", "done", "fetch", ...).
  [[nodiscard]] const std::string& kind() const noexcept { return m_kind; }
  /// The field at fault ("count", "key", "state", ...).
  [[nodiscard]] const std::string& field() const noexcept { return m_field; }
  /// Index of the item (task, completion, id) the field belongs to; empty for the header.
  [[nodiscard]] const std::optional<std::size_t>& item() const noexcept { return m_item; }
  /// Byte offset of the field in the message.
  [[nodiscard]] std::size_t offset() const noexcept { return m_offset; }
  /// The rank that sent the message, once the receiver added it (from_rank).
  [[nodiscard]] const std::optional<int>& source() const noexcept { return m_source; }
  /// The same error, naming the rank that sent the message.
  [[nodiscard]] ProtocolError from_rank(int rank) const;

private:
  std::string m_kind, m_field, m_item_name;
  std::optional<std::size_t> m_item;
  std::size_t m_offset, m_size;
  std::string m_detail;
  bool m_encoding;
  std::optional<int> m_source;
};

/// Builds one message of `kind` (for the errors).
class WireWriter {
public:
  explicit WireWriter(const char* kind) noexcept : m_kind(kind) {}

  /// An arithmetic value, as its bytes.
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_arithmetic_v<T>, "the wire carries numbers; compose structs field by field");
    write(&v, sizeof(T));
  }
  void flag(bool v) { pod<std::uint8_t>(v ? 1 : 0); }
  /// An enumerator of a uint8_t-based enum.
  template <class E>
  void enumerator(E v) {
    static_assert(std::is_same_v<std::underlying_type_t<E>, std::uint8_t>);
    pod(static_cast<std::uint8_t>(v));
  }
  /// A uint32 count of items to follow. Throws: ProtocolError if `n` does not fit.
  void count(const char* field, std::size_t n);
  /// A uint32 length and the characters. Throws: ProtocolError if it does not fit.
  void string(const char* field, std::string_view s);
  /// A uint32 length and the bytes. Throws: ProtocolError if it does not fit.
  void blob(const char* field, std::span<const std::byte> b);
  /// The bytes alone (their length is framed elsewhere).
  void raw(std::span<const std::byte> b) { write(b.data(), b.size()); }
  /// Starts the fields of item `index`, a `name` ("task"): errors name it.
  void at_item(const char* name, std::size_t index) noexcept {
    m_item_name = name;
    m_item = index;
  }
  /// Makes room for `n` more bytes (one allocation for a message whose size is known).
  void reserve(std::size_t n) { m_out.reserve(m_out.size() + n); }

  [[nodiscard]] Bytes take() && { return std::move(m_out); }

private:
  void write(const void* data, std::size_t n) {
    if (n == 0) return;  // an empty string's data() may be null
    const std::size_t at = m_out.size();
    m_out.resize(at + n);
    std::memcpy(m_out.data() + at, data, n);
  }
  void length(const char* field, std::size_t n);
  const char* m_kind;
  const char* m_item_name = "";
  std::optional<std::size_t> m_item;
  Bytes m_out;
};

/// Takes one message of `kind` apart. Every getter throws ProtocolError when the bytes do not
/// hold what it reads; nothing reads outside `bytes`.
class WireReader {
public:
  WireReader(const char* kind, std::span<const std::byte> bytes) noexcept : m_kind(kind), m_in(bytes) {}

  template <class T>
  T pod(const char* field) {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "use flag() for bools");
    T v;
    std::memcpy(&v, take(field, sizeof(T)).data(), sizeof(T));
    return v;
  }
  /// One byte that must be 0 or 1.
  bool flag(const char* field);
  /// An enumerator of a uint8_t-based enum whose values are 0 .. `last`.
  template <class E>
  E enumerator(const char* field, E last) {
    static_assert(std::is_same_v<std::underlying_type_t<E>, std::uint8_t>);
    const std::size_t at = m_pos;
    const auto v = pod<std::uint8_t>(field);
    if (v > static_cast<std::uint8_t>(last)) {
      fail_at(field, at, "value " + std::to_string(v) + " is not one of 0.." +
                             std::to_string(static_cast<unsigned>(last)));
    }
    return static_cast<E>(v);
  }
  /// A uint32 count of items that take at least `min_item_bytes` each: a count the remaining
  /// bytes cannot hold throws here, before anything is allocated for it.
  std::uint32_t count(const char* field, std::size_t min_item_bytes);
  /// A uint32 length and that many characters.
  std::string string(const char* field);
  /// A uint32 length and that many bytes (a view into the message).
  std::span<const std::byte> blob(const char* field);
  /// The next `n` bytes (a view into the message).
  std::span<const std::byte> take(const char* field, std::size_t n) {
    if (n > remaining()) fail_short(field, n);
    auto s = m_in.subspan(m_pos, n);
    m_pos += n;
    return s;
  }
  /// Starts the fields of item `index`, a `name` ("task"): errors name it.
  void at_item(const char* name, std::size_t index) noexcept {
    m_item_name = name;
    m_item = index;
  }
  /// Back to fields of the message itself (after a list of items).
  void no_item() noexcept { m_item.reset(); }
  /// The message must end here. Throws: ProtocolError naming the bytes left over.
  void finish();
  /// Throws ProtocolError for `field` at the current offset.
  [[noreturn]] void fail(const char* field, const std::string& what) const { fail_at(field, m_pos, what); }
  [[noreturn]] void fail_at(const char* field, std::size_t offset, const std::string& what) const;
  [[noreturn]] void fail_short(const char* field, std::size_t n) const;

  [[nodiscard]] std::size_t offset() const noexcept { return m_pos; }
  [[nodiscard]] std::size_t remaining() const noexcept { return m_in.size() - m_pos; }

private:
  const char* m_kind;
  std::span<const std::byte> m_in;
  std::size_t m_pos = 0;
  const char* m_item_name = "";
  std::optional<std::size_t> m_item;
};

}  // namespace tessera::detail::mpi
