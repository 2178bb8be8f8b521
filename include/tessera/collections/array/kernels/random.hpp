#pragma once

/// @file
/// Counter-based random arrays. Every element is a pure function of (seed, stream, global
/// element index) through Philox4x32-10 (Salmon et al., SC'11), so a chunk of a random global
/// array has the same values whatever the chunking, thread count or rank that generates it.
///
/// Philox block b has counter (b low, b high, stream low, stream high) and key (seed low,
/// seed high); its words x0..x3 form two 64-bit words W0 = x0 | x1 << 32, W1 = x2 | x3 << 32.
///
/// Uniform and integer element g (flat C-order index in the global shape) use block g/2, word
/// W(g%2): uniform = low + (high-low) * ((W >> 11) * 2^-53).
///
/// Normal element g lies in group G = g/16 (blocks 4G..4G+3): with i = g%16, block 4G + i%4
/// and slot s = i/4. Slots 0,1 are cos/sin of Box-Muller on W0, slots 2,3 on W1, where a word W
/// gives radius sqrt(-2 ln u), u = 1 - (W >> 24) * 2^-40 in (0, 1], and angle
/// 2*pi * (W & 0xFFFFFF) * 2^-24. So |z| <= 7.45 (the tail beyond has probability 1e-13), and
/// log/sin/cos are polynomials (atanh series on a mantissa in [0.705, 1.41); Taylor sin/cos on
/// [-pi/4, pi/4] after an exact quadrant split of the 24-bit angle) with relative error below
/// 1e-13 against libm (tested). The values are the same on every instruction-set path.

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

/// Normal float64 with `mean` and standard deviation `stddev` (Box-Muller), chunked as above:
/// mean + (stddev * r) * cos-or-sin, the last step one fused multiply-add.
/// Throws: ShapeError if the chunk does not fit in the global shape.
NDArray random_normal(std::uint64_t seed, double mean, double stddev, const Shape& global_shape,
                      const Shape& chunk_offset, const Shape& chunk_shape, std::uint64_t stream = 0);

/// Instruction-set paths of the random kernels; every path gives bit-identical values. avx512 is
/// the AVX2 code compiled for AVX-512F/VL/DQ CPUs (32 vector registers: more blocks in flight).
enum class RandomIsa { scalar, avx2, avx512 };

/// The fastest path this CPU can run: avx2 needs AVX2 and FMA, avx512 also AVX-512F/VL/DQ
/// (checked at run time with __builtin_cpu_supports; the library is built without -march).
RandomIsa best_random_isa() noexcept;

/// The path the random kernels use now: best_random_isa() unless set_random_isa chose another.
RandomIsa random_isa() noexcept;

/// Chooses the path for every later call in this process (tests and benchmarks); returns the
/// previous one. Not meant to race with running kernels (a kernel reads it once per call).
/// Throws: ConfigError if this CPU cannot run `isa`.
RandomIsa set_random_isa(RandomIsa isa);

/// Box-Muller of one 64-bit Philox word exactly as random_normal applies it, on the current path:
/// {r cos(theta), r sin(theta)} with r and theta as in the file comment (mean 0, stddev 1).
std::array<double, 2> normal_pair(std::uint64_t word) noexcept;

/// int64 in [low, high) (multiply-shift of a 64-bit word; bias below 2^-64 * (high-low)).
/// Throws: ShapeError if high <= low, or as random_uniform.
NDArray random_integers(std::uint64_t seed, std::int64_t low, std::int64_t high,
                        const Shape& global_shape, const Shape& chunk_offset,
                        const Shape& chunk_shape, std::uint64_t stream = 0);

}  // namespace tessera
