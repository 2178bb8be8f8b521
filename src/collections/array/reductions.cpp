#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/collections/array/kernels/reductions.hpp>
#include <tessera/collections/array/kernels/structure.hpp>

#include <collections/array/kernel_util.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <memory>
#include <span>

namespace tessera {

DType result_dtype(ReduceOp op, DType t) noexcept {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::prod: return is_floating(t) ? t : DType::int64;
    case ReduceOp::min:
    case ReduceOp::max: return t;
    case ReduceOp::any:
    case ReduceOp::all: return DType::bool_;
    case ReduceOp::count_nonzero: return DType::int64;
  }
  return t;
}

std::vector<int> normalize_axes(const std::vector<int>& axes, const Shape& shape, const char* op) {
  const int nd = static_cast<int>(shape.size());
  std::vector<int> out;
  if (axes.empty()) {
    out.resize(static_cast<std::size_t>(nd));
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int a : axes) out.push_back(detail::normalize_axis(a, nd, op, shape));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    TESSERA_THROW(ShapeError, op, ": repeated axis for array of shape ", to_string(shape));
  }
  return out;
}

Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims) {
  Shape out;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const bool red = std::binary_search(axes.begin(), axes.end(), static_cast<int>(d));
    if (!red) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

namespace {

// ---- reducers -------------------------------------------------------------------------------

template <class T>
struct SumR {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
  static Acc init() { return 0; }
  static Acc step(Acc a, T x) { return join(a, static_cast<Acc>(x)); }
  static Acc join(Acc a, Acc b) {
    if constexpr (std::is_integral_v<Acc>) {
      return static_cast<Acc>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
    } else {
      return a + b;
    }
  }
};
template <class T>
struct ProdR {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
  static Acc init() { return 1; }
  static Acc step(Acc a, T x) { return join(a, static_cast<Acc>(x)); }
  static Acc join(Acc a, Acc b) {
    if constexpr (std::is_integral_v<Acc>) {
      return static_cast<Acc>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
    } else {
      return a * b;
    }
  }
};
template <class T>
struct MinR {
  using Acc = T;
  static Acc init() {
    if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  static Acc step(Acc a, T x) { return join(a, x); }
  static Acc join(Acc a, Acc x) {
    if constexpr (std::is_floating_point_v<T>) return (x < a || x != x) ? x : a;
    else return x < a ? x : a;
  }
};
template <class T>
struct MaxR {
  using Acc = T;
  static Acc init() {
    if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static Acc step(Acc a, T x) { return join(a, x); }
  static Acc join(Acc a, Acc x) {
    if constexpr (std::is_floating_point_v<T>) return (x > a || x != x) ? x : a;
    else return x > a ? x : a;
  }
};
template <class T>
struct AnyR {
  using Acc = bool;
  static Acc init() { return false; }
  static Acc step(Acc a, T x) { return a || (x != T(0)); }
  static Acc join(Acc a, Acc b) { return a || b; }
};
template <class T>
struct AllR {
  using Acc = bool;
  static Acc init() { return true; }
  static Acc step(Acc a, T x) { return a && (x != T(0)); }
  static Acc join(Acc a, Acc b) { return a && b; }
};
template <class T>
struct CountR {
  using Acc = std::int64_t;
  static Acc init() { return 0; }
  static Acc step(Acc a, T x) { return a + (x != T(0) ? 1 : 0); }
  static Acc join(Acc a, Acc b) { return a + b; }
};

// Sum of a float64 block of at most 1024: 16 independent accumulators written out so that the
// SLP vectorizer packs them into vector registers (memory-bandwidth bound on large arrays).
inline double sum_block(const double* p, std::int64_t n) {
  // GCC vector extension: 8 independent 2-lane chains stay in registers (SSE2 baseline).
  using V2 = double __attribute__((vector_size(16)));
  V2 r0 = {0, 0}, r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0;
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V2 v[8];
    std::memcpy(v, p + i, sizeof v);
    r0 += v[0];
    r1 += v[1];
    r2 += v[2];
    r3 += v[3];
    r4 += v[4];
    r5 += v[5];
    r6 += v[6];
    r7 += v[7];
  }
  const V2 t = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
  double a = t[0] + t[1];
  for (; i < n; ++i) a += p[i];
  return a;
}

// Reduces a contiguous run. Exact reducers (integer sums and products, which wrap in uint64
// arithmetic; counts; any/all; min/max of integers) give the same result in any order, so they
// are one plain left-to-right loop: the vectorizer's own reduction pattern, widening each
// element explicitly to the accumulator type. (An earlier 8-accumulator loop for these was
// miscompiled by GCC 12 at -O3 for uint8 into int64: a run of 16 ones summed to 8. The sweep in
// tests/unit/array/test_reduce_runs.cpp runs in the Release build to catch such a thing.)
// Floating sums and products use 8 independent accumulators per block of at most 1024 and
// pairwise halves above, for precision and speed; float64 sums a vector-extension block.
template <class R, class T>
typename R::Acc reduce_run(const T* p, std::int64_t n);

// Floating accumulators: 8 independent ones per block of at most 1024, pairwise halves above.
template <class R, class T>
typename R::Acc reduce_float_run(const T* p, std::int64_t n) {
  using Acc = typename R::Acc;
  if constexpr (std::is_same_v<R, SumR<double>>) {
    if (n <= 1024) return sum_block(p, n);
  }
  if (n < 8) {
    Acc a = R::init();
    for (std::int64_t i = 0; i < n; ++i) a = R::step(a, p[i]);
    return a;
  }
  if (n <= 1024) {
    Acc r[8];
    for (int j = 0; j < 8; ++j) r[j] = R::init();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int j = 0; j < 8; ++j) r[j] = R::step(r[j], p[i + j]);
    }
    Acc a = R::join(R::join(R::join(r[0], r[1]), R::join(r[2], r[3])),
                    R::join(R::join(r[4], r[5]), R::join(r[6], r[7])));
    for (; i < n; ++i) a = R::step(a, p[i]);
    return a;
  }
  std::int64_t half = n / 2;
  half -= half % 8;
  // Two statements: argument evaluation order is unspecified, and walking memory backwards
  // block by block defeats the hardware prefetcher (measured 3x slower).
  const Acc lo = reduce_run<R>(p, half);
  const Acc hi = reduce_run<R>(p + half, n - half);
  return R::join(lo, hi);
}

// Reduces a contiguous run. Exact reducers (integer sums and products, which wrap in uint64
// arithmetic; counts; any/all; min/max of integers) give the same result in any order, so they
// are one plain left-to-right loop, each element widened explicitly to the accumulator type:
// the vectorizer's own reduction pattern. (An 8-accumulator loop for these was miscompiled by
// GCC 12 at -O3 for uint8 into int64: a run of 16 ones summed to 8. tests/unit/array/
// test_reduce_runs.cpp checks every dtype and run length 1..4096 in the Release build.)
// Floating sums and products keep several accumulators and pairwise halves, for precision.
template <class R, class T>
typename R::Acc reduce_run(const T* p, std::int64_t n) {
  using Acc = typename R::Acc;
  if constexpr (std::is_floating_point_v<Acc>) {
    return reduce_float_run<R>(p, n);
  } else {
    Acc a = R::init();
    for (std::int64_t i = 0; i < n; ++i) a = R::step(a, p[i]);
    return a;
  }
}

template <template <class> class RT, class T>
void reduce_typed(const NDArray& in, const Shape& groups_shape, int pattern, NDArray& out) {
  using R = RT<T>;
  using Acc = typename R::Acc;
  const T* p = in.data<T>().data();
  const std::int64_t out_n = out.size();
  // an array, not std::vector: std::vector<bool> has no data()
  std::unique_ptr<Acc[]> acc_store(new Acc[static_cast<std::size_t>(out_n)]);
  Acc* acc_ptr = acc_store.get();
  std::span<Acc> acc(acc_ptr, static_cast<std::size_t>(out_n));
  if (pattern == 0) {  // [outer, R]
    const std::int64_t outer = groups_shape[0];
    const std::int64_t len = groups_shape[1];
    for (std::int64_t o = 0; o < outer; ++o) acc[static_cast<std::size_t>(o)] = reduce_run<R>(p + o * len, len);
  } else {  // [outer, R, inner]
    const std::int64_t outer = groups_shape[0];
    const std::int64_t len = groups_shape[1];
    const std::int64_t inner = groups_shape[2];
    for (std::int64_t o = 0; o < outer; ++o) {
      Acc* a = acc_ptr + o * inner;
      for (std::int64_t j = 0; j < inner; ++j) a[j] = R::init();
      for (std::int64_t r = 0; r < len; ++r) {
        const T* row = p + (o * len + r) * inner;
        for (std::int64_t j = 0; j < inner; ++j) a[j] = R::step(a[j], row[j]);
      }
    }
  }
  visit_dtype(out.dtype(), [&](auto t) {
    using O = decltype(t);
    auto dst = out.mutable_data<O>();
    for (std::int64_t i = 0; i < out_n; ++i) dst[static_cast<std::size_t>(i)] = detail::cast_value<O>(acc[static_cast<std::size_t>(i)]);
  });
}

template <class T>
void dispatch_reduce(ReduceOp op, const NDArray& in, const Shape& g, int pattern, NDArray& out) {
  switch (op) {
    case ReduceOp::sum: reduce_typed<SumR, T>(in, g, pattern, out); return;
    case ReduceOp::prod: reduce_typed<ProdR, T>(in, g, pattern, out); return;
    case ReduceOp::min: reduce_typed<MinR, T>(in, g, pattern, out); return;
    case ReduceOp::max: reduce_typed<MaxR, T>(in, g, pattern, out); return;
    case ReduceOp::any: reduce_typed<AnyR, T>(in, g, pattern, out); return;
    case ReduceOp::all: reduce_typed<AllR, T>(in, g, pattern, out); return;
    case ReduceOp::count_nonzero: reduce_typed<CountR, T>(in, g, pattern, out); return;
  }
}

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "prod", "min", "max", "any", "all", "count_nonzero"};
  return names[static_cast<std::size_t>(op)];
}

// Brings `a` into [outer, R] (pattern 0) or [outer, R, inner] (pattern 1) form, transposing a
// copy when the reduced axes are not one contiguous group.
NDArray canonical(const NDArray& a, const std::vector<int>& axes, Shape& groups, int& pattern) {
  const Shape& s = a.shape();
  std::vector<int> kept_before, reduced, kept_after;
  bool seen_reduced = false, split = false;
  for (int d = 0; d < static_cast<int>(s.size()); ++d) {
    if (s[static_cast<std::size_t>(d)] == 1) continue;  // size-1 axes do not matter
    const bool red = std::binary_search(axes.begin(), axes.end(), d);
    if (red) {
      if (!kept_after.empty()) split = true;
      reduced.push_back(d);
      seen_reduced = true;
    } else if (seen_reduced) {
      kept_after.push_back(d);
    } else {
      kept_before.push_back(d);
    }
  }
  auto prod_of = [&](const std::vector<int>& ds) {
    std::int64_t p = 1;
    for (int d : ds) p *= s[static_cast<std::size_t>(d)];
    return p;
  };
  if (!split) {
    const std::int64_t inner = prod_of(kept_after);
    if (inner == 1) {
      pattern = 0;
      groups = {prod_of(kept_before), prod_of(reduced)};
    } else {
      pattern = 1;
      groups = {prod_of(kept_before), prod_of(reduced), inner};
    }
    return a;
  }
  std::vector<int> perm;
  for (int d = 0; d < static_cast<int>(s.size()); ++d) {
    if (!std::binary_search(axes.begin(), axes.end(), d)) perm.push_back(d);
  }
  std::int64_t kept = 1;
  for (int d : perm) kept *= s[static_cast<std::size_t>(d)];
  for (int d : axes) perm.push_back(d);
  pattern = 0;
  groups = {kept, a.size() / std::max<std::int64_t>(kept, 1)};
  if (kept == 0) groups = {0, 0};
  return transpose(a, perm);
}

}  // namespace

DType accumulator_dtype(ReduceOp op, DType t) noexcept {
  if ((op == ReduceOp::sum || op == ReduceOp::prod) && t == DType::float32) return DType::float64;
  return result_dtype(op, t);
}

namespace {
NDArray reduce_into(ReduceOp op, const NDArray& a, const std::vector<int>& axes_in, bool keepdims, DType out_dtype) {
  const auto axes = normalize_axes(axes_in, a.shape(), reduce_name(op));
  const Shape out_shape = reduced_shape(a.shape(), axes, keepdims);
  NDArray out = NDArray::empty(out_shape, out_dtype);
  std::int64_t reduced_n = 1;
  for (int d : axes) reduced_n *= a.shape()[static_cast<std::size_t>(d)];
  if ((op == ReduceOp::min || op == ReduceOp::max) && reduced_n == 0 && out.size() > 0) {
    TESSERA_THROW(ShapeError, reduce_name(op), ": zero-size reduction over axes of array of shape ",
                  to_string(a.shape()), " has no identity");
  }
  if (out.size() == 0) return out;
  Shape groups;
  int pattern = 0;
  const NDArray in = canonical(a, axes, groups, pattern);
  visit_dtype(a.dtype(), [&](auto t) { dispatch_reduce<decltype(t)>(op, in, groups, pattern, out); });
  return out;
}
}  // namespace

NDArray reduce(ReduceOp op, const NDArray& a, const std::vector<int>& axes, bool keepdims) {
  return reduce_into(op, a, axes, keepdims, result_dtype(op, a.dtype()));
}

NDArray reduce_to_accumulator(ReduceOp op, const NDArray& a, const std::vector<int>& axes, bool keepdims) {
  return reduce_into(op, a, axes, keepdims, accumulator_dtype(op, a.dtype()));
}

NDArray count(const NDArray& a, const std::vector<int>& axes_in, bool keepdims) {
  const auto axes = normalize_axes(axes_in, a.shape(), "count");
  std::int64_t n = 1;
  for (int d : axes) n *= a.shape()[static_cast<std::size_t>(d)];
  return NDArray::full(reduced_shape(a.shape(), axes, keepdims), DType::int64, static_cast<double>(n));
}

// ---- moments ------------------------------------------------------------------------------

MomentState partial_moments(const NDArray& chunk, const std::vector<int>& axes_in, bool keepdims) {
  const auto axes = normalize_axes(axes_in, chunk.shape(), "partial_moments");
  const NDArray x = chunk.astype(DType::float64);
  MomentState s;
  s.count = count(chunk, axes, keepdims);
  const NDArray total = reduce(ReduceOp::sum, x, axes, true);
  const std::int64_t n = s.count.size() > 0 ? s.count.data<std::int64_t>()[0] : 0;
  NDArray mean_kd = n > 0 ? apply(BinaryOp::div, total, Scalar(static_cast<double>(n)))
                          : NDArray::zeros(total.shape(), DType::float64);
  using P = ElementwiseProgram;
  const auto dev = P::binary(BinaryOp::sub, P::input(0, DType::float64), P::input(1, DType::float64));
  const auto sq = P::binary(BinaryOp::mul, dev, dev);
  const NDArray in[] = {x, mean_kd};
  const NDArray sqdev = evaluate(sq, in, x.shape());
  const Shape out_shape = reduced_shape(chunk.shape(), axes, keepdims);
  s.m2 = reduce(ReduceOp::sum, sqdev, axes, keepdims);
  s.mean = mean_kd.reshape(out_shape);
  return s;
}

MomentState combine_moments(const MomentState& a, const MomentState& b) {
  if (a.count.shape() != b.count.shape()) {
    TESSERA_THROW(ShapeError, "combine_moments: partial states of shapes ",
                  to_string(a.count.shape()), " and ", to_string(b.count.shape()));
  }
  const Shape& shape = a.count.shape();
  MomentState r{NDArray::empty(shape, DType::int64), NDArray::empty(shape, DType::float64),
                NDArray::empty(shape, DType::float64)};
  auto na = a.count.data<std::int64_t>(), nb = b.count.data<std::int64_t>();
  auto ma = a.mean.data<double>(), mb = b.mean.data<double>();
  auto qa = a.m2.data<double>(), qb = b.m2.data<double>();
  auto nr = r.count.mutable_data<std::int64_t>();
  auto mr = r.mean.mutable_data<double>();
  auto qr = r.m2.mutable_data<double>();
  for (std::size_t i = 0; i < nr.size(); ++i) {
    const std::int64_t n = na[i] + nb[i];
    nr[i] = n;
    if (na[i] == 0 || nb[i] == 0) {
      mr[i] = na[i] == 0 ? mb[i] : ma[i];
      qr[i] = na[i] == 0 ? qb[i] : qa[i];
      continue;
    }
    if (!std::isfinite(ma[i]) || !std::isfinite(mb[i])) {
      // An infinite (or NaN) side: Chan's update would compute inf + (-inf) * w = NaN for a mean
      // of {inf, 1}. NumPy's mean is the sum's: inf + finite = inf, inf + -inf = NaN; the
      // variance of data holding an infinity is NaN (x - mean = inf - inf), as NumPy's.
      mr[i] = ma[i] + mb[i];
      qr[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const double fa = static_cast<double>(na[i]), fb = static_cast<double>(nb[i]);
    const double fn = static_cast<double>(n);
    const double delta = mb[i] - ma[i];
    mr[i] = ma[i] + delta * (fb / fn);
    qr[i] = qa[i] + qb[i] + delta * delta * (fa * fb / fn);
  }
  return r;
}

NDArray finalize_mean(const MomentState& s) {
  NDArray out = NDArray::empty(s.count.shape(), DType::float64);
  auto n = s.count.data<std::int64_t>();
  auto m = s.mean.data<double>();
  auto o = out.mutable_data<double>();
  for (std::size_t i = 0; i < o.size(); ++i) o[i] = n[i] > 0 ? m[i] : std::numeric_limits<double>::quiet_NaN();
  return out;
}

NDArray finalize_var(const MomentState& s, double ddof) {
  NDArray out = NDArray::empty(s.count.shape(), DType::float64);
  auto n = s.count.data<std::int64_t>();
  auto q = s.m2.data<double>();
  auto o = out.mutable_data<double>();
  for (std::size_t i = 0; i < o.size(); ++i) {
    // NumPy: max(n - ddof, 0) degrees of freedom; none left is m2 / 0 (inf, or NaN for m2 = 0).
    const double dof = std::max(static_cast<double>(n[i]) - ddof, 0.0);
    o[i] = q[i] / dof;
  }
  return out;
}

NDArray finalize_std(const MomentState& s, double ddof) { return apply(UnaryOp::sqrt, finalize_var(s, ddof)); }

// ---- argmin / argmax ----------------------------------------------------------------------

namespace {

// true if candidate x (at a later position) should replace best b
template <bool IsMin, class T>
inline bool better(T x, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b != b) return false;
    if (x != x) return true;
  }
  return IsMin ? x < b : x > b;
}

template <bool IsMin>
ArgResult arg_along(const NDArray& chunk, int axis_in, std::int64_t offset) {
  const int nd = chunk.ndim();
  const char* op = IsMin ? "argmin" : "argmax";
  const int axis = detail::normalize_axis(axis_in, nd, op, chunk.shape());
  const std::int64_t len = chunk.shape()[static_cast<std::size_t>(axis)];
  Shape out_shape = chunk.shape();
  out_shape.erase(out_shape.begin() + axis);
  ArgResult r{NDArray::empty(out_shape, chunk.dtype()), NDArray::empty(out_shape, DType::int64)};
  if (r.values.size() == 0) return r;
  if (len == 0) {
    TESSERA_THROW(ShapeError, op, ": attempt to get ", op, " of an empty sequence (axis ", axis_in,
                  " of shape ", to_string(chunk.shape()), ")");
  }
  std::vector<int> perm;
  for (int d = 0; d < nd; ++d) {
    if (d != axis) perm.push_back(d);
  }
  perm.push_back(axis);
  const NDArray rows = axis == nd - 1 ? chunk : transpose(chunk, perm);
  visit_dtype(chunk.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* p = rows.data<T>().data();
    auto vals = r.values.mutable_data<T>();
    auto idx = r.indices.mutable_data<std::int64_t>();
    for (std::size_t o = 0; o < vals.size(); ++o) {
      const T* row = p + static_cast<std::int64_t>(o) * len;
      T best = row[0];
      std::int64_t bi = 0;
      for (std::int64_t i = 1; i < len; ++i) {
        if (better<IsMin>(row[i], best)) {
          best = row[i];
          bi = i;
        }
      }
      vals[o] = best;
      idx[o] = bi + offset;
    }
  });
  return r;
}

template <bool IsMin>
ArgResult arg_flat(const NDArray& chunk, const Shape& off, const Shape& global) {
  const char* op = IsMin ? "argmin" : "argmax";
  const Shape& s = chunk.shape();
  if (off.size() != s.size() || global.size() != s.size()) {
    TESSERA_THROW(ShapeError, op, ": chunk of shape ", to_string(s), " at offset ", to_string(off),
                  " does not fit global shape ", to_string(global));
  }
  for (std::size_t d = 0; d < s.size(); ++d) {
    if (off[d] < 0 || off[d] + s[d] > global[d]) {
      TESSERA_THROW(ShapeError, op, ": chunk of shape ", to_string(s), " at offset ", to_string(off),
                    " does not fit global shape ", to_string(global));
    }
  }
  if (chunk.size() == 0) {
    TESSERA_THROW(ShapeError, op, ": attempt to get ", op, " of an empty chunk of shape ", to_string(s));
  }
  ArgResult r{NDArray::empty({}, chunk.dtype()), NDArray::empty({}, DType::int64)};
  std::int64_t bi = 0;
  visit_dtype(chunk.dtype(), [&](auto t) {
    using T = decltype(t);
    auto p = chunk.data<T>();
    T best = p[0];
    for (std::size_t i = 1; i < p.size(); ++i) {
      if (better<IsMin>(p[i], best)) {
        best = p[i];
        bi = static_cast<std::int64_t>(i);
      }
    }
    r.values.mutable_data<T>()[0] = best;
  });
  // local flat -> global flat
  std::int64_t g = 0, rem = bi;
  std::vector<std::int64_t> local(s.size());
  for (std::size_t d = s.size(); d-- > 0;) {
    local[d] = rem % s[d];
    rem /= s[d];
  }
  for (std::size_t d = 0; d < s.size(); ++d) g = g * global[d] + off[d] + local[d];
  r.indices.mutable_data<std::int64_t>()[0] = g;
  return r;
}

template <bool IsMin>
ArgResult arg_combine(const ArgResult& a, const ArgResult& b) {
  if (a.values.shape() != b.values.shape() || a.values.dtype() != b.values.dtype()) {
    TESSERA_THROW(ShapeError, IsMin ? "combine_argmin" : "combine_argmax", ": partials ",
                  dtype_name(a.values.dtype()), to_string(a.values.shape()), " and ",
                  dtype_name(b.values.dtype()), to_string(b.values.shape()), " differ");
  }
  ArgResult r{NDArray::empty(a.values.shape(), a.values.dtype()),
              NDArray::empty(a.values.shape(), DType::int64)};
  visit_dtype(a.values.dtype(), [&](auto t) {
    using T = decltype(t);
    auto av = a.values.data<T>(), bv = b.values.data<T>();
    auto ai = a.indices.data<std::int64_t>(), bi = b.indices.data<std::int64_t>();
    auto rv = r.values.mutable_data<T>();
    auto ri = r.indices.mutable_data<std::int64_t>();
    for (std::size_t i = 0; i < rv.size(); ++i) {
      bool take_b;
      const bool an = av[i] != av[i], bn = bv[i] != bv[i];
      if (an || bn) take_b = bn && (!an || bi[i] < ai[i]);
      else take_b = better<IsMin>(bv[i], av[i]) || (bv[i] == av[i] && bi[i] < ai[i]);
      rv[i] = take_b ? bv[i] : av[i];
      ri[i] = take_b ? bi[i] : ai[i];
    }
  });
  return r;
}

}  // namespace

ArgResult partial_argmin(const NDArray& c, int axis, std::int64_t off) { return arg_along<true>(c, axis, off); }
ArgResult partial_argmax(const NDArray& c, int axis, std::int64_t off) { return arg_along<false>(c, axis, off); }
ArgResult partial_argmin_flat(const NDArray& c, const Shape& o, const Shape& g) { return arg_flat<true>(c, o, g); }
ArgResult partial_argmax_flat(const NDArray& c, const Shape& o, const Shape& g) { return arg_flat<false>(c, o, g); }
ArgResult combine_argmin(const ArgResult& a, const ArgResult& b) { return arg_combine<true>(a, b); }
ArgResult combine_argmax(const ArgResult& a, const ArgResult& b) { return arg_combine<false>(a, b); }

}  // namespace tessera
