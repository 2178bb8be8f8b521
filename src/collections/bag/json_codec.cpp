// Codec<Json>: a tagged binary form that keeps each value's exact nlohmann type.
//
// value  := tag payload
// tag    := u8: null, false, true, int64 (zigzag varint), uint64 (varint), float64 (8 bytes),
//           string, array, object, binary
// string := varint length, bytes;  array := varint n, n values;  object := varint n, n (string, value)
// binary := u8 has_subtype, varint subtype, varint length, bytes
// Varints are LEB128 (7 bits a byte), so small numbers and lengths take one byte, as in CBOR.
#include <tessera/collections/bag/json.hpp>

#include <tessera/core/error.hpp>

#include <cstdint>
#include <string>

namespace tessera {
namespace {

enum class Tag : std::uint8_t { null, no, yes, int64, uint64, float64, string, array, object, binary };

constexpr int max_depth = 4096;

void put_varint(ByteWriter& w, std::uint64_t v) {
  std::uint8_t buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<std::uint8_t>(v);
  w.write(buf, static_cast<std::size_t>(n));
}

std::uint64_t get_varint(ByteReader& r) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const auto b = r.pod<std::uint8_t>();
    if (shift == 63 && b > 1) break;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  TESSERA_THROW(SerializationError, "a serialized Json has a number longer than 64 bits");
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

void put_string(ByteWriter& w, const std::string& s) {
  put_varint(w, s.size());
  w.write(s.data(), s.size());
}

std::string get_string(ByteReader& r) {
  const auto n = get_varint(r);
  const auto bytes = r.take(n);  // throws if the length runs past the end
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void put(ByteWriter& w, const Json& j, int depth) {
  if (depth > max_depth) TESSERA_THROW(SerializationError, "a Json nested deeper than ", max_depth, " cannot be sent");
  switch (j.type()) {
    case Json::value_t::null: w.pod(Tag::null); return;
    case Json::value_t::boolean: w.pod(j.get<bool>() ? Tag::yes : Tag::no); return;
    case Json::value_t::number_integer: w.pod(Tag::int64); put_varint(w, zigzag(j.get<std::int64_t>())); return;
    case Json::value_t::number_unsigned: w.pod(Tag::uint64); put_varint(w, j.get<std::uint64_t>()); return;
    case Json::value_t::number_float: w.pod(Tag::float64); w.pod(j.get<double>()); return;
    case Json::value_t::string: w.pod(Tag::string); put_string(w, j.get_ref<const std::string&>()); return;
    case Json::value_t::array:
      w.pod(Tag::array);
      put_varint(w, j.size());
      for (const auto& v : j) put(w, v, depth + 1);
      return;
    case Json::value_t::object:
      w.pod(Tag::object);
      put_varint(w, j.size());
      for (auto it = j.begin(); it != j.end(); ++it) {
        put_string(w, it.key());
        put(w, it.value(), depth + 1);
      }
      return;
    case Json::value_t::binary: {
      const auto& b = j.get_binary();
      w.pod(Tag::binary);
      w.pod<std::uint8_t>(b.has_subtype() ? 1 : 0);
      put_varint(w, b.has_subtype() ? b.subtype() : 0);
      put_varint(w, b.size());
      w.write(b.data(), b.size());
      return;
    }
    case Json::value_t::discarded: break;
  }
  TESSERA_THROW(SerializationError, "a discarded Json (a failed parse's placeholder) cannot be sent");
}

Json get(ByteReader& r, int depth) {
  if (depth > max_depth) TESSERA_THROW(SerializationError, "a serialized Json is nested deeper than ", max_depth);
  const auto tag = r.pod<std::uint8_t>();
  switch (static_cast<Tag>(tag)) {
    case Tag::null: return nullptr;
    case Tag::no: return false;
    case Tag::yes: return true;
    case Tag::int64: return unzigzag(get_varint(r));
    case Tag::uint64: return get_varint(r);
    case Tag::float64: return r.pod<double>();
    case Tag::string: return get_string(r);
    case Tag::array: {
      const auto n = get_varint(r);
      if (n > r.remaining()) TESSERA_THROW(SerializationError, "a serialized Json array claims ", n, " items in ", r.remaining(), " bytes");
      Json a = Json::array();
      a.get_ref<Json::array_t&>().reserve(n);
      for (std::uint64_t k = 0; k < n; ++k) a.push_back(get(r, depth + 1));
      return a;
    }
    case Tag::object: {
      const auto n = get_varint(r);
      if (n > r.remaining()) TESSERA_THROW(SerializationError, "a serialized Json object claims ", n, " members in ", r.remaining(), " bytes");
      Json o = Json::object();
      auto& members = o.get_ref<Json::object_t&>();
      for (std::uint64_t k = 0; k < n; ++k) {
        std::string key = get_string(r);
        members.insert_or_assign(std::move(key), get(r, depth + 1));
      }
      return o;
    }
    case Tag::binary: {
      const auto has_subtype = r.pod<std::uint8_t>();
      const auto subtype = get_varint(r);
      const auto bytes = r.take(get_varint(r));
      const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
      std::vector<std::uint8_t> v(p, p + bytes.size());
      if (has_subtype) return Json::binary(std::move(v), subtype);
      return Json::binary(std::move(v));
    }
  }
  TESSERA_THROW(SerializationError, "a serialized Json has unknown tag ", static_cast<int>(tag));
}

}  // namespace

void Codec<Json>::write(ByteWriter& w, const Json& j) { put(w, j, 0); }

Json Codec<Json>::read(ByteReader& r) { return get(r, 0); }

}  // namespace tessera
