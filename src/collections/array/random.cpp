// Counter-based random kernels: Philox4x32-10 indexed by global element, with a scalar path and
// an AVX2+FMA path chosen at run time (__builtin_cpu_supports; no -march flags). Both paths run
// the same sequence of IEEE operations (every multiply-add is an explicit fma in both, every
// other operation is correctly rounded), so they give bit-identical values; the test
// test_random_perf_invariants.cpp checks that on every kernel.
//
// Built with -ffp-contract=off (src/collections/CMakeLists.txt) so that the compiler never fuses
// a multiply and an add that the scalar path keeps apart (the uniform affine map).
#include <tessera/collections/array/kernels/random.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TESSERA_RANDOM_X86 1
#define TESSERA_AVX2 __attribute__((target("avx2,fma")))
#define TESSERA_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline
#endif

namespace tessera {

namespace {

constexpr std::uint32_t m0 = 0xD2511F53U, m1 = 0xCD9E8D57U;
constexpr std::uint32_t w0 = 0x9E3779B9U, w1 = 0xBB67AE85U;

// ---- constants of the normal transform (see random.hpp for the element mapping) -------------
constexpr std::uint64_t magic_bits = 0x4330000000000000ULL;  // bits of 2^52
constexpr double two52 = 4503599627370496.0;
constexpr std::uint64_t radius_one = std::uint64_t{1} << 40U;
constexpr std::uint64_t log_off = 0x3fe6955500000000ULL;  // normalizes the mantissa to [0.705, 1.41)
constexpr std::uint64_t exp_mask = std::uint64_t{0xfff} << 52U;
constexpr double ln2 = 0.693147180559945309417232121458176568;
constexpr double angle_step = 6.283185307179586476925286766559 / 16777216.0;  // 2*pi / 2^24
// ln(m) = 2s(1 + s^2/3 + ... + s^14/15), s = (m-1)/(m+1), |s| <= 0.1716: error < 4e-14 relative.
constexpr double lc1 = 1.0 / 3, lc2 = 1.0 / 5, lc3 = 1.0 / 7, lc4 = 1.0 / 9, lc5 = 1.0 / 11,
                 lc6 = 1.0 / 13, lc7 = 1.0 / 15;
// Taylor sin to x^13 (error < 3e-14 relative) and cos to x^14 (< 2e-15) on |x| <= pi/4.
constexpr double sc1 = -1.0 / 6, sc2 = 1.0 / 120, sc3 = -1.0 / 5040, sc4 = 1.0 / 362880,
                 sc5 = -1.0 / 39916800, sc6 = 1.0 / 6227020800.0;
constexpr double cc1 = -0.5, cc2 = 1.0 / 24, cc3 = -1.0 / 720, cc4 = 1.0 / 40320,
                 cc5 = -1.0 / 3628800, cc6 = 1.0 / 479001600.0, cc7 = -1.0 / 87178291200.0;

// ================================ scalar path ===================================================

inline std::array<std::uint32_t, 4> block_words(std::uint64_t blk, std::uint64_t seed,
                                                std::uint64_t stream) noexcept {
  return philox4x32_10({static_cast<std::uint32_t>(blk), static_cast<std::uint32_t>(blk >> 32U),
                        static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32U)},
                       {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32U)});
}

inline double as_double(std::uint64_t b) noexcept { return std::bit_cast<double>(b); }
inline std::uint64_t as_bits(double d) noexcept { return std::bit_cast<std::uint64_t>(d); }

// Box-Muller on one 64-bit word: radius from the top 40 bits, angle from the low 24.
// Mirrors box_muller_avx2 operation for operation.
struct Polar {
  double c, s, r;
};
inline Polar box_muller_scalar(std::uint64_t w) noexcept {
  const std::uint64_t k = radius_one - (w >> 24U);  // 2^40 * u, u in (0, 1]
  const double kd = as_double(k | magic_bits) - two52;
  const std::uint64_t kb = as_bits(kd);
  const std::uint64_t tmp = kb - log_off;
  const std::uint64_t kexp = tmp >> 52U;
  const double z = as_double(kb - (tmp & exp_mask));
  const double e = as_double(kexp | magic_bits) - (two52 + 40.0);
  const double f = z - 1.0;
  const double d = z + 1.0;
  const double s = f / d;
  const double s2 = s * s;
  double p = std::fma(s2, lc7, lc6);
  p = std::fma(s2, p, lc5);
  p = std::fma(s2, p, lc4);
  p = std::fma(s2, p, lc3);
  p = std::fma(s2, p, lc2);
  p = std::fma(s2, p, lc1);
  const double t = s + s;
  const double lnm = std::fma(t * s2, p, t);
  const double lnu = std::fma(e, ln2, lnm);
  const double r2m = lnu * -2.0;
  const double r2 = r2m > 0.0 ? r2m : 0.0;  // = maxpd(r2m, 0): +0 for u == 1
  const double r = std::sqrt(r2);

  const std::uint64_t a = ((w & 0xFFFFFFU) + (std::uint64_t{1} << 21U)) & 0xFFFFFFU;
  const std::uint64_t q = a >> 22U;
  const std::uint64_t ti = a & ((std::uint64_t{1} << 22U) - 1);
  const double tq = as_double(ti | magic_bits) - (two52 + 2097152.0);
  const double x = tq * angle_step;
  const double x2 = x * x;
  double sp = std::fma(x2, sc6, sc5);
  sp = std::fma(x2, sp, sc4);
  sp = std::fma(x2, sp, sc3);
  sp = std::fma(x2, sp, sc2);
  sp = std::fma(x2, sp, sc1);
  const double sn = std::fma(x * x2, sp, x);
  double cp = std::fma(x2, cc7, cc6);
  cp = std::fma(x2, cp, cc5);
  cp = std::fma(x2, cp, cc4);
  cp = std::fma(x2, cp, cc3);
  cp = std::fma(x2, cp, cc2);
  cp = std::fma(x2, cp, cc1);
  const double cs = std::fma(x2, cp, 1.0);
  const bool swap = (q & 1U) != 0;
  const std::uint64_t negc = ((q + 1) & 2U) << 62U;
  const std::uint64_t negs = (q & 2U) << 62U;
  return {as_double(as_bits(swap ? sn : cs) ^ negc), as_double(as_bits(swap ? cs : sn) ^ negs), r};
}

// 16 normals of group g (blocks 4g..4g+3): out[4*slot + lane].
void normal_groups_scalar(std::uint64_t g0, std::uint64_t ng, std::uint64_t seed, std::uint64_t stream,
                          double mean, double sd, double* out) {
  for (std::uint64_t i = 0; i < ng; ++i) {
    double* o = out + 16 * i;
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const auto x = block_words(4 * (g0 + i) + lane, seed, stream);
      const Polar p01 = box_muller_scalar(x[0] | (static_cast<std::uint64_t>(x[1]) << 32U));
      const Polar p23 = box_muller_scalar(x[2] | (static_cast<std::uint64_t>(x[3]) << 32U));
      const double rs01 = sd * p01.r, rs23 = sd * p23.r;
      o[lane] = std::fma(rs01, p01.c, mean);
      o[4 + lane] = std::fma(rs01, p01.s, mean);
      o[8 + lane] = std::fma(rs23, p23.c, mean);
      o[12 + lane] = std::fma(rs23, p23.s, mean);
    }
  }
}

// Two 64-bit words per block: out[2k] = x0 | x1 << 32, out[2k+1] = x2 | x3 << 32 of block b0+k.
void raw_blocks_scalar(std::uint64_t b0, std::uint64_t nb, std::uint64_t seed, std::uint64_t stream,
                       std::uint64_t* out) {
  for (std::uint64_t k = 0; k < nb; ++k) {
    const auto x = block_words(b0 + k, seed, stream);
    out[2 * k] = x[0] | (static_cast<std::uint64_t>(x[1]) << 32U);
    out[2 * k + 1] = x[2] | (static_cast<std::uint64_t>(x[3]) << 32U);
  }
}

constexpr double two_m53 = 1.0 / 9007199254740992.0;

void uniform_blocks_scalar(std::uint64_t b0, std::uint64_t nb, std::uint64_t seed, std::uint64_t stream,
                           double low, double range, double* out) {
  for (std::uint64_t k = 0; k < nb; ++k) {
    const auto x = block_words(b0 + k, seed, stream);
    const std::uint64_t a = x[0] | (static_cast<std::uint64_t>(x[1]) << 32U);
    const std::uint64_t b = x[2] | (static_cast<std::uint64_t>(x[3]) << 32U);
    out[2 * k] = low + range * (static_cast<double>(a >> 11U) * two_m53);
    out[2 * k + 1] = low + range * (static_cast<double>(b >> 11U) * two_m53);
  }
}

// ================================ AVX2 + FMA path ===============================================
#if defined(TESSERA_RANDOM_X86)

// Round keys of Philox4x32-10 broadcast to 64-bit lanes: key[r] for round r, word 0 then 1.
struct Avx2Keys {
  alignas(32) std::uint64_t k0[10][4];
  alignas(32) std::uint64_t k1[10][4];
  std::uint64_t stream;
};

inline Avx2Keys make_keys(std::uint64_t seed, std::uint64_t stream) noexcept {
  Avx2Keys k{};
  std::uint32_t a = static_cast<std::uint32_t>(seed), b = static_cast<std::uint32_t>(seed >> 32U);
  for (int r = 0; r < 10; ++r) {
    for (int j = 0; j < 4; ++j) {
      k.k0[r][j] = a;
      k.k1[r][j] = b;
    }
    a += w0;
    b += w1;
  }
  k.stream = stream;
  return k;
}

// Philox4x32-10 on 4*NV consecutive blocks from `first`: vector v, 64-bit lane j holds word i of
// block first+4v+j in its low 32 bits (the high 32 bits are garbage; vpmuludq ignores them).
// NV = 2 keeps the state, constants and temporaries in the 16 ymm registers.
template <int NV>
TESSERA_AVX2_INLINE void philox_avx2(std::uint64_t first, const Avx2Keys& keys, __m256i* x0, __m256i* x1,
                                     __m256i* x2, __m256i* x3) {
  const __m256i mul0 = _mm256_set1_epi64x(m0), mul1 = _mm256_set1_epi64x(m1);
  const __m256i lanes = _mm256_set_epi64x(3, 2, 1, 0);
  const __m256i s_lo = _mm256_set1_epi64x(static_cast<long long>(keys.stream & 0xFFFFFFFFU));
  const __m256i s_hi = _mm256_set1_epi64x(static_cast<long long>(keys.stream >> 32U));
  for (int v = 0; v < NV; ++v) {
    const __m256i blk = _mm256_add_epi64(
        _mm256_set1_epi64x(static_cast<long long>(first + 4 * static_cast<std::uint64_t>(v))), lanes);
    x0[v] = blk;
    x1[v] = _mm256_srli_epi64(blk, 32);
    x2[v] = s_lo;
    x3[v] = s_hi;
  }
  for (int r = 0; r < 10; ++r) {
    const __m256i kv0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(keys.k0[r]));
    const __m256i kv1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(keys.k1[r]));
    for (int v = 0; v < NV; ++v) {
      const __m256i p0 = _mm256_mul_epu32(x0[v], mul0);
      const __m256i p1 = _mm256_mul_epu32(x2[v], mul1);
      // (c1 ^ k0) is ready before the product: one xor after the shift on the critical path
      x0[v] = _mm256_xor_si256(_mm256_srli_epi64(p1, 32), _mm256_xor_si256(x1[v], kv0));
      x2[v] = _mm256_xor_si256(_mm256_srli_epi64(p0, 32), _mm256_xor_si256(x3[v], kv1));
      x1[v] = p1;
      x3[v] = p0;
    }
  }
}

// Joins the low 32 bits of lo and hi into 64-bit words lo | hi << 32.
TESSERA_AVX2_INLINE __m256i join_words(__m256i lo, __m256i hi) {
  return _mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA);
}

TESSERA_AVX2_INLINE __m256d u64_to_double_52(__m256i v) {  // exact for v < 2^52
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(v, _mm256_set1_epi64x(static_cast<long long>(magic_bits)))),
                       _mm256_set1_pd(two52));
}

// Box-Muller on K independent vectors of words, written stage by stage across the K vectors so
// that the divides and square roots overlap the sin/cos polynomials (the chains are long).
template <int K>
TESSERA_AVX2_INLINE void box_muller_avx2(const __m256i* w, __m256d* c_out, __m256d* s_out, __m256d* r_out) {
  const __m256i magic = _mm256_set1_epi64x(static_cast<long long>(magic_bits));
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d e[K], sv[K];
  for (int i = 0; i < K; ++i) {  // radius: exponent split of 2^40 u, then the divide
    const __m256i k = _mm256_sub_epi64(_mm256_set1_epi64x(static_cast<long long>(radius_one)),
                                       _mm256_srli_epi64(w[i], 24));
    const __m256d kd = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(k, magic)), _mm256_set1_pd(two52));
    const __m256i kb = _mm256_castpd_si256(kd);
    const __m256i tmp = _mm256_sub_epi64(kb, _mm256_set1_epi64x(static_cast<long long>(log_off)));
    const __m256i kexp = _mm256_srli_epi64(tmp, 52);
    const __m256d z = _mm256_castsi256_pd(
        _mm256_sub_epi64(kb, _mm256_and_si256(tmp, _mm256_set1_epi64x(static_cast<long long>(exp_mask)))));
    e[i] = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(kexp, magic)), _mm256_set1_pd(two52 + 40.0));
    sv[i] = _mm256_div_pd(_mm256_sub_pd(z, one), _mm256_add_pd(z, one));
  }
  for (int i = 0; i < K; ++i) {  // angle: exact quadrant split, polynomials on [-pi/4, pi/4]
    const __m256i mask24 = _mm256_set1_epi64x(0xFFFFFF);
    const __m256i a = _mm256_and_si256(_mm256_add_epi64(_mm256_and_si256(w[i], mask24), _mm256_set1_epi64x(1LL << 21)), mask24);
    const __m256i q = _mm256_srli_epi64(a, 22);
    const __m256i ti = _mm256_and_si256(a, _mm256_set1_epi64x((1LL << 22) - 1));
    const __m256d tq = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(ti, magic)), _mm256_set1_pd(two52 + 2097152.0));
    const __m256d x = _mm256_mul_pd(tq, _mm256_set1_pd(angle_step));
    const __m256d x2 = _mm256_mul_pd(x, x);
    __m256d sp = _mm256_fmadd_pd(x2, _mm256_set1_pd(sc6), _mm256_set1_pd(sc5));
    __m256d cp = _mm256_fmadd_pd(x2, _mm256_set1_pd(cc7), _mm256_set1_pd(cc6));
    sp = _mm256_fmadd_pd(x2, sp, _mm256_set1_pd(sc4));
    cp = _mm256_fmadd_pd(x2, cp, _mm256_set1_pd(cc5));
    sp = _mm256_fmadd_pd(x2, sp, _mm256_set1_pd(sc3));
    cp = _mm256_fmadd_pd(x2, cp, _mm256_set1_pd(cc4));
    sp = _mm256_fmadd_pd(x2, sp, _mm256_set1_pd(sc2));
    cp = _mm256_fmadd_pd(x2, cp, _mm256_set1_pd(cc3));
    sp = _mm256_fmadd_pd(x2, sp, _mm256_set1_pd(sc1));
    cp = _mm256_fmadd_pd(x2, cp, _mm256_set1_pd(cc2));
    cp = _mm256_fmadd_pd(x2, cp, _mm256_set1_pd(cc1));
    const __m256d sn = _mm256_fmadd_pd(_mm256_mul_pd(x, x2), sp, x);
    const __m256d cs = _mm256_fmadd_pd(x2, cp, one);
    const __m256d swap = _mm256_castsi256_pd(_mm256_slli_epi64(q, 63));
    const __m256i two = _mm256_set1_epi64x(2);
    const __m256d negc = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi64(q, _mm256_set1_epi64x(1)), two), 62));
    const __m256d negs = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_and_si256(q, two), 62));
    c_out[i] = _mm256_xor_pd(_mm256_blendv_pd(cs, sn, swap), negc);
    s_out[i] = _mm256_xor_pd(_mm256_blendv_pd(sn, cs, swap), negs);
  }
  for (int i = 0; i < K; ++i) {  // ln u = e ln2 + 2 atanh(s); r = sqrt(-2 ln u)
    const __m256d s = sv[i];
    const __m256d s2 = _mm256_mul_pd(s, s);
    __m256d p = _mm256_fmadd_pd(s2, _mm256_set1_pd(lc7), _mm256_set1_pd(lc6));
    p = _mm256_fmadd_pd(s2, p, _mm256_set1_pd(lc5));
    p = _mm256_fmadd_pd(s2, p, _mm256_set1_pd(lc4));
    p = _mm256_fmadd_pd(s2, p, _mm256_set1_pd(lc3));
    p = _mm256_fmadd_pd(s2, p, _mm256_set1_pd(lc2));
    p = _mm256_fmadd_pd(s2, p, _mm256_set1_pd(lc1));
    const __m256d t = _mm256_add_pd(s, s);
    const __m256d lnm = _mm256_fmadd_pd(_mm256_mul_pd(t, s2), p, t);
    const __m256d lnu = _mm256_fmadd_pd(e[i], _mm256_set1_pd(ln2), lnm);
    const __m256d r2 = _mm256_max_pd(_mm256_mul_pd(lnu, _mm256_set1_pd(-2.0)), _mm256_setzero_pd());
    r_out[i] = _mm256_sqrt_pd(r2);
  }
}

template <int NV>
TESSERA_AVX2_INLINE void normal_groups_avx2_n(std::uint64_t g0, const Avx2Keys& keys, double mean, double sd,
                                              double* out) {
  __m256i x0[NV], x1[NV], x2[NV], x3[NV];
  philox_avx2<NV>(4 * g0, keys, x0, x1, x2, x3);
  __m256i w[2 * NV];
  for (int v = 0; v < NV; ++v) {
    w[2 * v] = join_words(x0[v], x1[v]);
    w[2 * v + 1] = join_words(x2[v], x3[v]);
  }
  __m256d c[2 * NV], s[2 * NV], r[2 * NV];
  box_muller_avx2<2 * NV>(w, c, s, r);
  const __m256d meanv = _mm256_set1_pd(mean), sdv = _mm256_set1_pd(sd);
  for (int i = 0; i < 2 * NV; ++i) {  // word i: slots 2(i%2), 2(i%2)+1 of group i/2
    const __m256d rs = _mm256_mul_pd(sdv, r[i]);
    _mm256_storeu_pd(out + 8 * i, _mm256_fmadd_pd(rs, c[i], meanv));
    _mm256_storeu_pd(out + 8 * i + 4, _mm256_fmadd_pd(rs, s[i], meanv));
  }
}

// Interleaves a (values of word pair 01) and b (pair 23) of 4 blocks into out[0..8).
TESSERA_AVX2_INLINE void store_pairs(__m256d a, __m256d b, double* out) {
  const __m256d lo = _mm256_unpacklo_pd(a, b);  // a0 b0 a2 b2
  const __m256d hi = _mm256_unpackhi_pd(a, b);  // a1 b1 a3 b3
  _mm256_storeu_pd(out, _mm256_permute2f128_pd(lo, hi, 0x20));
  _mm256_storeu_pd(out + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
}

TESSERA_AVX2_INLINE __m256d unit_53(__m256i w) {  // (w >> 11) * 2^-53, exactly as the scalar cast
  const __m256i v = _mm256_srli_epi64(w, 11);
  const __m256d hi = u64_to_double_52(_mm256_srli_epi64(v, 26));
  const __m256d lo = u64_to_double_52(_mm256_and_si256(v, _mm256_set1_epi64x((1LL << 26) - 1)));
  return _mm256_mul_pd(_mm256_fmadd_pd(hi, _mm256_set1_pd(67108864.0), lo), _mm256_set1_pd(two_m53));
}

template <int NV>
TESSERA_AVX2_INLINE void uniform_blocks_avx2_n(std::uint64_t b0, const Avx2Keys& keys, double low, double range,
                                               double* out) {
  __m256i x0[NV], x1[NV], x2[NV], x3[NV];
  philox_avx2<NV>(b0, keys, x0, x1, x2, x3);
  const __m256d lowv = _mm256_set1_pd(low), rangev = _mm256_set1_pd(range);
  for (int v = 0; v < NV; ++v) {
    // low + range * u, rounded twice like the scalar path (this file is built without contraction)
    const __m256d a = _mm256_add_pd(lowv, _mm256_mul_pd(rangev, unit_53(join_words(x0[v], x1[v]))));
    const __m256d b = _mm256_add_pd(lowv, _mm256_mul_pd(rangev, unit_53(join_words(x2[v], x3[v]))));
    store_pairs(a, b, out + 8 * v);
  }
}

template <int NV>
TESSERA_AVX2_INLINE void raw_blocks_avx2_n(std::uint64_t b0, const Avx2Keys& keys, std::uint64_t* out) {
  __m256i x0[NV], x1[NV], x2[NV], x3[NV];
  philox_avx2<NV>(b0, keys, x0, x1, x2, x3);
  for (int v = 0; v < NV; ++v) {
    const __m256d a = _mm256_castsi256_pd(join_words(x0[v], x1[v]));
    const __m256d b = _mm256_castsi256_pd(join_words(x2[v], x3[v]));
    const __m256d lo = _mm256_unpacklo_pd(a, b);
    const __m256d hi = _mm256_unpackhi_pd(a, b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * v), _mm256_castpd_si256(_mm256_permute2f128_pd(lo, hi, 0x20)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * v + 4), _mm256_castpd_si256(_mm256_permute2f128_pd(lo, hi, 0x31)));
  }
}

// The outer kernels, compiled twice from the same inline code: for AVX2+FMA (16 ymm registers,
// 2 Philox vectors in flight) and for AVX-512VL CPUs (32 registers: 4 vectors in flight without
// spills). Same operations, so the same bits.
#define TESSERA_RANDOM_OUTER(SUFFIX, TARGET, NV)                                                       \
  TARGET void normal_groups_##SUFFIX(std::uint64_t g0, std::uint64_t ng, std::uint64_t seed,            \
                                     std::uint64_t stream, double mean, double sd, double* out) {       \
    const Avx2Keys keys = make_keys(seed, stream);                                                      \
    std::uint64_t i = 0;                                                                                \
    for (; i + (NV) <= ng; i += (NV)) normal_groups_avx2_n<(NV)>(g0 + i, keys, mean, sd, out + 16 * i); \
    for (; i < ng; ++i) normal_groups_avx2_n<1>(g0 + i, keys, mean, sd, out + 16 * i);                  \
  }                                                                                                     \
  TARGET void uniform_blocks_##SUFFIX(std::uint64_t b0, std::uint64_t nb, std::uint64_t seed,           \
                                      std::uint64_t stream, double low, double range, double* out) {    \
    const Avx2Keys keys = make_keys(seed, stream);                                                      \
    std::uint64_t i = 0;                                                                                \
    for (; i + 4 * (NV) <= nb; i += 4 * (NV)) uniform_blocks_avx2_n<(NV)>(b0 + i, keys, low, range, out + 2 * i); \
    for (; i + 4 <= nb; i += 4) uniform_blocks_avx2_n<1>(b0 + i, keys, low, range, out + 2 * i);      \
    uniform_blocks_scalar(b0 + i, nb - i, seed, stream, low, range, out + 2 * i);                       \
  }                                                                                                     \
  TARGET void raw_blocks_##SUFFIX(std::uint64_t b0, std::uint64_t nb, std::uint64_t seed,               \
                                  std::uint64_t stream, std::uint64_t* out) {                           \
    const Avx2Keys keys = make_keys(seed, stream);                                                      \
    std::uint64_t i = 0;                                                                                \
    for (; i + 4 * (NV) <= nb; i += 4 * (NV)) raw_blocks_avx2_n<(NV)>(b0 + i, keys, out + 2 * i);      \
    for (; i + 4 <= nb; i += 4) raw_blocks_avx2_n<1>(b0 + i, keys, out + 2 * i);                        \
    raw_blocks_scalar(b0 + i, nb - i, seed, stream, out + 2 * i);                                       \
  }

#define TESSERA_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512dq")))
TESSERA_RANDOM_OUTER(avx2, TESSERA_AVX2, 2)
TESSERA_RANDOM_OUTER(avx512, TESSERA_AVX512, 4)

TESSERA_AVX2 std::array<double, 2> normal_pair_avx2(std::uint64_t w) {
  const __m256i wv = _mm256_set1_epi64x(static_cast<long long>(w));
  __m256d c, s, r;
  box_muller_avx2<1>(&wv, &c, &s, &r);
  const __m256d one = _mm256_set1_pd(1.0);  // the sd * r step of the kernels, with sd = 1
  const __m256d rs = _mm256_mul_pd(one, r);
  alignas(32) double zc[4], zs[4];
  _mm256_store_pd(zc, _mm256_fmadd_pd(rs, c, _mm256_setzero_pd()));
  _mm256_store_pd(zs, _mm256_fmadd_pd(rs, s, _mm256_setzero_pd()));
  return {zc[0], zs[0]};
}

#endif  // TESSERA_RANDOM_X86

// ================================ dispatch ======================================================

struct Kernels {
  void (*normal_groups)(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, double, double, double*);
  void (*uniform_blocks)(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, double, double, double*);
  void (*raw_blocks)(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t*);
};

constexpr Kernels scalar_kernels{normal_groups_scalar, uniform_blocks_scalar, raw_blocks_scalar};
#if defined(TESSERA_RANDOM_X86)
constexpr Kernels avx2_kernels{normal_groups_avx2, uniform_blocks_avx2, raw_blocks_avx2};
constexpr Kernels avx512_kernels{normal_groups_avx512, uniform_blocks_avx512, raw_blocks_avx512};
#endif

RandomIsa detect_isa() noexcept {
#if defined(TESSERA_RANDOM_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
      return RandomIsa::avx512;
    }
    return RandomIsa::avx2;
  }
#endif
  return RandomIsa::scalar;
}

std::atomic<int> g_isa{-1};  // -1: not chosen yet

RandomIsa current_isa() noexcept {
  int v = g_isa.load(std::memory_order_relaxed);
  if (v < 0) {
    int expected = -1;
    const int best = static_cast<int>(best_random_isa());
    g_isa.compare_exchange_strong(expected, best, std::memory_order_relaxed);
    v = g_isa.load(std::memory_order_relaxed);
  }
  return static_cast<RandomIsa>(v);
}

const Kernels& kernels() noexcept {
#if defined(TESSERA_RANDOM_X86)
  switch (current_isa()) {
    case RandomIsa::avx512: return avx512_kernels;
    case RandomIsa::avx2: return avx2_kernels;
    case RandomIsa::scalar: break;
  }
#endif
  return scalar_kernels;
}

// ================================ chunk filling =================================================

enum class Kind { uniform, normal, integers };

struct Params {
  Kind kind;
  double a;  // uniform: low; normal: mean
  double b;  // uniform: high-low; normal: stddev
  std::int64_t ilow;
  std::uint64_t irange;
};

// High 64 bits of a 64x64 product (portable; no __int128 under -Wpedantic).
inline std::uint64_t mulhi64(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t al = a & 0xFFFFFFFFU, ah = a >> 32U, bl = b & 0xFFFFFFFFU, bh = b >> 32U;
  const std::uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const std::uint64_t mid = (ll >> 32U) + (lh & 0xFFFFFFFFU) + (hl & 0xFFFFFFFFU);
  return hh + (lh >> 32U) + (hl >> 32U) + (mid >> 32U);
}

// Writes the 2*nb values of blocks b0..b0+nb (uniform or integer) to out.
template <class T>
void pair_blocks(const Kernels& k, std::uint64_t seed, std::uint64_t stream, const Params& prm,
                 std::uint64_t b0, std::uint64_t nb, T* out) {
  if constexpr (std::is_same_v<T, double>) {
    k.uniform_blocks(b0, nb, seed, stream, prm.a, prm.b, out);
  } else {
    auto* raw = reinterpret_cast<std::uint64_t*>(out);  // int64 and uint64 may alias
    k.raw_blocks(b0, nb, seed, stream, raw);
    for (std::uint64_t i = 0; i < 2 * nb; ++i) {
      out[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(prm.ilow) + mulhi64(raw[i], prm.irange));
    }
  }
}

// Fills dst[0..len) with global elements g0..g0+len; `unit` values per unit (block or group),
// `units(first, n, out)` writes the values of n whole units.
template <class T, std::uint64_t unit, class Units>
void fill_units(std::uint64_t g0, std::int64_t len, T* dst, Units&& units) {
  T tmp[unit];
  std::uint64_t g = g0;
  const std::uint64_t end = g0 + static_cast<std::uint64_t>(len);
  if (g % unit != 0) {  // head: part of one unit
    units(g / unit, 1, tmp);
    const std::uint64_t stop = std::min(end, (g / unit + 1) * unit);
    std::memcpy(dst, tmp + g % unit, static_cast<std::size_t>(stop - g) * sizeof(T));
    g = stop;
  }
  if (const std::uint64_t n = (end - g) / unit; n > 0) {  // whole units, written in place
    units(g / unit, n, dst + (g - g0));
    g += n * unit;
  }
  if (g < end) {  // tail
    units(g / unit, 1, tmp);
    std::memcpy(dst + (g - g0), tmp, static_cast<std::size_t>(end - g) * sizeof(T));
  }
}

template <class T>
void fill_run(const Kernels& k, std::uint64_t seed, std::uint64_t stream, const Params& prm,
              std::uint64_t g0, std::int64_t len, T* dst) {
  if constexpr (std::is_same_v<T, double>) {
    if (prm.kind == Kind::normal) {
      fill_units<double, 16>(g0, len, dst, [&](std::uint64_t first, std::uint64_t n, double* out) {
        k.normal_groups(first, n, seed, stream, prm.a, prm.b, out);
      });
      return;
    }
  }
  fill_units<T, 2>(g0, len, dst, [&](std::uint64_t first, std::uint64_t n, T* out) {
    pair_blocks<T>(k, seed, stream, prm, first, n, out);
  });
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
  const Kernels& k = kernels();
  const std::size_t nd = shape.size();
  if (nd == 0) {
    fill_run<T>(k, seed, stream, prm, 0, 1, dst);
    return out;
  }
  const auto gst = c_strides(global);
  // Merge trailing axes where the chunk spans the whole global extent: one run per outer index.
  std::size_t split = nd - 1;
  while (split > 0 && shape[split] == global[split]) --split;
  std::int64_t inner = 1;
  for (std::size_t d = split; d < nd; ++d) inner *= shape[d];
  const std::int64_t rows = out.size() / inner;
  std::vector<std::int64_t> idx(split, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t g = 0;
    for (std::size_t d = 0; d < nd; ++d) g += (off[d] + (d < split ? idx[d] : 0)) * gst[d];
    fill_run<T>(k, seed, stream, prm, static_cast<std::uint64_t>(g), inner, dst + r * inner);
    for (std::size_t d = split; d-- > 0;) {
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

RandomIsa best_random_isa() noexcept {
  static const RandomIsa best = detect_isa();
  return best;
}

RandomIsa random_isa() noexcept { return current_isa(); }

RandomIsa set_random_isa(RandomIsa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_random_isa())) {
    TESSERA_THROW(ConfigError, "set_random_isa: this CPU cannot run the ", isa == RandomIsa::avx512 ? "avx512" : "avx2",
                  " path of the random kernels (needs ", isa == RandomIsa::avx512 ? "AVX-512F/VL/DQ" : "AVX2 and FMA",
                  ")");
  }
  const RandomIsa prev = current_isa();
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return prev;
}

std::array<double, 2> normal_pair(std::uint64_t word) noexcept {
#if defined(TESSERA_RANDOM_X86)
  if (current_isa() != RandomIsa::scalar) return normal_pair_avx2(word);
#endif
  const Polar p = box_muller_scalar(word);
  const double rs = 1.0 * p.r;
  return {std::fma(rs, p.c, 0.0), std::fma(rs, p.s, 0.0)};
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
