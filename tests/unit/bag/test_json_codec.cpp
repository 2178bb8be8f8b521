// Codec<Json>: every value comes back with its exact nlohmann type, and bad bytes are refused.
#include <tessera/collections/bag/json.hpp>
#include <tessera/core/error.hpp>
#include <tessera/serialization/codec.hpp>

#include <doctest/doctest.h>

#include "unit/bag/json_testing.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using tessera::Json;

Json round_trip(const Json& j) { return tessera::decode<Json>(tessera::encode(j)); }

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

Json read_raw(const std::vector<std::byte>& b) {
  tessera::ByteReader r(b);
  return tessera::Codec<Json>::read(r);
}

}  // namespace

TEST_CASE("json codec: numbers keep signed, unsigned and float types") {
  CHECK(round_trip(Json(5)).is_number_integer());
  CHECK_FALSE(round_trip(Json(5)).is_number_unsigned());
  CHECK(round_trip(Json(5u)).is_number_unsigned());
  CHECK(bagtest::same_json(round_trip(Json::parse("-0")), Json::parse("-0")));  // nlohmann: signed 0
  CHECK(std::signbit(round_trip(Json(-0.0)).get<double>()));
  CHECK(std::isnan(round_trip(Json(std::nan(""))).get<double>()));
  CHECK(round_trip(Json(INT64_MIN)).get<std::int64_t>() == INT64_MIN);
  CHECK(round_trip(Json(UINT64_MAX)).get<std::uint64_t>() == UINT64_MAX);
}

TEST_CASE("json codec: nested documents, key order, strings with NUL and binary") {
  Json doc = Json::parse(R"({"z": [1, -2, 2.5, "x", null, true, false, [], {}], "a": {"b": {"c": "ż😀"}}})");
  doc["nul"] = std::string("a\0b", 3);
  doc["bin"] = Json::binary({1, 2, 3}, 42);
  doc["bin0"] = Json::binary({});
  const Json back = round_trip(doc);
  CHECK(bagtest::same_json(back, doc));
  CHECK(back["bin"].get_binary().subtype() == 42);
  CHECK_FALSE(back["bin0"].get_binary().has_subtype());
  CHECK(back["nul"].get<std::string>().size() == 3);
  CHECK(tessera::encode(doc).size() < doc.dump().size());
}

TEST_CASE("json codec: truncated, unknown and over-deep bytes are refused") {
  const auto good = tessera::encode(Json::parse(R"({"k": [1, 2, "three"]})"));
  for (std::size_t cut = 0; cut + 1 < good.size(); ++cut) {
    std::vector<std::byte> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    CHECK_THROWS_AS(tessera::decode<Json>(part), tessera::SerializationError);
  }
  CHECK_THROWS_WITH_AS(read_raw(bytes({77})), doctest::Contains("unknown tag 77"), tessera::SerializationError);
  // An array claiming 2^35 items in a few bytes is refused before anything is reserved.
  CHECK_THROWS_WITH_AS(read_raw(bytes({7, 0x80, 0x80, 0x80, 0x80, 0x01, 0})), doctest::Contains("claims"),
                       tessera::SerializationError);
  CHECK_THROWS_WITH_AS(read_raw(bytes({4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})),
                       doctest::Contains("longer than 64 bits"), tessera::SerializationError);
  CHECK(read_raw(bytes({4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})).get<std::uint64_t>() ==
        UINT64_MAX);
  Json deep = Json::array();
  Json* tip = &deep;
  for (int k = 0; k < 5000; ++k) {
    tip->push_back(Json::array());
    tip = &tip->back();
  }
  CHECK_THROWS_WITH_AS(tessera::encode(deep), doctest::Contains("deeper than 4096"), tessera::SerializationError);
  std::vector<std::byte> nested;
  for (int k = 0; k < 5000; ++k) {
    for (auto b : bytes({7, 1})) nested.push_back(b);
  }
  nested.push_back(std::byte{0});
  CHECK_THROWS_WITH_AS(read_raw(nested), doctest::Contains("deeper than 4096"), tessera::SerializationError);
}
