// Array factories: full/zeros/ones, arange, linspace, from_ndarray and the random generators.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <tessera/collections/array/kernels/random.hpp>

namespace tessera {

using namespace array_graph;

namespace {

NDArray full_block(const Shape& shape, std::uint8_t dtype, double value) {
  return NDArray::full(shape, static_cast<DType>(dtype), value);
}

NDArray arange_block(double start, double step, std::int64_t offset, std::int64_t n,
                     std::uint8_t dtype) {
  NDArray out = NDArray::empty(Shape{n}, DType::float64);
  auto d = out.mutable_data<double>();
  for (std::int64_t i = 0; i < n; ++i) d[static_cast<std::size_t>(i)] = start + static_cast<double>(offset + i) * step;
  return out.astype(static_cast<DType>(dtype));
}

NDArray linspace_block(double start, double step, std::int64_t offset, std::int64_t n,
                       std::int64_t total, double stop, bool endpoint) {
  NDArray out = NDArray::empty(Shape{n}, DType::float64);
  auto d = out.mutable_data<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t g = offset + i;
    d[static_cast<std::size_t>(i)] = (endpoint && total > 1 && g == total - 1) ? stop : start + static_cast<double>(g) * step;
  }
  return out;
}

NDArray uniform_block(std::uint64_t seed, const Shape& global, const Shape& offset,
                      const Shape& shape, double low, double high) {
  return random_uniform(seed, global, offset, shape, low, high);
}
NDArray normal_block(std::uint64_t seed, double mean, double stddev, const Shape& global,
                     const Shape& offset, const Shape& shape) {
  return random_normal(seed, mean, stddev, global, offset, shape);
}
NDArray integers_block(std::uint64_t seed, std::int64_t low, std::int64_t high,
                       const Shape& global, const Shape& offset, const Shape& shape) {
  return random_integers(seed, low, high, global, offset, shape);
}

}  // namespace

// ---- factories -----------------------------------------------------------------------------------------

namespace array {
namespace {
Array filled(const Shape& shape, double value, const Chunks& chunks, DType dtype, const char* name) {
  validate_chunks(chunks, shape, name);
  auto fn = delayed(full_block, {.name = name, .pure = true});
  const Shape g = grid_shape(chunks);
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(g); ++i) out.push_back(fn(block_shape(chunks, unravel(i, g)), code_of(dtype), value));
  return Array(shape, dtype, chunks, std::move(out));
}
}  // namespace

Array empty(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 0.0, chunks, dtype, "empty"); }
Array zeros(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 0.0, chunks, dtype, "zeros"); }
Array ones(const Shape& shape, const Chunks& chunks, DType dtype) { return filled(shape, 1.0, chunks, dtype, "ones"); }
Array full(const Shape& shape, double value, const Chunks& chunks, DType dtype) {
  return filled(shape, value, chunks, dtype, "full");
}
Array zeros(const Shape& shape, const Shape& cs, DType dtype) { return zeros(shape, regular_chunks(shape, cs), dtype); }
Array ones(const Shape& shape, const Shape& cs, DType dtype) { return ones(shape, regular_chunks(shape, cs), dtype); }
Array full(const Shape& shape, double value, const Shape& cs, DType dtype) {
  return full(shape, value, regular_chunks(shape, cs), dtype);
}

Array arange(double start, double stop, double step, std::int64_t chunk, DType dtype) {
  if (step == 0) TESSERA_THROW(ShapeError, "arange: step must not be 0");
  const double len = std::ceil((stop - start) / step);
  const std::int64_t n = len > 0 ? static_cast<std::int64_t>(len) : 0;
  const Shape shape{n};
  const Chunks c = regular_chunks(shape, Shape{chunk});
  auto fn = delayed(arange_block, {.name = "arange", .pure = true});
  Blocks out;
  std::int64_t off = 0;
  for (auto e : c[0]) {
    out.push_back(fn(start, step, off, e, code_of(dtype)));
    off += e;
  }
  return Array(shape, dtype, c, std::move(out));
}

Array linspace(double start, double stop, std::int64_t num, std::int64_t chunk, bool endpoint) {
  if (num < 0) TESSERA_THROW(ShapeError, "linspace: num must be >= 0, got ", num);
  const std::int64_t div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / static_cast<double>(div) : 0.0;
  const Shape shape{num};
  const Chunks c = regular_chunks(shape, Shape{chunk});
  auto fn = delayed(linspace_block, {.name = "linspace", .pure = true});
  Blocks out;
  std::int64_t off = 0;
  for (auto e : c[0]) {
    out.push_back(fn(start, step, off, e, num, stop, endpoint));
    off += e;
  }
  return Array(shape, DType::float64, c, std::move(out));
}

Array from_ndarray(const NDArray& a, const Chunks& chunks) {
  validate_chunks(chunks, a.shape(), "from_ndarray");
  const Shape g = grid_shape(chunks);
  Blocks out;
  if (grid_size(g) == 1) {
    out.push_back(literal(a, "array"));
  } else {
    for (std::int64_t i = 0; i < grid_size(g); ++i) {
      const Shape idx = unravel(i, g);
      const Shape off = block_offset(chunks, idx);
      const Shape bs = block_shape(chunks, idx);
      std::vector<Slice> sl;
      for (std::size_t d = 0; d < off.size(); ++d) sl.push_back(Slice{off[d], off[d] + bs[d], 1});
      out.push_back(literal(tessera::slice(a, sl), "array"));
    }
  }
  return Array(a.shape(), a.dtype(), chunks, std::move(out));
}
Array from_ndarray(const NDArray& a, const Shape& cs) { return from_ndarray(a, regular_chunks(a.shape(), cs)); }

namespace random {
namespace {
template <class MakeTask>
Array generate(const Shape& shape, const Chunks& chunks, DType dtype, const char* where, MakeTask&& make) {
  validate_chunks(chunks, shape, where);
  const Shape g = grid_shape(chunks);
  Blocks out;
  for (std::int64_t i = 0; i < grid_size(g); ++i) {
    const Shape idx = unravel(i, g);
    out.push_back(make(block_offset(chunks, idx), block_shape(chunks, idx)));
  }
  return Array(shape, dtype, chunks, std::move(out));
}
}  // namespace

Array uniform(std::uint64_t seed, const Shape& shape, const Chunks& chunks, double low, double high) {
  auto fn = delayed(uniform_block, {.name = "uniform", .pure = true});
  return generate(shape, chunks, DType::float64, "random::uniform",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, shape, off, bs, low, high); });
}
Array uniform(std::uint64_t seed, const Shape& shape, const Shape& cs, double low, double high) {
  return uniform(seed, shape, regular_chunks(shape, cs), low, high);
}
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape, const Chunks& chunks) {
  auto fn = delayed(normal_block, {.name = "normal", .pure = true});
  return generate(shape, chunks, DType::float64, "random::normal",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, mean, stddev, shape, off, bs); });
}
Array normal(std::uint64_t seed, double mean, double stddev, const Shape& shape, const Shape& cs) {
  return normal(seed, mean, stddev, shape, regular_chunks(shape, cs));
}
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape, const Chunks& chunks) {
  if (high <= low) TESSERA_THROW(ShapeError, "random::integers: high (", high, ") must be > low (", low, ")");
  auto fn = delayed(integers_block, {.name = "integers", .pure = true});
  return generate(shape, chunks, DType::int64, "random::integers",
                  [&](const Shape& off, const Shape& bs) { return fn(seed, low, high, shape, off, bs); });
}
Array integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& shape, const Shape& cs) {
  return integers(seed, low, high, shape, regular_chunks(shape, cs));
}
}  // namespace random
}  // namespace array

}  // namespace tessera
