#pragma once

/// @file
/// How values become bytes and back: task arguments, results and callables travel between ranks
/// and into spill files in this form, and task keys hash it.
///
/// A type is serializable when one of these holds (checked in this order):
///  - `tessera::Codec<T>` is specialized by the user;
///  - T is Bitwise (trivially copyable, not a pointer): raw bytes;
///  - T is a standard type built from serializable parts (string, vector, array, pair, tuple,
///    optional, map, unordered_map); vectors of Bitwise elements move as one contiguous block;
///  - T has a Boost.Serialization member `template <class Ar> void serialize(Ar&, unsigned)`:
///    written through a Boost binary archive (large numeric buffers inside should use
///    `boost::serialization::make_array`, which is a single memcpy in binary archives).
/// Function pointers are Serializable too: they travel as (module, offset) code references,
/// valid because every rank runs the same executable.

#include <tessera/core/error.hpp>
#include <tessera/serialization/code_ref.hpp>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera {

/// A serialized value: plain contiguous bytes.
using Bytes = std::vector<std::byte>;

/// A large contiguous block a scatter-mode ByteWriter referenced instead of copying: it belongs
/// at `offset` of the written head buffer (before the head byte at that offset).
struct BulkRef {
  std::size_t offset = 0;
  const std::byte* data = nullptr;
  std::size_t size = 0;
};

/// Appends to a Bytes buffer.
///
/// Scatter mode (the constructor with `refs`): bulk() blocks of at least `min_bulk` bytes are
/// not copied but recorded in `refs`; the serialized form is then the head buffer with each
/// referenced block inserted at its offset (Value::wire() sends it so, straight from the
/// object's memory). Codecs must write large contiguous payloads with bulk(), and may not patch
/// bytes of the head written before a bulk() call except through buffer() offsets taken after it.
class ByteWriter {
public:
  explicit ByteWriter(Bytes& out) noexcept : m_out(&out) {}
  ByteWriter(Bytes& out, std::vector<BulkRef>& refs, std::size_t min_bulk) noexcept
      : m_out(&out), m_refs(&refs), m_min_bulk(min_bulk) {}
  void write(const void* data, std::size_t n) {
    if (n == 0) return;
    const std::size_t at = m_out->size();
    m_out->resize(at + n);
    std::memcpy(m_out->data() + at, data, n);
  }
  /// Writes a large contiguous block: referenced in scatter mode, else copied. The block must
  /// stay unchanged while the serialized form is in use.
  void bulk(const void* data, std::size_t n) {
    if (m_refs != nullptr && n >= m_min_bulk) {
      m_refs->push_back(BulkRef{m_out->size(), static_cast<const std::byte*>(data), n});
      m_referenced += n;
    } else {
      write(data, n);
    }
  }
  /// Pads with zero bytes until the serialized position is a multiple of `alignment`, so that a
  /// reader can hand out the next bytes in place (ByteReader::align + take).
  void align(std::size_t alignment) {
    const std::size_t pad = (alignment - position() % alignment) % alignment;
    if (pad) m_out->resize(m_out->size() + pad, std::byte{0});
  }
  /// Bytes of the serialized form written so far (head plus referenced blocks).
  [[nodiscard]] std::size_t position() const noexcept { return m_out->size() + m_referenced; }
  template <class T>
  void pod(const T& v) {
    write(&v, sizeof(T));
  }
  [[nodiscard]] Bytes& buffer() noexcept { return *m_out; }

private:
  Bytes* m_out;
  std::vector<BulkRef>* m_refs = nullptr;
  std::size_t m_min_bulk = 0;
  std::size_t m_referenced = 0;
};

/// Reads from a byte span. Throws: SerializationError when the bytes run out.
///
/// With an `owner` (the shared buffer the span lies in), codecs may keep views into the bytes
/// instead of copying them (NDArray does for its elements), holding `owner()` to keep them alive.
class ByteReader {
public:
  explicit ByteReader(std::span<const std::byte> in) noexcept : m_in(in) {}
  ByteReader(std::span<const std::byte> in, std::shared_ptr<const void> owner) noexcept
      : m_in(in), m_owner(std::move(owner)) {}
  /// The shared owner of the bytes, or null if the bytes may not outlive this read.
  [[nodiscard]] const std::shared_ptr<const void>& owner() const noexcept { return m_owner; }
  /// Skips the padding ByteWriter::align(alignment) wrote at this position.
  void align(std::size_t alignment) {
    const std::size_t pad = (alignment - m_pos % alignment) % alignment;
    (void)take(pad);
  }
  void read(void* data, std::size_t n) {
    if (n > m_in.size() - m_pos) {
      TESSERA_THROW(SerializationError, "serialized value is truncated: need ", n,
                    " more bytes at offset ", m_pos, " of ", m_in.size());
    }
    if (n) std::memcpy(data, m_in.data() + m_pos, n);
    m_pos += n;
  }
  template <class T>
  T pod() {
    T v;
    read(&v, sizeof(T));
    return v;
  }
  /// Hands out the next `n` bytes without copying.
  std::span<const std::byte> take(std::size_t n) {
    if (n > m_in.size() - m_pos) {
      TESSERA_THROW(SerializationError, "serialized value is truncated: need ", n,
                    " more bytes at offset ", m_pos, " of ", m_in.size());
    }
    auto s = m_in.subspan(m_pos, n);
    m_pos += n;
    return s;
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return m_in.size() - m_pos; }

private:
  std::span<const std::byte> m_in;
  std::size_t m_pos = 0;
  std::shared_ptr<const void> m_owner;
};

/// Customization point: specialize with `static void write(ByteWriter&, const T&)` and
/// `static T read(ByteReader&)` to control how T travels.
template <class T, class Enable = void>
struct Codec;

/// Trivially copyable, non-pointer types travel as their bytes.
template <class T>
concept Bitwise = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
                  !std::is_member_pointer_v<T> && !std::is_empty_v<T>;

template <class T>
struct raw_layout : std::bool_constant<Bitwise<T>> {};
template <class A, class B>
struct raw_layout<std::pair<A, B>>
    : std::bool_constant<raw_layout<A>::value && raw_layout<B>::value &&
                         sizeof(std::pair<A, B>) == sizeof(A) + sizeof(B)> {};

/// Types whose serialized form is exactly their object representation, so that a vector of
/// them travels (and is read back) as one block: Bitwise types, and std::pairs of such types
/// that nothing pads (std::pair is not trivially copyable, so not Bitwise, but its codec writes
/// first then second, which is then its memory: vectors of (key, value) records). Only a
/// speed-up: the bytes are the same either way.
template <class T>
concept RawLayout = raw_layout<T>::value;

template <class T>
concept BoostSerializable =
    requires(T& v, boost::archive::binary_oarchive& oa) { v.serialize(oa, 0u); } &&
    std::is_default_constructible_v<T>;

template <class T>
concept Serializable = requires(ByteWriter& w, ByteReader& r, const T& v) {
  Codec<T>::write(w, v);
  { Codec<T>::read(r) } -> std::same_as<T>;
};

/// Appends the serialized form of `v`.
template <Serializable T>
void encode(ByteWriter& w, const T& v) {
  Codec<T>::write(w, v);
}
template <Serializable T>
Bytes encode(const T& v) {
  Bytes b;
  ByteWriter w(b);
  Codec<T>::write(w, v);
  return b;
}
/// Reads a T. Throws: SerializationError if the bytes are truncated or malformed.
template <Serializable T>
T decode(ByteReader& r) {
  return Codec<T>::read(r);
}
template <Serializable T>
T decode(std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  return Codec<T>::read(r);
}

// ---- codecs -------------------------------------------------------------------------------

template <class T>
  requires Bitwise<T>
struct Codec<T> {
  static void write(ByteWriter& w, const T& v) { w.pod(v); }
  // bit_cast: trivially copyable types need not be default constructible (lambdas).
  static T read(ByteReader& r) {
    std::array<std::byte, sizeof(T)> raw;
    r.read(raw.data(), raw.size());
    return std::bit_cast<T>(raw);
  }
};

/// Empty types (capture-less lambdas, tag types) carry no bytes.
template <class T>
  requires(std::is_empty_v<T> && std::is_default_constructible_v<T>)
struct Codec<T> {
  static void write(ByteWriter&, const T&) {}
  static T read(ByteReader&) { return T{}; }
};

/// Capture-less lambdas are empty but not default constructible before C++20 in all cases;
/// C++20 makes them default constructible, which the specialization above covers.

template <class R, class... A>
struct Codec<R (*)(A...)> {
  using Fn = R (*)(A...);
  static void write(ByteWriter& w, Fn f) { w.pod(code_ref(reinterpret_cast<const void*>(f))); }
  static Fn read(ByteReader& r) {
    return reinterpret_cast<Fn>(const_cast<void*>(resolve_code_ref(r.pod<CodeRef>())));
  }
};

template <>
struct Codec<std::string> {
  static void write(ByteWriter& w, const std::string& s) {
    w.pod<std::uint64_t>(s.size());
    w.bulk(s.data(), s.size());
  }
  static std::string read(ByteReader& r) {
    const auto n = r.pod<std::uint64_t>();
    auto s = r.take(n);
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
  }
};

template <class T, class A>
struct Codec<std::vector<T, A>, std::enable_if_t<Serializable<T> || std::is_same_v<T, bool>>> {
  static void write(ByteWriter& w, const std::vector<T, A>& v) {
    w.pod<std::uint64_t>(v.size());
    if constexpr (std::is_same_v<T, bool>) {
      for (bool b : v) w.pod<std::uint8_t>(b ? 1 : 0);
    } else if constexpr (RawLayout<T>) {
      w.bulk(v.data(), v.size() * sizeof(T));
    } else {
      for (const auto& e : v) Codec<T>::write(w, e);
    }
  }
  static std::vector<T, A> read(ByteReader& r) {
    const auto n = r.pod<std::uint64_t>();
    std::vector<T, A> v;
    // n comes from the bytes: never reserve more than they can hold (a corrupt count would
    // throw std::length_error or exhaust memory instead of a SerializationError).
    if constexpr (std::is_same_v<T, bool>) {
      if (n > r.remaining()) {
        TESSERA_THROW(SerializationError, "serialized vector<bool> claims ", n, " elements but only ",
                      r.remaining(), " bytes remain");
      }
      v.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) v.push_back(r.pod<std::uint8_t>() != 0);
    } else if constexpr (RawLayout<T>) {
      if (n > r.remaining() / sizeof(T)) {
        TESSERA_THROW(SerializationError, "serialized vector claims ", n, " elements but only ",
                      r.remaining(), " bytes remain");
      }
      v.resize(n);
      r.read(v.data(), n * sizeof(T));
    } else {
      v.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, r.remaining())));
      for (std::uint64_t i = 0; i < n; ++i) v.push_back(Codec<T>::read(r));
    }
    return v;
  }
};

template <class T, std::size_t N>
  requires(!Bitwise<std::array<T, N>> && Serializable<T>)
struct Codec<std::array<T, N>> {
  static void write(ByteWriter& w, const std::array<T, N>& a) {
    for (const auto& e : a) Codec<T>::write(w, e);
  }
  static std::array<T, N> read(ByteReader& r) {
    std::array<T, N> a;
    for (auto& e : a) e = Codec<T>::read(r);
    return a;
  }
};

template <class A, class B>
  requires(!Bitwise<std::pair<A, B>> && Serializable<A> && Serializable<B>)
struct Codec<std::pair<A, B>> {
  static void write(ByteWriter& w, const std::pair<A, B>& p) {
    Codec<A>::write(w, p.first);
    Codec<B>::write(w, p.second);
  }
  static std::pair<A, B> read(ByteReader& r) {
    A a = Codec<A>::read(r);
    B b = Codec<B>::read(r);
    return {std::move(a), std::move(b)};
  }
};

template <class... Ts>
  requires(!Bitwise<std::tuple<Ts...>> && (Serializable<Ts> && ...))
struct Codec<std::tuple<Ts...>> {
  static void write(ByteWriter& w, const std::tuple<Ts...>& t) {
    std::apply([&](const auto&... e) { (Codec<std::decay_t<decltype(e)>>::write(w, e), ...); }, t);
  }
  static std::tuple<Ts...> read(ByteReader& r) { return std::tuple<Ts...>{Codec<Ts>::read(r)...}; }
};

template <class T>
  requires(!Bitwise<std::optional<T>> && Serializable<T>)
struct Codec<std::optional<T>> {
  static void write(ByteWriter& w, const std::optional<T>& o) {
    w.pod<std::uint8_t>(o ? 1 : 0);
    if (o) Codec<T>::write(w, *o);
  }
  static std::optional<T> read(ByteReader& r) {
    if (r.pod<std::uint8_t>() == 0) return std::nullopt;
    return Codec<T>::read(r);
  }
};

namespace detail {
template <class M>
struct MapCodec {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static void write(ByteWriter& w, const M& m) {
    w.pod<std::uint64_t>(m.size());
    for (const auto& [k, v] : m) {
      Codec<K>::write(w, k);
      Codec<V>::write(w, v);
    }
  }
  static M read(ByteReader& r) {
    const auto n = r.pod<std::uint64_t>();
    M m;
    for (std::uint64_t i = 0; i < n; ++i) {
      K k = Codec<K>::read(r);
      V v = Codec<V>::read(r);
      m.emplace(std::move(k), std::move(v));
    }
    return m;
  }
};

/// std::streambuf over a Bytes buffer, for Boost archives.
class BytesOutBuf : public std::streambuf {
public:
  explicit BytesOutBuf(Bytes& out) : m_out(&out) {}

protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto at = m_out->size();
    m_out->resize(at + static_cast<std::size_t>(n));
    std::memcpy(m_out->data() + at, s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) m_out->push_back(static_cast<std::byte>(c));
    return c;
  }

private:
  Bytes* m_out;
};

class BytesInBuf : public std::streambuf {
public:
  explicit BytesInBuf(std::span<const std::byte> in) {
    char* b = const_cast<char*>(reinterpret_cast<const char*>(in.data()));
    setg(b, b, b + in.size());
  }
};
}  // namespace detail

template <class K, class V, class C, class A>
  requires(Serializable<K> && Serializable<V>)
struct Codec<std::map<K, V, C, A>> : detail::MapCodec<std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
  requires(Serializable<K> && Serializable<V>)
struct Codec<std::unordered_map<K, V, H, E, A>>
    : detail::MapCodec<std::unordered_map<K, V, H, E, A>> {};

/// Types with a Boost.Serialization `serialize` member travel through a Boost binary archive,
/// length-prefixed.
template <class T>
  requires(BoostSerializable<T> && !Bitwise<T>)
struct Codec<T> {
  static void write(ByteWriter& w, const T& v) {
    const std::size_t len_at = w.buffer().size();
    w.pod<std::uint64_t>(0);
    {
      detail::BytesOutBuf buf(w.buffer());
      std::ostream os(&buf);
      boost::archive::binary_oarchive oa(os, boost::archive::no_header | boost::archive::no_codecvt);
      oa << v;
    }
    const std::uint64_t len = w.buffer().size() - len_at - sizeof(std::uint64_t);
    std::memcpy(w.buffer().data() + len_at, &len, sizeof len);
  }
  static T read(ByteReader& r) {
    const auto n = r.pod<std::uint64_t>();
    auto bytes = r.take(n);
    detail::BytesInBuf buf(bytes);
    std::istream is(&buf);
    T v{};
    try {
      boost::archive::binary_iarchive ia(is, boost::archive::no_header | boost::archive::no_codecvt);
      ia >> v;
    } catch (const boost::archive::archive_exception& e) {
      TESSERA_THROW(SerializationError, "cannot decode a ", typeid(T).name(), ": ", e.what());
    }
    return v;
  }
};

// ---- sizes ----------------------------------------------------------------------------------

/// Customization point for memory accounting: bytes a value holds (heap included).
/// Types may provide a member `nbytes()`; std containers of Bitwise elements count capacity.
template <class T>
std::size_t nbytes_of(const T& v) {
  if constexpr (requires { { v.nbytes() } -> std::convertible_to<std::size_t>; }) {
    return sizeof(T) + static_cast<std::size_t>(v.nbytes());
  } else if constexpr (requires { typename T::value_type; v.capacity(); }) {
    using E = typename T::value_type;
    if constexpr (std::is_trivially_copyable_v<E>) {
      return sizeof(T) + v.capacity() * sizeof(E);
    } else {
      std::size_t n = sizeof(T);
      for (const auto& e : v) n += nbytes_of(e);
      return n;
    }
  } else {
    return sizeof(T);
  }
}

}  // namespace tessera
