#include "scheduling/mpi/protocol_wire.hpp"

#include <limits>

namespace tessera::detail::mpi {

namespace {
constexpr std::size_t max_u32 = std::numeric_limits<std::uint32_t>::max();

struct Parts {
  const std::string &kind, &field, &item_name;
  const std::optional<std::size_t>& item;
  std::size_t offset, size;
  const std::string& detail;
  bool encoding;
  const std::optional<int>& source;
};

std::string describe(const Parts& p) {
  std::string s = p.encoding ? "cannot encode '" + p.kind + "' message"
                             : "malformed '" + p.kind + "' message (" + std::to_string(p.size) + " bytes)";
  if (p.source) s += " from rank " + std::to_string(*p.source);
  s += ": ";
  if (p.item) s += p.item_name + " " + std::to_string(*p.item) + ", ";
  s += "field '" + p.field + "' at byte " + std::to_string(p.offset) + ": " + p.detail;
  return s;
}
}  // namespace

ProtocolError::ProtocolError(std::string kind, std::string field, const char* item_name,
                             std::optional<std::size_t> item, std::size_t offset, std::size_t size,
                             std::string detail, bool encoding)
    : TransportError(describe(Parts{kind, field, item_name, item, offset, size, detail, encoding, {}})),
      m_kind(std::move(kind)),
      m_field(std::move(field)),
      m_item_name(item_name),
      m_item(item),
      m_offset(offset),
      m_size(size),
      m_detail(std::move(detail)),
      m_encoding(encoding) {}

ProtocolError ProtocolError::from_rank(int rank) const {
  ProtocolError e = *this;
  e.m_source = rank;
  static_cast<TransportError&>(e) = TransportError(describe(
      Parts{m_kind, m_field, m_item_name, m_item, m_offset, m_size, m_detail, m_encoding, e.m_source}));
  return e;
}

// ---- WireWriter ------------------------------------------------------------------------------

void WireWriter::length(const char* field, std::size_t n) {
  if (n > max_u32) {
    throw ProtocolError(m_kind, field, m_item_name, m_item, m_out.size(), m_out.size(),
                        std::to_string(n) + " does not fit the 32-bit length", true);
  }
  pod(static_cast<std::uint32_t>(n));
}

void WireWriter::count(const char* field, std::size_t n) { length(field, n); }

void WireWriter::string(const char* field, std::string_view s) {
  length(field, s.size());
  write(s.data(), s.size());
}

void WireWriter::blob(const char* field, std::span<const std::byte> b) {
  length(field, b.size());
  write(b.data(), b.size());
}

// ---- WireReader ------------------------------------------------------------------------------

void WireReader::fail_at(const char* field, std::size_t offset, const std::string& what) const {
  throw ProtocolError(m_kind, field, m_item_name, m_item, offset, m_in.size(), what);
}

void WireReader::fail_short(const char* field, std::size_t n) const {
  fail(field, "needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
}

bool WireReader::flag(const char* field) {
  const std::size_t at = m_pos;
  const auto v = pod<std::uint8_t>(field);
  if (v > 1) fail_at(field, at, "flag is " + std::to_string(v) + ", not 0 or 1");
  return v == 1;
}

std::uint32_t WireReader::count(const char* field, std::size_t min_item_bytes) {
  const std::size_t at = m_pos;
  const auto n = pod<std::uint32_t>(field);
  if (min_item_bytes > 0 && n > remaining() / min_item_bytes) {
    fail_at(field, at, "count " + std::to_string(n) + " of items of at least " +
                           std::to_string(min_item_bytes) + " bytes exceeds the " +
                           std::to_string(remaining()) + " bytes left");
  }
  return n;
}

std::span<const std::byte> WireReader::blob(const char* field) {
  const std::size_t at = m_pos;
  const auto n = pod<std::uint32_t>(field);
  if (n > remaining()) {
    fail_at(field, at, "length " + std::to_string(n) + " exceeds the " + std::to_string(remaining()) +
                           " bytes left");
  }
  return take(field, n);
}

std::string WireReader::string(const char* field) {
  const auto b = blob(field);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void WireReader::finish() {
  m_item.reset();
  if (remaining() != 0) fail("end", std::to_string(remaining()) + " bytes left over after the message");
}

}  // namespace tessera::detail::mpi
