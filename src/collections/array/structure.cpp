#include <tessera/collections/array/kernels/structure.hpp>

#include <collections/array/kernel_util.hpp>

#include <cblas.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <numeric>
#include <type_traits>

namespace tessera {

namespace {

// Copies the strided view (base, strides in elements, shape) into C-contiguous `dst`.
template <class U>
void strided_copy(const U* base, const std::vector<std::int64_t>& strides, const Shape& shape, U* dst) {
  const std::size_t nd = shape.size();
  if (nd == 0) {
    dst[0] = base[0];
    return;
  }
  const std::int64_t inner = shape[nd - 1];
  const std::int64_t s_in = strides[nd - 1];
  std::int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < nd; ++d) rows *= shape[d];
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t off = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const U* src = base + off;
    U* o = dst + r * inner;
    if (s_in == 1) {
      std::memcpy(o, src, static_cast<std::size_t>(inner) * sizeof(U));
    } else {
      for (std::int64_t j = 0; j < inner; ++j) o[j] = src[j * s_in];
    }
    for (std::size_t d = nd - 1; d-- > 0;) {
      ++idx[d];
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= idx[d] * strides[d];
      idx[d] = 0;
    }
  }
}

constexpr std::int64_t tile = 32;  // cache tile: 32x32 items of input and output stay in L1

// ---- 2-D tile kernels: B[i*ldb + j] = A[j*lda + i] for i < ni, j < nj ------------------------
// (B = A^T of a strided A). The add variant computes O[i*ldo + j] = X[i*ldx + j] + A[j*lda + i].

template <class U>
void transpose2d_scalar(const U* a, std::int64_t lda, U* b, std::int64_t ldb, std::int64_t ni,
                        std::int64_t nj) {
  for (std::int64_t ib = 0; ib < ni; ib += tile) {
    const std::int64_t ie = std::min(ni, ib + tile);
    for (std::int64_t jb = 0; jb < nj; jb += tile) {
      const std::int64_t je = std::min(nj, jb + tile);
      for (std::int64_t i = ib; i < ie; ++i) {
        const U* s = a + i;
        U* o = b + i * ldb;
        for (std::int64_t j = jb; j < je; ++j) o[j] = s[j * lda];
      }
    }
  }
}

// The sum a + b of NDArray's add for one dtype: wrapping integers, logical or for bool.
template <class T>
inline T add_values(T x, T y) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    return x || y;
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    return static_cast<T>(static_cast<unsigned>(x) + static_cast<unsigned>(y));
  } else if constexpr (std::is_integral_v<T>) {
    using W = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<W>(x) + static_cast<W>(y));
  } else {
    return x + y;
  }
}

template <class T>
void add_transposed_scalar(const T* x, std::int64_t ldx, const T* a, std::int64_t lda, T* o,
                           std::int64_t ldo, std::int64_t ni, std::int64_t nj) {
  for (std::int64_t ib = 0; ib < ni; ib += tile) {
    const std::int64_t ie = std::min(ni, ib + tile);
    for (std::int64_t jb = 0; jb < nj; jb += tile) {
      const std::int64_t je = std::min(nj, jb + tile);
      for (std::int64_t i = ib; i < ie; ++i) {
        for (std::int64_t j = jb; j < je; ++j) o[i * ldo + j] = add_values(x[i * ldx + j], a[j * lda + i]);
      }
    }
  }
}

#if defined(__x86_64__)
#define TESSERA_AVX2 __attribute__((target("avx2")))
#define TESSERA_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

bool cpu_has_avx2() noexcept {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

// 4x4 float64 (any 8-byte item) register transpose: rows r0..r3 -> columns c0..c3.
TESSERA_AVX2_INLINE void tr4x4(__m256d& r0, __m256d& r1, __m256d& r2, __m256d& r3) {
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  r0 = _mm256_permute2f128_pd(t0, t2, 0x20);
  r1 = _mm256_permute2f128_pd(t1, t3, 0x20);
  r2 = _mm256_permute2f128_pd(t0, t2, 0x31);
  r3 = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// 8x8 float32 (any 4-byte item) register transpose.
TESSERA_AVX2_INLINE void tr8x8(__m256* r) {
  __m256 t[8], s[8];
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 2; ++k) {
    s[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
    s[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
    s[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
    s[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x20);
    r[k + 4] = _mm256_permute2f128_ps(s[k], s[k + 4], 0x31);
  }
}

// V: items per register row (4 for 8-byte, 8 for 4-byte items). With x != nullptr, adds the
// x tile (float add for float dtypes, wrapping integer add otherwise: kind 0 f64, 1 i64, 2 f32, 3 i32).
template <int Kind, bool NT>
TESSERA_AVX2_INLINE void micro_tile(const void* av, std::int64_t lda, const void* xv, std::int64_t ldx,
                                    void* ov, std::int64_t ldo) {
  if constexpr (Kind <= 1) {
    const auto* a = static_cast<const double*>(av);
    auto* o = static_cast<double*>(ov);
    __m256d r[4];
    for (int k = 0; k < 4; ++k) r[k] = _mm256_loadu_pd(a + k * lda);
    tr4x4(r[0], r[1], r[2], r[3]);
    for (int k = 0; k < 4; ++k) {
      if (xv != nullptr) {
        const auto* x = static_cast<const double*>(xv) + k * ldx;
        if constexpr (Kind == 0) {
          r[k] = _mm256_add_pd(r[k], _mm256_loadu_pd(x));
        } else {
          r[k] = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(r[k]),
                                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))));
        }
      }
      if constexpr (NT) _mm256_stream_pd(o + k * ldo, r[k]);
      else _mm256_storeu_pd(o + k * ldo, r[k]);
    }
  } else {
    const auto* a = static_cast<const float*>(av);
    auto* o = static_cast<float*>(ov);
    __m256 r[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(a + k * lda);
    tr8x8(r);
    for (int k = 0; k < 8; ++k) {
      if (xv != nullptr) {
        const auto* x = static_cast<const float*>(xv) + k * ldx;
        if constexpr (Kind == 2) {
          r[k] = _mm256_add_ps(r[k], _mm256_loadu_ps(x));
        } else {
          r[k] = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(r[k]),
                                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))));
        }
      }
      if constexpr (NT) _mm256_stream_ps(o + k * ldo, r[k]);
      else _mm256_storeu_ps(o + k * ldo, r[k]);
    }
  }
}

// O[i][j] = (X[i][j] +) A[j][i] with register micro-tiles inside TI x TJ cache tiles; T is the
// item type (uint64_t/double/int64_t for kinds 0-1, float/uint32_t/int32_t for 2-3). With NT the
// micro-tile rows go out as streaming stores (O and ldo 32-byte aligned; see tiled_dispatch).
template <int Kind, bool NT, std::int64_t TI, std::int64_t TJ, class T>
TESSERA_AVX2 void tiled_avx2(const T* a, std::int64_t lda, const T* x, std::int64_t ldx, T* o,
                             std::int64_t ldo, std::int64_t ni, std::int64_t nj) {
  constexpr std::int64_t v = Kind <= 1 ? 4 : 8;
  for (std::int64_t ib = 0; ib < ni; ib += TI) {
    const std::int64_t ie = std::min(ni, ib + TI);
    for (std::int64_t jb = 0; jb < nj; jb += TJ) {
      const std::int64_t je = std::min(nj, jb + TJ);
      std::int64_t i = ib;
      for (; i + v <= ie; i += v) {
        std::int64_t j = jb;
        for (; j + v <= je; j += v) {
          micro_tile<Kind, NT>(a + j * lda + i, lda, x != nullptr ? x + i * ldx + j : nullptr, ldx,
                               o + i * ldo + j, ldo);
        }
        for (; j < je; ++j) {
          for (std::int64_t k = i; k < i + v; ++k) {
            o[k * ldo + j] = x != nullptr ? add_values(x[k * ldx + j], a[j * lda + k]) : a[j * lda + k];
          }
        }
      }
      for (; i < ie; ++i) {
        for (std::int64_t j = jb; j < je; ++j) {
          o[i * ldo + j] = x != nullptr ? add_values(x[i * ldx + j], a[j * lda + i]) : a[j * lda + i];
        }
      }
    }
  }
  if constexpr (NT) _mm_sfence();  // order the streaming stores before the result is published
}

// Output at least this big does not stay in cache anyway: write it with streaming stores (no
// read-for-ownership) from wide tiles that read long runs of each input row (measured on a 2-core
// EPYC: 2000x2000 float64 transpose 5-8 GB/s with 32x32 tiles and plain stores, ~25 GB/s so;
// add_transposed ~18 GB/s counting 2 reads + 1 write).
constexpr std::size_t streaming_bytes = std::size_t{8} << 20;

template <int Kind, class T>
void tiled_dispatch(const T* a, std::int64_t lda, const T* x, std::int64_t ldx, T* o, std::int64_t ldo,
                    std::int64_t ni, std::int64_t nj) {
  const bool big = static_cast<std::size_t>(ni) * static_cast<std::size_t>(nj) * sizeof(T) >= streaming_bytes;
  const bool aligned = reinterpret_cast<std::uintptr_t>(o) % 32 == 0 &&
                       (static_cast<std::size_t>(ldo) * sizeof(T)) % 32 == 0;
  constexpr auto item = static_cast<std::int64_t>(sizeof(T));
  if (big && aligned && x != nullptr) {
    // a + b.T: 512 B of each b row, 2 KiB runs of each a and output row per tile
    tiled_avx2<Kind, true, 512 / item, 2048 / item>(a, lda, x, ldx, o, ldo, ni, nj);
  } else if (big && aligned) {
    // 8 KiB of each input row per tile; each output row gets whole 64-byte lines
    tiled_avx2<Kind, true, 8192 / item, 64 / item>(a, lda, x, ldx, o, ldo, ni, nj);
  } else {
    tiled_avx2<Kind, false, tile, tile>(a, lda, x, ldx, o, ldo, ni, nj);
  }
}
#endif  // __x86_64__

// B = A^T for one 2-D slab; picks the register-tiled kernel when the CPU has AVX2.
template <class U>
void transpose2d(const U* a, std::int64_t lda, U* b, std::int64_t ldb, std::int64_t ni, std::int64_t nj) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) {
    if constexpr (sizeof(U) == 8) {
      tiled_dispatch<1, std::uint64_t>(reinterpret_cast<const std::uint64_t*>(a), lda, nullptr, 0,
                                       reinterpret_cast<std::uint64_t*>(b), ldb, ni, nj);
      return;
    } else if constexpr (sizeof(U) == 4) {
      tiled_dispatch<3, std::uint32_t>(reinterpret_cast<const std::uint32_t*>(a), lda, nullptr, 0,
                                       reinterpret_cast<std::uint32_t*>(b), ldb, ni, nj);
      return;
    }
  }
#endif
  transpose2d_scalar(a, lda, b, ldb, ni, nj);
}

// Blocked copy for a permutation where output dim p reads the input's contiguous axis and the
// output's contiguous (last) dim q reads with stride sq: a 2-D tile transpose per outer index.
template <class U>
void blocked_transpose(const U* src, const std::vector<std::int64_t>& in_strides,
                       const Shape& out_shape, std::size_t p, U* dst) {
  const std::size_t nd = out_shape.size();
  const std::size_t q = nd - 1;
  const auto ost = c_strides(out_shape);
  const std::int64_t np_ = out_shape[p], nq = out_shape[q];
  const std::int64_t sq = in_strides[q];  // input stride along output dim q
  const std::int64_t op = ost[p];         // output stride along p
  std::vector<std::size_t> others;
  for (std::size_t d = 0; d < nd; ++d) {
    if (d != p && d != q) others.push_back(d);
  }
  std::vector<std::int64_t> idx(others.size(), 0);
  std::int64_t outer = 1;
  for (auto d : others) outer *= out_shape[d];
  for (std::int64_t k = 0; k < outer; ++k) {
    std::int64_t ioff = 0, ooff = 0;
    for (std::size_t t = 0; t < others.size(); ++t) {
      ioff += idx[t] * in_strides[others[t]];
      ooff += idx[t] * ost[others[t]];
    }
    transpose2d(src + ioff, sq, dst + ooff, op, np_, nq);
    for (std::size_t t = others.size(); t-- > 0;) {
      if (++idx[t] < out_shape[others[t]]) break;
      idx[t] = 0;
    }
  }
}

template <class F>
void by_item_size(std::size_t item, F&& f) {
  switch (item) {
    case 1: f(std::uint8_t{}); return;
    case 4: f(std::uint32_t{}); return;
    default: f(std::uint64_t{}); return;
  }
}

}  // namespace

void detail::transpose_tile(const void* a, std::int64_t lda, void* b, std::int64_t ldb, std::int64_t ni,
                            std::int64_t nj, std::size_t item) {
#if defined(__x86_64__)
  // In-cache destination: 512-byte runs of each source row per cache tile (the evaluator's tiles
  // are 64 float64 rows high), plain stores.
  if (cpu_has_avx2() && item == 8) {
    tiled_avx2<1, false, 64, 32>(static_cast<const std::uint64_t*>(a), lda, static_cast<const std::uint64_t*>(nullptr), 0,
                                 static_cast<std::uint64_t*>(b), ldb, ni, nj);
    return;
  }
  if (cpu_has_avx2() && item == 4) {
    tiled_avx2<3, false, 128, 64>(static_cast<const std::uint32_t*>(a), lda, static_cast<const std::uint32_t*>(nullptr), 0, static_cast<std::uint32_t*>(b), ldb,
                                  ni, nj);
    return;
  }
#endif
  by_item_size(item, [&](auto u) {
    using U = decltype(u);
    transpose2d(static_cast<const U*>(a), lda, static_cast<U*>(b), ldb, ni, nj);
  });
}

NDArray transpose(const NDArray& a, const std::vector<int>& axes_in) {
  const int nd = a.ndim();
  std::vector<int> perm(static_cast<std::size_t>(nd));
  if (axes_in.empty()) {
    for (int d = 0; d < nd; ++d) perm[static_cast<std::size_t>(d)] = nd - 1 - d;
  } else {
    if (static_cast<int>(axes_in.size()) != nd) {
      TESSERA_THROW(ShapeError, "transpose: axes don't match array of shape ", to_string(a.shape()));
    }
    std::vector<char> seen(static_cast<std::size_t>(nd), 0);
    for (int d = 0; d < nd; ++d) {
      const int ax = detail::normalize_axis(axes_in[static_cast<std::size_t>(d)], nd, "transpose", a.shape());
      if (seen[static_cast<std::size_t>(ax)]++) {
        TESSERA_THROW(ShapeError, "transpose: repeated axis in transpose of shape ", to_string(a.shape()));
      }
      perm[static_cast<std::size_t>(d)] = ax;
    }
  }
  Shape out_shape(static_cast<std::size_t>(nd));
  const auto st = c_strides(a.shape());
  std::vector<std::int64_t> in_strides(static_cast<std::size_t>(nd));
  for (std::size_t d = 0; d < out_shape.size(); ++d) {
    out_shape[d] = a.shape()[static_cast<std::size_t>(perm[d])];
    in_strides[d] = st[static_cast<std::size_t>(perm[d])];
  }
  NDArray out = NDArray::empty(out_shape, a.dtype());
  if (out.size() == 0) return out;
  // The output dim reading the input's last (contiguous) axis, unless that axis is trivial.
  std::size_t p = out_shape.size();
  for (std::size_t d = 0; d < out_shape.size(); ++d) {
    if (perm[d] == nd - 1 && out_shape[d] > 1) p = d;
  }
  const bool blocked = nd >= 2 && p < out_shape.size() - 1 && out_shape.back() > 1;
  by_item_size(a.item_bytes(), [&](auto u) {
    using U = decltype(u);
    const U* src = reinterpret_cast<const U*>(a.bytes());
    U* dst = reinterpret_cast<U*>(out.mutable_bytes());
    if (blocked) blocked_transpose(src, in_strides, out_shape, p, dst);
    else strided_copy(src, in_strides, out_shape, dst);
  });
  return out;
}

NDArray add_transposed(const NDArray& a_in, const NDArray& b_in) {
  const bool ok = a_in.ndim() == 2 && b_in.ndim() == 2 && b_in.shape()[0] == a_in.shape()[1] &&
                  b_in.shape()[1] == a_in.shape()[0];
  if (!ok) {
    TESSERA_THROW(ShapeError, "add_transposed: a + b.T needs 2-d a of shape (n, m) and b of shape (m, n), "
                  "got ", to_string(a_in.shape()), " and ", to_string(b_in.shape()));
  }
  const DType dt = promote(a_in.dtype(), b_in.dtype());
  const NDArray a = a_in.dtype() == dt ? a_in : a_in.astype(dt);
  const NDArray b = b_in.dtype() == dt ? b_in : b_in.astype(dt);
  NDArray out = NDArray::empty(a.shape(), dt);
  if (out.size() == 0) return out;
  const std::int64_t n = a.shape()[0], m = a.shape()[1];
  visit_dtype(dt, [&](auto t) {
    using T = decltype(t);
    const T* x = a.data<T>().data();
    const T* bt = b.data<T>().data();
    T* o = out.mutable_data<T>().data();
#if defined(__x86_64__)
    if (cpu_has_avx2()) {
      if constexpr (std::is_same_v<T, double>) return tiled_dispatch<0, T>(bt, n, x, m, o, m, n, m);
      if constexpr (std::is_same_v<T, std::int64_t>) return tiled_dispatch<1, T>(bt, n, x, m, o, m, n, m);
      if constexpr (std::is_same_v<T, float>) return tiled_dispatch<2, T>(bt, n, x, m, o, m, n, m);
      if constexpr (std::is_same_v<T, std::int32_t>) return tiled_dispatch<3, T>(bt, n, x, m, o, m, n, m);
    }
#endif
    add_transposed_scalar<T>(x, m, bt, n, o, m, n, m);
  });
  return out;
}

SliceRange resolve(const Slice& s, std::int64_t n) {
  if (s.step == 0) TESSERA_THROW(ShapeError, "slice step cannot be zero");
  const std::int64_t step = s.step;
  std::int64_t start, stop;
  if (step > 0) {
    start = s.start ? *s.start : 0;
    stop = s.stop ? *s.stop : n;
    if (start < 0) start = std::max<std::int64_t>(start + n, 0);
    if (stop < 0) stop = std::max<std::int64_t>(stop + n, 0);
    start = std::min(start, n);
    stop = std::min(stop, n);
  } else {
    start = s.start ? *s.start : n - 1;
    stop = s.stop ? *s.stop : -n - 1;
    if (start < 0) start = std::max<std::int64_t>(start + n, -1);
    if (stop < 0) stop = std::max<std::int64_t>(stop + n, -1);
    start = std::min(start, n - 1);
    stop = std::min(stop, n - 1);
  }
  std::int64_t count = 0;
  if (step > 0 && stop > start) count = (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) count = (start - stop - 1) / (-step) + 1;
  return {start, count, step};
}

NDArray slice(const NDArray& a, const std::vector<Slice>& slices) {
  if (slices.size() > a.shape().size()) {
    TESSERA_THROW(ShapeError, "slice: too many indices (", slices.size(), ") for array of shape ",
                  to_string(a.shape()));
  }
  const auto st = c_strides(a.shape());
  Shape out_shape = a.shape();
  std::vector<std::int64_t> strides(st);
  std::int64_t base = 0;
  for (std::size_t d = 0; d < slices.size(); ++d) {
    const SliceRange r = resolve(slices[d], a.shape()[d]);
    out_shape[d] = r.count;
    if (r.count > 0) base += r.start * st[d];
    strides[d] = r.step * st[d];
  }
  NDArray out = NDArray::empty(out_shape, a.dtype());
  if (out.size() == 0) return out;
  by_item_size(a.item_bytes(), [&](auto u) {
    using U = decltype(u);
    strided_copy(reinterpret_cast<const U*>(a.bytes()) + base, strides, out_shape,
                 reinterpret_cast<U*>(out.mutable_bytes()));
  });
  return out;
}

void copy_into(NDArray& dst, const std::vector<std::int64_t>& off, const NDArray& src_in) {
  const Shape& ds = dst.shape();
  const Shape& ss = src_in.shape();
  bool fits = off.size() == ds.size() && ss.size() == ds.size();
  for (std::size_t d = 0; fits && d < ds.size(); ++d) fits = off[d] >= 0 && off[d] + ss[d] <= ds[d];
  if (!fits) {
    std::ostringstream os;
    os << '(';
    for (std::size_t d = 0; d < off.size(); ++d) os << (d ? ", " : "") << off[d];
    os << ')';
    TESSERA_THROW(ShapeError, "copy_into: block of shape ", to_string(ss), " at offset ", os.str(),
                  " does not fit destination of shape ", to_string(ds));
  }
  std::byte* out = dst.mutable_bytes();
  if (src_in.size() == 0) return;
  const NDArray src = src_in.astype(dst.dtype());
  const std::size_t item = dst.item_bytes();
  const auto dst_st = c_strides(ds);
  std::int64_t base = 0;
  for (std::size_t d = 0; d < ds.size(); ++d) base += off[d] * dst_st[d];
  if (ss.empty()) {
    std::memcpy(out + static_cast<std::size_t>(base) * item, src.bytes(), item);
    return;
  }
  const std::size_t nd = ss.size();
  const std::int64_t inner = ss[nd - 1];
  const std::int64_t rows = src.size() / inner;
  std::vector<std::int64_t> idx(nd, 0);
  std::int64_t o = base;
  for (std::int64_t r = 0; r < rows; ++r) {
    std::memcpy(out + static_cast<std::size_t>(o) * item, src.bytes() + static_cast<std::size_t>(r * inner) * item,
                static_cast<std::size_t>(inner) * item);
    for (std::size_t d = nd - 1; d-- > 0;) {
      ++idx[d];
      o += dst_st[d];
      if (idx[d] < ss[d]) break;
      o -= idx[d] * dst_st[d];
      idx[d] = 0;
    }
  }
}

NDArray concatenate(std::span<const NDArray> arrays, int axis_in) {
  if (arrays.empty()) TESSERA_THROW(ShapeError, "concatenate: need at least one array");
  const Shape& s0 = arrays[0].shape();
  if (s0.empty()) TESSERA_THROW(ShapeError, "concatenate: zero-dimensional arrays cannot be concatenated");
  const int axis = detail::normalize_axis(axis_in, static_cast<int>(s0.size()), "concatenate", s0);
  Shape out_shape = s0;
  out_shape[static_cast<std::size_t>(axis)] = 0;
  DType dt = arrays[0].dtype();
  for (const auto& a : arrays) {
    bool ok = a.shape().size() == s0.size();
    for (std::size_t d = 0; ok && d < s0.size(); ++d) ok = d == static_cast<std::size_t>(axis) || a.shape()[d] == s0[d];
    if (!ok) {
      TESSERA_THROW(ShapeError, "concatenate: all the input array dimensions except for the "
                    "concatenation axis ", axis, " must match: shape ", to_string(s0), " vs shape ",
                    to_string(a.shape()));
    }
    out_shape[static_cast<std::size_t>(axis)] += a.shape()[static_cast<std::size_t>(axis)];
    dt = promote(dt, a.dtype());
  }
  NDArray out = NDArray::empty(out_shape, dt);
  std::vector<std::int64_t> off(s0.size(), 0);
  for (const auto& a : arrays) {
    copy_into(out, off, a);
    off[static_cast<std::size_t>(axis)] += a.shape()[static_cast<std::size_t>(axis)];
  }
  return out;
}

NDArray stack(std::span<const NDArray> arrays, int axis_in) {
  if (arrays.empty()) TESSERA_THROW(ShapeError, "stack: need at least one array");
  const Shape& s0 = arrays[0].shape();
  const int axis = detail::normalize_axis(axis_in, static_cast<int>(s0.size()) + 1, "stack", s0);
  std::vector<NDArray> parts;
  for (const auto& a : arrays) {
    if (a.shape() != s0) {
      TESSERA_THROW(ShapeError, "stack: all input arrays must have the same shape: ", to_string(s0),
                    " vs ", to_string(a.shape()));
    }
    Shape s = s0;
    s.insert(s.begin() + axis, 1);
    parts.push_back(a.reshape(s));
  }
  return concatenate(parts, axis);
}

namespace {
template <class T>
void int_matmul(const T* a, const T* b, T* c, std::int64_t n, std::int64_t k, std::int64_t m) {
  std::vector<std::int64_t> acc(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < n; ++i) {
    std::fill(acc.begin(), acc.end(), 0);
    for (std::int64_t p = 0; p < k; ++p) {
      const auto x = static_cast<std::uint64_t>(static_cast<std::int64_t>(a[i * k + p]));
      const T* brow = b + p * m;
      for (std::int64_t j = 0; j < m; ++j) {
        acc[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(
            static_cast<std::uint64_t>(acc[static_cast<std::size_t>(j)]) + x * static_cast<std::uint64_t>(static_cast<std::int64_t>(brow[j])));
      }
    }
    for (std::int64_t j = 0; j < m; ++j) {
      if constexpr (std::is_same_v<T, bool>) c[i * m + j] = acc[static_cast<std::size_t>(j)] != 0;
      else c[i * m + j] = static_cast<T>(acc[static_cast<std::size_t>(j)]);
    }
  }
}
}  // namespace

NDArray matmul(const NDArray& a_in, const NDArray& b_in) {
  if (a_in.ndim() == 0 || b_in.ndim() == 0 || a_in.ndim() > 2 || b_in.ndim() > 2) {
    TESSERA_THROW(ShapeError, "matmul: operands must be 1-d or 2-d, got shapes ", to_string(a_in.shape()),
                  " and ", to_string(b_in.shape()));
  }
  const bool a1 = a_in.ndim() == 1, b1 = b_in.ndim() == 1;
  const DType dt = promote(a_in.dtype(), b_in.dtype());
  const NDArray a = a1 ? a_in.reshape({1, a_in.shape()[0]}).astype(dt) : a_in.astype(dt);
  const NDArray b = b1 ? b_in.reshape({b_in.shape()[0], 1}).astype(dt) : b_in.astype(dt);
  const std::int64_t n = a.shape()[0], k = a.shape()[1], k2 = b.shape()[0], m = b.shape()[1];
  if (k != k2) {
    TESSERA_THROW(ShapeError, "matmul: mismatch in core dimension: lhs shape ", to_string(a_in.shape()),
                  ", rhs shape ", to_string(b_in.shape()), " (", k, " != ", k2, ")");
  }
  Shape out_shape;
  if (!a1) out_shape.push_back(n);
  if (!b1) out_shape.push_back(m);
  NDArray c = NDArray::zeros({n, m}, dt);
  if (n > 0 && m > 0 && k > 0) {
    const auto bn = static_cast<int>(n), bk = static_cast<int>(k), bm = static_cast<int>(m);
    if (dt == DType::float64) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bn, bm, bk, 1.0, a.data<double>().data(), bk,
                  b.data<double>().data(), bm, 0.0, c.mutable_data<double>().data(), bm);
    } else if (dt == DType::float32) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bn, bm, bk, 1.0F, a.data<float>().data(), bk,
                  b.data<float>().data(), bm, 0.0F, c.mutable_data<float>().data(), bm);
    } else {
      visit_dtype(dt, [&](auto t) {
        using T = decltype(t);
        if constexpr (std::is_integral_v<T>) {
          int_matmul<T>(a.data<T>().data(), b.data<T>().data(), c.mutable_data<T>().data(), n, k, m);
        }
      });
    }
  }
  return c.reshape(out_shape);
}

NDArray tensordot(const NDArray& a, const NDArray& b, int n) {
  if (n < 0 || n > a.ndim() || n > b.ndim()) {
    TESSERA_THROW(ShapeError, "tensordot: cannot sum over ", n, " axes of shapes ", to_string(a.shape()),
                  " and ", to_string(b.shape()));
  }
  std::vector<int> aa, bb;
  for (int i = 0; i < n; ++i) {
    aa.push_back(a.ndim() - n + i);
    bb.push_back(i);
  }
  return tensordot(a, b, aa, bb);
}

NDArray tensordot(const NDArray& a, const NDArray& b, const std::vector<int>& a_axes_in,
                  const std::vector<int>& b_axes_in) {
  if (a_axes_in.size() != b_axes_in.size()) {
    TESSERA_THROW(ShapeError, "tensordot: ", a_axes_in.size(), " axes of a vs ", b_axes_in.size(), " axes of b");
  }
  std::vector<int> aa, bb;
  std::int64_t k = 1;
  for (std::size_t i = 0; i < a_axes_in.size(); ++i) {
    aa.push_back(detail::normalize_axis(a_axes_in[i], a.ndim(), "tensordot", a.shape()));
    bb.push_back(detail::normalize_axis(b_axes_in[i], b.ndim(), "tensordot", b.shape()));
    const auto ea = a.shape()[static_cast<std::size_t>(aa.back())];
    const auto eb = b.shape()[static_cast<std::size_t>(bb.back())];
    if (ea != eb) {
      TESSERA_THROW(ShapeError, "tensordot: shape-mismatch for sum: shapes ", to_string(a.shape()),
                    " and ", to_string(b.shape()), " (axis ", aa.back(), " vs ", bb.back(), ")");
    }
    k *= ea;
  }
  std::vector<int> pa, pb;
  Shape out_shape;
  std::int64_t m = 1, nn = 1;
  for (int d = 0; d < a.ndim(); ++d) {
    if (std::find(aa.begin(), aa.end(), d) == aa.end()) {
      pa.push_back(d);
      out_shape.push_back(a.shape()[static_cast<std::size_t>(d)]);
      m *= a.shape()[static_cast<std::size_t>(d)];
    }
  }
  pa.insert(pa.end(), aa.begin(), aa.end());
  pb = bb;
  for (int d = 0; d < b.ndim(); ++d) {
    if (std::find(bb.begin(), bb.end(), d) == bb.end()) {
      pb.push_back(d);
      out_shape.push_back(b.shape()[static_cast<std::size_t>(d)]);
      nn *= b.shape()[static_cast<std::size_t>(d)];
    }
  }
  const NDArray a2 = transpose(a, pa).reshape({m, k});
  const NDArray b2 = transpose(b, pb).reshape({k, nn});
  return matmul(a2, b2).reshape(out_shape);
}

}  // namespace tessera
