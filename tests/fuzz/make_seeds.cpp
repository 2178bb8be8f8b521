// Writes the seed corpus of the fuzz targets (run by hand when the wire formats change):
//   g++ -std=c++20 -I../../include -I../../src -I.. make_seeds.cpp \
//     ../../src/core/*.cpp ../../src/collections/array/{ndarray,dtype,buffer_pool}.cpp \
//     ../../src/scheduling/mpi/protocol_{wire,tasks,data,control,shuffle}.cpp \
//     -lboost_serialization -o make_seeds && ./make_seeds corpus
// Each seed is <selector byte><encoded value>, as the targets read them.
#include <tessera/collections/array/ndarray.hpp>
#include <tessera/serialization/codec.hpp>

#include "support/protocol_samples.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace {
void write(const std::filesystem::path& p, std::uint8_t selector, const tessera::Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.put(static_cast<char>(selector));
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path root = argc > 1 ? argv[1] : "corpus";
  const auto codec = root / "codec";
  const auto nd = root / "ndarray";
  std::filesystem::create_directories(codec);
  std::filesystem::create_directories(nd);
  const auto protocol = root / "protocol";
  std::filesystem::create_directories(protocol);
  using tessera::encode;
  write(codec / "string", 0, encode(std::string("hello, tessera")));
  write(codec / "vector_double", 1, encode(std::vector<double>{1.5, -2.0, 3.25}));
  write(codec / "vector_string", 2, encode(std::vector<std::string>{"a", "", "key-0123"}));
  write(codec / "vector_bool", 3, encode(std::vector<bool>{true, false, true}));
  write(codec / "map", 4, encode(std::map<std::string, std::vector<int>>{{"x", {1, 2}}, {"y", {}}}));
  write(codec / "tuple", 5, encode(std::tuple<int, std::string, std::optional<std::string>>{7, "s", "o"}));
  write(codec / "nested", 6, encode(std::vector<std::vector<std::int64_t>>{{1}, {2, 3}}));
  write(codec / "pair", 7, encode(std::pair<std::string, std::vector<float>>{"p", {0.5f}}));
  write(codec / "optional", 8, encode(std::optional<std::vector<std::string>>{{"q"}}));
  auto array = [](const tessera::NDArray& a) {
    tessera::Bytes b;
    tessera::ByteWriter w(b);
    tessera::Codec<tessera::NDArray>::write(w, a);
    return b;
  };
  write(nd / "f64_2x3", 0, array(tessera::NDArray::arange(0, 6, 1, tessera::DType::float64).reshape({2, 3})));
  write(nd / "i32_view", 1, array(tessera::NDArray::full({4, 4}, tessera::DType::int32, 3)));
  write(nd / "bool", 0, array(tessera::NDArray::zeros({5}, tessera::DType::bool_)));
  write(nd / "scalar", 1, array(tessera::NDArray::full({}, tessera::DType::float32, 2)));
  write(nd / "empty", 0, array(tessera::NDArray::zeros({0, 3}, tessera::DType::uint8)));
  // One seed per protocol message sample (tests/support/protocol_samples.hpp).
  for (const auto& s : tessera::testing::protocol::samples()) write(protocol / s.name, s.selector, s.bytes);
  return 0;
}
