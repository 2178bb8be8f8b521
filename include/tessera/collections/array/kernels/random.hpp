#pragma once

/// @file
/// Counter-based random arrays. Every element is a pure function of (seed, stream, global
/// element index) through Philox4x32-10 (Salmon et al., SC'11), so a chunk of a random global
/// array has the same values whatever the chunking, thread count or rank that generates it.
///
/// Element g (flat C-order index in the global shape) uses Philox block g/2 with counter
/// (g/2 low, g/2 high, stream low, stream high) and key (seed low, seed high); each block gives
/// two 64-bit words, i.e. two uniforms or (Box-Muller) two normals.

#include <tessera/collections/array/ndarray.hpp>

#include <array>
#include <cstdint>

namespace tessera {

/// One Philox4x32-10 block: 4 output words for a 4-word counter and a 2-word key.
std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                            std::array<std::uint32_t, 2> key) noexcept;

/// Uniform float64 in [low, high) for the chunk of `chunk_shape` at `chunk_offset` of a global
/// array of `global_shape`.
/// Throws: ShapeError if the chunk does not fit in the global shape.
NDArray random_uniform(std::uint64_t seed, const Shape& global_shape, const Shape& chunk_offset,
                       const Shape& chunk_shape, double low = 0.0, double high = 1.0,
                       std::uint64_t stream = 0);

/// Normal float64 with `mean` and standard deviation `stddev` (Box-Muller), chunked as above.
NDArray random_normal(std::uint64_t seed, double mean, double stddev, const Shape& global_shape,
                      const Shape& chunk_offset, const Shape& chunk_shape, std::uint64_t stream = 0);

/// int64 in [low, high) (multiply-shift of a 64-bit word; bias below 2^-64 * (high-low)).
/// Throws: ShapeError if high <= low, or as random_uniform.
NDArray random_integers(std::uint64_t seed, std::int64_t low, std::int64_t high,
                        const Shape& global_shape, const Shape& chunk_offset,
                        const Shape& chunk_shape, std::uint64_t stream = 0);

}  // namespace tessera
