#pragma once

/// @file
/// Value: the type-erased, immutable, shared result of a task. A Value is either live (a C++
/// object in this process) or serialized (bytes that arrived from another rank or a spill file);
/// the consumer, which knows the type, decodes serialized values on use.

#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <memory>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>
#include <utility>

namespace tessera {

namespace detail {
/// Per-type operations a Value needs without knowing its type.
struct ValueOps {
  const std::type_info* type;
  /// Serializes the object; null when the type is not Serializable.
  void (*encode)(ByteWriter&, const void*);
  std::size_t (*nbytes)(const void*);
};

template <class T>
const ValueOps* value_ops() {
  static const ValueOps ops{
      &typeid(T),
      Serializable<T> ? +[](ByteWriter& w, const void* p) {
        if constexpr (Serializable<T>) tessera::encode(w, *static_cast<const T*>(p));
      }
                      : nullptr,
      +[](const void* p) -> std::size_t { return nbytes_of(*static_cast<const T*>(p)); }};
  return &ops;
}
}  // namespace detail

/// A task's result, shared and immutable.
///
/// Thread safety: a Value may be read from any number of threads at once.
class Value {
public:
  Value() = default;

  /// Wraps a live object.
  template <class T>
  static Value of(T v) {
    Value out;
    out.m_object = std::make_shared<const T>(std::move(v));
    out.m_ops = detail::value_ops<T>();
    return out;
  }
  /// Wraps serialized bytes of an object whose type the consumer knows.
  static Value serialized(std::shared_ptr<const Bytes> bytes) {
    Value out;
    out.m_bytes = std::move(bytes);
    return out;
  }

  [[nodiscard]] bool empty() const noexcept { return !m_object && !m_bytes; }
  [[nodiscard]] bool is_serialized() const noexcept { return !m_object && m_bytes; }

  /// The live object. Throws: SerializationError if the Value is serialized or holds another
  /// type (the message names both types).
  template <class T>
  [[nodiscard]] const T& get() const {
    if (!m_object) {
      TESSERA_THROW(SerializationError, "value of type ", detail::demangle(typeid(T).name()),
                    " was requested from ", empty() ? "an empty value" : "serialized bytes");
    }
    if (*m_ops->type != typeid(T)) {
      TESSERA_THROW(SerializationError, "value holds a ", detail::demangle(m_ops->type->name()),
                    " but a ", detail::demangle(typeid(T).name()), " was requested");
    }
    return *static_cast<const T*>(m_object.get());
  }

  /// This value as a live T: itself if live, else decoded from its bytes.
  /// Throws: SerializationError if T is not Serializable or the bytes do not decode.
  template <class T>
  [[nodiscard]] Value decoded() const {
    if (m_object) {
      (void)get<T>();
      return *this;
    }
    if constexpr (Serializable<T>) {
      if (!m_bytes) TESSERA_THROW(SerializationError, "cannot decode an empty value");
      ByteReader r(std::span<const std::byte>(*m_bytes), m_bytes);
      return Value::of<T>(Codec<T>::read(r));
    } else {
      TESSERA_THROW(SerializationError, "a ", detail::demangle(typeid(T).name()),
                    " arrived serialized but the type is not serializable");
    }
  }

  /// The serialized form. Throws: SerializationError naming the type if it is not serializable.
  [[nodiscard]] std::shared_ptr<const Bytes> bytes() const;

  /// The serialized form as pieces to be sent one after another (their concatenation is what
  /// bytes() returns). Large contiguous blocks of a live object (Bitwise vectors, strings,
  /// NDArray elements: whatever its codec writes with ByteWriter::bulk, from `min_bulk` bytes
  /// up) are referenced in place, not copied; `keep` keeps them and the head alive.
  /// Throws: as bytes().
  struct Wire {
    std::vector<std::span<const std::byte>> pieces;
    std::shared_ptr<const void> keep;
    std::size_t size = 0;
  };
  [[nodiscard]] Wire wire(std::size_t min_bulk = std::size_t{64} << 10) const;

  /// Bytes this value holds in memory (object and heap, or the serialized buffer).
  [[nodiscard]] std::size_t nbytes() const noexcept;

  /// Demangled type name, or "<serialized>" / "<empty>".
  [[nodiscard]] std::string type_name() const;

private:
  std::shared_ptr<const void> m_object;
  const detail::ValueOps* m_ops = nullptr;
  std::shared_ptr<const Bytes> m_bytes;
};

}  // namespace tessera
