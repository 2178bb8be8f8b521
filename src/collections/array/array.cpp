// The lazy chunked Array: its chunks, its blocks (materializing a pending expression) and compute.
#include "collections/array/array_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tessera {

using namespace array_graph;

namespace array_graph {

NDArray eval_block(const BlockExpr& e, const std::vector<NDArray>& ins) {
  if (!e.fused) return ins.at(0);
  return evaluate(e.program, ins, e.shape, EvaluateView{e.input_axes});
}

}  // namespace array_graph

// ---- chunks ------------------------------------------------------------------------------------------

std::string to_string(const Chunks& chunks) {
  std::ostringstream os;
  os << '(';
  for (std::size_t d = 0; d < chunks.size(); ++d) {
    if (d != 0) os << ", ";
    os << '(';
    for (std::size_t i = 0; i < chunks[d].size(); ++i) {
      if (i != 0) os << ", ";
      os << chunks[d][i];
    }
    os << (chunks[d].size() == 1 ? ",)" : ")");
  }
  os << (chunks.size() == 1 ? ",)" : ")");
  return os.str();
}

Chunks regular_chunks(const Shape& shape, const Shape& chunk_shape) {
  if (chunk_shape.size() != shape.size()) {
    TESSERA_THROW(ShapeError, "chunks: chunk shape ", to_string(chunk_shape),
                  " has another rank than the array shape ", to_string(shape));
  }
  Chunks c(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) TESSERA_THROW(ShapeError, "chunks: negative extent in shape ", to_string(shape));
    const std::int64_t step = chunk_shape[d] <= 0 ? std::max<std::int64_t>(shape[d], 1) : chunk_shape[d];
    for (std::int64_t s = 0; s < shape[d]; s += step) c[d].push_back(std::min(step, shape[d] - s));
    if (c[d].empty()) c[d].push_back(0);
  }
  return c;
}

void validate_chunks(const Chunks& chunks, const Shape& shape, const char* where) {
  bool ok = chunks.size() == shape.size();
  for (std::size_t d = 0; ok && d < shape.size(); ++d) {
    std::int64_t total = 0;
    for (auto c : chunks[d]) {
      if (c < 0) ok = false;
      total += c;
    }
    if (chunks[d].empty() || total != shape[d]) ok = false;
  }
  if (!ok) {
    TESSERA_THROW(ShapeError, where, ": chunks ", to_string(chunks), " do not match shape ",
                  to_string(shape));
  }
}

namespace detail {

Shape shape_of_chunks(const Chunks& chunks) {
  Shape s;
  for (const auto& c : chunks) s.push_back(std::accumulate(c.begin(), c.end(), std::int64_t{0}));
  return s;
}

std::vector<Array> unify_for_blockwise(const std::vector<Array>& arrays, const char* where) {
  if (arrays.empty()) TESSERA_THROW(ShapeError, where, ": needs at least one array");
  for (const auto& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      TESSERA_THROW(ShapeError, where, ": shapes differ: ", to_string(arrays[0].shape()), " and ",
                    to_string(a.shape()));
    }
  }
  Chunks c(arrays[0].shape().size());
  for (std::size_t d = 0; d < c.size(); ++d) {
    std::vector<std::vector<std::int64_t>> opts;
    for (const auto& a : arrays) opts.push_back(a.chunks()[d]);
    c[d] = refine(opts);
  }
  std::vector<Array> out;
  for (const auto& a : arrays) out.push_back(a.is_pending() || a.chunks() != c ? a.rechunk(c) : a);
  return out;
}

NDArray compute_array(Scheduler& s, const Array& a) {
  const auto blocks = a.blocks();
  std::vector<NodePtr> roots;
  roots.reserve(blocks.size());
  for (const auto& b : blocks) roots.push_back(b.node());
  const auto chunks = compute_values(s, std::move(roots));
  return assemble_array(a, chunks);
}

NDArray assemble_array(const Array& a, std::span<const Value> chunks) {
  std::vector<NDArray> values;
  values.reserve(chunks.size());
  for (const auto& c : chunks) values.push_back(extract<NDArray>(c));
  if (values.size() == 1) return values[0];
  NDArray out = NDArray::empty(a.shape(), a.dtype());
  if (a.size() == 0) return out;
  const Shape g = grid_shape(a.chunks());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() == 0) continue;
    copy_into(out, block_offset(a.chunks(), unravel(static_cast<std::int64_t>(i), g)), values[i]);
  }
  return out;
}

Array persist_array(Scheduler& s, const Array& a) {
  auto blocks = persist_on(s, a.blocks());
  return Array(a.shape(), a.dtype(), a.chunks(), std::move(blocks));
}

}  // namespace detail

// ---- Array -------------------------------------------------------------------------------------------

Array::Array() : Array(array::from_ndarray(NDArray(), Shape{})) {}

Array::Array(Shape shape, DType dtype, Chunks chunks, std::vector<Delayed<NDArray>> blocks) {
  validate_chunks(chunks, shape, "Array");
  if (grid_size(grid_shape(chunks)) != static_cast<std::int64_t>(blocks.size())) {
    TESSERA_THROW(ShapeError, "Array: ", blocks.size(), " blocks for chunks ", to_string(chunks),
                  " of shape ", to_string(shape));
  }
  auto s = new_state(std::move(shape), dtype, std::move(chunks));
  s->blocks = std::move(blocks);
  m_state = std::move(s);
}

const Shape& Array::shape() const noexcept { return m_state->shape; }
DType Array::dtype() const noexcept { return m_state->dtype; }
const Chunks& Array::chunks() const noexcept { return m_state->chunks; }
std::int64_t Array::size() const { return shape_size(shape()); }
Shape Array::numblocks() const { return grid_shape(chunks()); }
std::int64_t Array::nblocks() const { return grid_size(numblocks()); }
bool Array::is_pending() const noexcept { return m_state->pending; }

std::vector<Delayed<NDArray>> Array::blocks() const {
  if (!m_state->pending) return m_state->blocks;
  std::lock_guard lock(m_state->mutex);
  if (!m_state->materialized) {
    auto fn = delayed(eval_block, {.name = m_state->program.name(), .pure = true});
    Blocks out;
    for (const auto& [e, args] : block_sources(*this)) out.push_back(fn(e, args));
    m_state->materialized = std::move(out);
  }
  return *m_state->materialized;
}

std::string Array::describe() const {
  std::ostringstream os;
  os << "Array<" << dtype_name(dtype()) << ", shape=" << to_string(shape())
     << ", chunks=" << to_string(chunks()) << (is_pending() ? "> pending" : ">");
  return os.str();
}

Array Array::astype(DType t) const { return tessera::astype(*this, t); }
Array Array::operator-() const { return apply(UnaryOp::neg, *this); }

}  // namespace tessera
