#include <tessera/serialization/value.hpp>

namespace tessera {

std::shared_ptr<const Bytes> Value::bytes() const {
  if (m_bytes) return m_bytes;
  if (!m_object) TESSERA_THROW(SerializationError, "cannot serialize an empty value");
  if (m_ops->encode == nullptr) {
    TESSERA_THROW(SerializationError, "a value of type ", detail::demangle(m_ops->type->name()),
                  " cannot be serialized: give it a Boost.Serialization serialize() member or "
                  "specialize tessera::Codec");
  }
  auto out = std::make_shared<Bytes>();
  ByteWriter w(*out);
  m_ops->encode(w, m_object.get());
  return out;
}

std::size_t Value::nbytes() const noexcept {
  if (m_object) return m_ops->nbytes(m_object.get());
  if (m_bytes) return m_bytes->capacity() + sizeof(Bytes);
  return 0;
}

std::string Value::type_name() const {
  if (m_object) return detail::demangle(m_ops->type->name());
  return m_bytes ? "<serialized>" : "<empty>";
}

}  // namespace tessera
