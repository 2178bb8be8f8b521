// simdjson DOM -> tessera::Json (nlohmann) without a text round trip.
#include "collections/bag/json_convert.hpp"

#include "collections/bag/line_reader.hpp"

#include <simdjson.h>

#include <cmath>
#include <string>

namespace tessera::bag::detail {
namespace {

namespace dom = simdjson::dom;

/// Builds tessera::Json values from simdjson's DOM of one line.
struct Builder {
  std::string_view line;
  int minus_zero = -1;  // whether the line has "-0" in it: found on the first zero

  /// False where nlohmann's result could differ and the line must go to nlohmann: a zero when
  /// the line has "-0" (nlohmann reads "-0" as a signed integer, "0" as an unsigned one; the
  /// DOM does not tell them apart).
  bool zero_is_ambiguous() {
    if (minus_zero < 0) minus_zero = line.find("-0") != std::string_view::npos ? 1 : 0;
    return minus_zero == 1;
  }
  bool build(dom::element e, Json& out);
};

bool Builder::build(dom::element e, Json& out) {
  switch (e.type()) {
    case dom::element_type::OBJECT: {
      out = Json::object();
      auto& obj = out.get_ref<Json::object_t&>();
      for (auto field : dom::object(e)) {
        Json v;
        if (!build(field.value, v)) return false;
        obj.insert_or_assign(std::string(field.key), std::move(v));  // the last duplicate wins, as in nlohmann
      }
      return true;
    }
    case dom::element_type::ARRAY: {
      const dom::array a(e);
      out = Json::array();
      auto& arr = out.get_ref<Json::array_t&>();
      arr.reserve(a.size());
      for (auto x : a) {
        arr.emplace_back();
        if (!build(x, arr.back())) return false;
      }
      return true;
    }
    case dom::element_type::STRING: out = Json::string_t(std::string_view(e)); return true;
    case dom::element_type::INT64: {
      const auto v = std::int64_t(e);
      if (v == 0 && zero_is_ambiguous()) return false;
      if (v >= 0) out = static_cast<Json::number_unsigned_t>(v);  // nlohmann: unsigned when >= 0
      else out = static_cast<Json::number_integer_t>(v);
      return true;
    }
    case dom::element_type::UINT64: out = static_cast<Json::number_unsigned_t>(std::uint64_t(e)); return true;
    case dom::element_type::DOUBLE: {
      const auto d = double(e);
      if (d == 0.0 && zero_is_ambiguous()) return false;
      out = d;
      return true;
    }
    case dom::element_type::BOOL: out = bool(e); return true;
    case dom::element_type::NULL_VALUE: out = nullptr; return true;
  }
  return false;
}

}  // namespace

struct LineParser::Impl {
  dom::parser parser;
};

LineParser::LineParser() : m_impl(std::make_unique<Impl>()) {}
LineParser::~LineParser() = default;

bool LineParser::parse(std::string_view line, std::size_t readable_after, Json& out) {
  dom::element root;
  const bool copy = readable_after < simdjson::SIMDJSON_PADDING;
  Builder b{line};
  if (m_impl->parser.parse(line.data(), line.size(), copy).get(root) == simdjson::SUCCESS && b.build(root, out)) {
    return true;
  }
  // simdjson validates UTF-8 itself; nlohmann does not check all of it, hence valid_utf8.
  out = Json::parse(line.begin(), line.end(), nullptr, false);
  return !out.is_discarded() && valid_utf8(line);
}

}  // namespace tessera::bag::detail
