#pragma once

// Private: index arithmetic on a chunk grid, shared by the Array and its HDF5 I/O.

#include <tessera/collections/array/array.hpp>

namespace tessera::detail {

/// The grid index of the i-th block in C order.
inline Shape unravel(std::int64_t i, const Shape& grid) {
  Shape idx(grid.size());
  for (std::size_t d = grid.size(); d-- > 0;) {
    idx[d] = i % grid[d];
    i /= grid[d];
  }
  return idx;
}

/// Shape of the block at grid index `idx`.
inline Shape block_shape(const Chunks& chunks, const Shape& idx) {
  Shape s(chunks.size());
  for (std::size_t d = 0; d < chunks.size(); ++d) s[d] = chunks[d][static_cast<std::size_t>(idx[d])];
  return s;
}

/// Element offset of the block at grid index `idx`.
inline Shape block_offset(const Chunks& chunks, const Shape& idx) {
  Shape s(chunks.size(), 0);
  for (std::size_t d = 0; d < chunks.size(); ++d) {
    for (std::int64_t k = 0; k < idx[d]; ++k) s[d] += chunks[d][static_cast<std::size_t>(k)];
  }
  return s;
}

}  // namespace tessera::detail
