// Built with -ffast-math (see CMakeLists.txt) so that the Box-Muller loop vectorizes through
// glibc's libmvec; every value fed to log/sqrt/sincos here is finite and in range.
#include <tessera/collections/array/kernels/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tessera {

namespace {

constexpr std::uint32_t m0 = 0xD2511F53U, m1 = 0xCD9E8D57U;
constexpr std::uint32_t w0 = 0x9E3779B9U, w1 = 0xBB67AE85U;
constexpr int batch = 64;  // Philox blocks per vectorized batch

enum class Kind { uniform, normal, integers };

struct Params {
  Kind kind;
  double a;  // uniform: low; normal: mean
  double b;  // uniform: high-low; normal: stddev
  std::int64_t ilow;
  std::uint64_t irange;
};

// Philox on `batch` consecutive blocks starting at `first`, written as words x[4][batch].
// Plain loops over j so the compiler vectorizes the 32x32->64 multiplies.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
void philox_batch(std::uint64_t first, std::uint64_t seed, std::uint64_t stream,
                  std::uint32_t (*x)[batch]) {
  std::uint32_t c0[batch], c1[batch], c2[batch], c3[batch];
  for (int j = 0; j < batch; ++j) {
    const std::uint64_t blk = first + static_cast<std::uint64_t>(j);
    c0[j] = static_cast<std::uint32_t>(blk);
    c1[j] = static_cast<std::uint32_t>(blk >> 32U);
    c2[j] = static_cast<std::uint32_t>(stream);
    c3[j] = static_cast<std::uint32_t>(stream >> 32U);
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32U);
  for (int r = 0; r < 10; ++r) {
    for (int j = 0; j < batch; ++j) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * c0[j];
      const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * c2[j];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32U) ^ c1[j] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32U) ^ c3[j] ^ k1;
      c1[j] = static_cast<std::uint32_t>(p1);
      c3[j] = static_cast<std::uint32_t>(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += w0;
    k1 += w1;
  }
  std::memcpy(x[0], c0, sizeof c0);
  std::memcpy(x[1], c1, sizeof c1);
  std::memcpy(x[2], c2, sizeof c2);
  std::memcpy(x[3], c3, sizeof c3);
}

// Turns a batch of Philox words into 2*batch values: value 2j+lane of block j.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
void transform_batch(const std::uint32_t (*x)[batch], const Params& prm, double* out) {
  constexpr double two_m53 = 1.0 / 9007199254740992.0;
  double u0[batch], u1[batch];
  for (int j = 0; j < batch; ++j) {
    const std::uint64_t a = x[0][j] | (static_cast<std::uint64_t>(x[1][j]) << 32U);
    const std::uint64_t b = x[2][j] | (static_cast<std::uint64_t>(x[3][j]) << 32U);
    u0[j] = static_cast<double>(a >> 11U) * two_m53;  // [0, 1)
    u1[j] = static_cast<double>(b >> 11U) * two_m53;
  }
  if (prm.kind == Kind::uniform) {
    for (int j = 0; j < batch; ++j) {
      out[2 * j] = prm.a + prm.b * u0[j];
      out[2 * j + 1] = prm.a + prm.b * u1[j];
    }
  } else {
    double z0[batch], z1[batch];
    constexpr double two_pi = 6.283185307179586476925286766559;
    for (int j = 0; j < batch; ++j) {
      const double r = std::sqrt(-2.0 * std::log(1.0 - u0[j]));  // 1-u0 in (0, 1]
      const double t = two_pi * u1[j];
      z0[j] = r * std::cos(t);
      z1[j] = r * std::sin(t);
    }
    for (int j = 0; j < batch; ++j) {
      out[2 * j] = prm.a + prm.b * z0[j];
      out[2 * j + 1] = prm.a + prm.b * z1[j];
    }
  }
}

// High 64 bits of a 64x64 product (portable; no __int128 under -Wpedantic).
inline std::uint64_t mulhi64(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t al = a & 0xFFFFFFFFU, ah = a >> 32U, bl = b & 0xFFFFFFFFU, bh = b >> 32U;
  const std::uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const std::uint64_t mid = (ll >> 32U) + (lh & 0xFFFFFFFFU) + (hl & 0xFFFFFFFFU);
  return hh + (lh >> 32U) + (hl >> 32U) + (mid >> 32U);
}

void integer_batch(const std::uint32_t (*x)[batch], const Params& prm, std::int64_t* out) {
  for (int j = 0; j < batch; ++j) {
    const std::uint64_t a = x[0][j] | (static_cast<std::uint64_t>(x[1][j]) << 32U);
    const std::uint64_t b = x[2][j] | (static_cast<std::uint64_t>(x[3][j]) << 32U);
    const auto ra = mulhi64(a, prm.irange);
    const auto rb = mulhi64(b, prm.irange);
    out[2 * j] = static_cast<std::int64_t>(static_cast<std::uint64_t>(prm.ilow) + ra);
    out[2 * j + 1] = static_cast<std::int64_t>(static_cast<std::uint64_t>(prm.ilow) + rb);
  }
}

// Fills dst[0..len) with the values of global elements g0..g0+len.
template <class T>
void fill_run(std::uint64_t seed, std::uint64_t stream, const Params& prm, std::uint64_t g0,
              std::int64_t len, T* dst) {
  std::uint32_t x[4][batch];
  T vals[2 * batch];
  std::uint64_t g = g0;
  const std::uint64_t end = g0 + static_cast<std::uint64_t>(len);
  while (g < end) {
    const std::uint64_t blk = g >> 1U;
    philox_batch(blk, seed, stream, x);
    if constexpr (std::is_same_v<T, double>) transform_batch(x, prm, vals);
    else integer_batch(x, prm, vals);
    const std::uint64_t first_val = blk * 2;  // global index of vals[0]
    const std::uint64_t stop = std::min(end, first_val + 2 * batch);
    std::memcpy(dst + (g - g0), vals + (g - first_val), static_cast<std::size_t>(stop - g) * sizeof(T));
    g = stop;
  }
}

template <class T>
NDArray generate(std::uint64_t seed, std::uint64_t stream, const Params& prm, const Shape& global,
                 const Shape& off, const Shape& shape, DType dt, const char* op) {
  bool fits = global.size() == off.size() && global.size() == shape.size();
  for (std::size_t d = 0; fits && d < global.size(); ++d) {
    fits = off[d] >= 0 && shape[d] >= 0 && off[d] + shape[d] <= global[d];
  }
  if (!fits) {
    TESSERA_THROW(ShapeError, op, ": chunk of shape ", to_string(shape), " at offset ", to_string(off),
                  " does not fit global shape ", to_string(global));
  }
  NDArray out = NDArray::empty(shape, dt);
  if (out.size() == 0) return out;
  T* dst = out.mutable_data<T>().data();
  const std::size_t nd = shape.size();
  if (nd == 0) {
    fill_run<T>(seed, stream, prm, 0, 1, dst);
    return out;
  }
  const auto gst = c_strides(global);
  const std::int64_t inner = shape[nd - 1];
  const std::int64_t rows = out.size() / inner;
  std::vector<std::int64_t> idx(nd, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t g = 0;
    for (std::size_t d = 0; d < nd; ++d) g += (off[d] + idx[d]) * gst[d];
    fill_run<T>(seed, stream, prm, static_cast<std::uint64_t>(g), inner, dst + r * inner);
    for (std::size_t d = nd - 1; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> c,
                                            std::array<std::uint32_t, 2> k) noexcept {
  for (int r = 0; r < 10; ++r) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * c[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * c[2];
    c = {static_cast<std::uint32_t>(p1 >> 32U) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
         static_cast<std::uint32_t>(p0 >> 32U) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
    k[0] += w0;
    k[1] += w1;
  }
  return c;
}

NDArray random_uniform(std::uint64_t seed, const Shape& global, const Shape& off, const Shape& shape,
                       double low, double high, std::uint64_t stream) {
  const Params prm{Kind::uniform, low, high - low, 0, 0};
  return generate<double>(seed, stream, prm, global, off, shape, DType::float64, "random_uniform");
}

NDArray random_normal(std::uint64_t seed, double mean, double stddev, const Shape& global,
                      const Shape& off, const Shape& shape, std::uint64_t stream) {
  const Params prm{Kind::normal, mean, stddev, 0, 0};
  return generate<double>(seed, stream, prm, global, off, shape, DType::float64, "random_normal");
}

NDArray random_integers(std::uint64_t seed, std::int64_t low, std::int64_t high, const Shape& global,
                        const Shape& off, const Shape& shape, std::uint64_t stream) {
  if (high <= low) {
    TESSERA_THROW(ShapeError, "random_integers: empty range [", low, ", ", high, ")");
  }
  const Params prm{Kind::integers, 0, 0, low,
                   static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low)};
  return generate<std::int64_t>(seed, stream, prm, global, off, shape, DType::int64, "random_integers");
}

}  // namespace tessera
