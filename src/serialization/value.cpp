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

Value::Wire Value::wire(std::size_t min_bulk) const {
  Wire out;
  if (m_bytes || !m_object) {
    auto b = bytes();
    out.size = b->size();
    if (!b->empty()) out.pieces.emplace_back(*b);
    out.keep = std::move(b);
    return out;
  }
  if (m_ops->encode == nullptr) (void)bytes();  // throws the "cannot be serialized" error
  // The head and the object it references travel together.
  struct Held {
    Bytes head;
    std::shared_ptr<const void> object;
  };
  auto held = std::make_shared<Held>();
  held->object = m_object;
  std::vector<BulkRef> refs;
  ByteWriter w(held->head, refs, min_bulk);
  m_ops->encode(w, m_object.get());
  const std::span<const std::byte> head(held->head);
  std::size_t at = 0;
  for (const auto& ref : refs) {
    if (ref.offset > at) out.pieces.push_back(head.subspan(at, ref.offset - at));
    out.pieces.emplace_back(ref.data, ref.size);
    at = ref.offset;
  }
  if (head.size() > at) out.pieces.push_back(head.subspan(at));
  out.size = w.position();
  out.keep = std::move(held);
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
