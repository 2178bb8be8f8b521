// The elementwise evaluator: scalar kernels and the tiled, fused evaluation of a program.
#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/core/hash.hpp>

#include <collections/array/kernel_util.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <type_traits>

namespace tessera {

using Op = ElementwiseProgram::OpCode;
using Ins = ElementwiseProgram::Instruction;

// ---------------------------------------------------------------------------------------------
// kernels

namespace {

template <class T>
using Wide = std::conditional_t<std::is_same_v<T, std::int32_t>, std::uint32_t,
             std::conditional_t<std::is_same_v<T, std::int64_t>, std::uint64_t, T>>;

template <class T>
T wrap_add(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a || b;
  else if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Wide<T>>(a) + static_cast<Wide<T>>(b));
  else return a + b;
}
template <class T>
T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Wide<T>>(a) - static_cast<Wide<T>>(b));
  else return a - b;
}
template <class T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a && b;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return static_cast<T>(unsigned(a) * unsigned(b));
  else if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Wide<T>>(a) * static_cast<Wide<T>>(b));
  else return a * b;
}

// NumPy's npy_divmod for floats: floor division and a remainder with the divisor's sign.
template <class T>
void float_divmod(T a, T b, T& fdiv, T& rem) {
  T mod = std::fmod(a, b);
  if (b == T(0)) {
    rem = mod;
    fdiv = a / b;
    return;
  }
  T div = (a - mod) / b;
  if (mod != T(0)) {
    if ((b < T(0)) != (mod < T(0))) {
      mod += b;
      div -= T(1);
    }
  } else {
    mod = std::copysign(T(0), b);
  }
  T fl;
  if (div != T(0)) {
    fl = std::floor(div);
    if (div - fl > T(0.5)) fl += T(1);
  } else {
    fl = std::copysign(T(0), a / b);
  }
  fdiv = fl;
  rem = mod;
}

template <class T>
T int_floordiv(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return wrap_sub<T>(T(0), a);
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  } else {
    return static_cast<T>(a / b);
  }
}
template <class T>
T int_mod(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
    T r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    return static_cast<T>(a % b);
  }
}
template <class T>
T int_pow(T base, T e, bool& bad) {
  if constexpr (std::is_signed_v<T>) {
    if (e < 0) {
      bad = true;
      return 0;
    }
  }
  using U = Wide<T>;
  U result = 1;
  U b = static_cast<U>(base);
  auto ee = static_cast<std::uint64_t>(e);
  while (ee) {
    if (ee & 1U) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    ee >>= 1U;
  }
  return static_cast<T>(result);
}

template <class T>
T minimum_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return (a <= b || a != a) ? a : b;
  else return a <= b ? a : b;
}
template <class T>
T maximum_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return (a >= b || a != a) ? a : b;
  else return a >= b ? a : b;
}

template <class T, class R, class F>
void binary_loop(const T* a, bool sa, const T* b, bool sb, R* out, std::int64_t n, F f) {
  if (sa && sb) {
    out[0] = f(a[0], b[0]);
  } else if (sa) {
    const T x = a[0];
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(x, b[i]);
  } else if (sb) {
    const T y = b[0];
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], y);
  } else {
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  }
}

template <class T>
void run_binary(BinaryOp op, const void* pa, bool sa, const void* pb, bool sb, void* pout,
                std::int64_t n) {
  const T* a = static_cast<const T*>(pa);
  const T* b = static_cast<const T*>(pb);
  T* o = static_cast<T*>(pout);
  bool* ob = static_cast<bool*>(pout);
  switch (op) {
    case BinaryOp::add: binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return wrap_add(x, y); }); return;
    case BinaryOp::sub:
      if constexpr (!std::is_same_v<T, bool>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return wrap_sub(x, y); });
      }
      return;
    case BinaryOp::mul: binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return wrap_mul(x, y); }); return;
    case BinaryOp::div:
      if constexpr (std::is_floating_point_v<T>) binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return x / y; });
      return;
    case BinaryOp::floordiv:
      if constexpr (std::is_floating_point_v<T>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { T d, r; float_divmod(x, y, d, r); return d; });
      } else if constexpr (!std::is_same_v<T, bool>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return int_floordiv(x, y); });
      }
      return;
    case BinaryOp::mod:
      if constexpr (std::is_floating_point_v<T>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { T d, r; float_divmod(x, y, d, r); return r; });
      } else if constexpr (!std::is_same_v<T, bool>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return int_mod(x, y); });
      }
      return;
    case BinaryOp::pow:
      if constexpr (std::is_floating_point_v<T>) {
        binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return static_cast<T>(std::pow(x, y)); });
      } else if constexpr (!std::is_same_v<T, bool>) {
        bool bad = false;
        binary_loop(a, sa, b, sb, o, n, [&bad](T x, T y) { return int_pow(x, y, bad); });
        if (bad) TESSERA_THROW(DTypeError, "pow: integers to negative integer powers are not allowed");
      }
      return;
    case BinaryOp::minimum: binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return minimum_of(x, y); }); return;
    case BinaryOp::maximum: binary_loop(a, sa, b, sb, o, n, [](T x, T y) { return maximum_of(x, y); }); return;
    case BinaryOp::equal: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x == y; }); return;
    case BinaryOp::not_equal: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x != y; }); return;
    case BinaryOp::less: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x < y; }); return;
    case BinaryOp::less_equal: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x <= y; }); return;
    case BinaryOp::greater: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x > y; }); return;
    case BinaryOp::greater_equal: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return x >= y; }); return;
    case BinaryOp::logical_and: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return bool(x) && bool(y); }); return;
    case BinaryOp::logical_or: binary_loop(a, sa, b, sb, ob, n, [](T x, T y) { return bool(x) || bool(y); }); return;
  }
}

template <class T, class R, class F>
void unary_loop(const T* a, R* out, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
}

template <class T>
void run_unary(UnaryOp op, const void* pa, void* pout, std::int64_t n) {
  const T* a = static_cast<const T*>(pa);
  T* o = static_cast<T*>(pout);
  bool* ob = static_cast<bool*>(pout);
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case UnaryOp::sqrt: unary_loop(a, o, n, [](T x) { return std::sqrt(x); }); return;
      case UnaryOp::exp: unary_loop(a, o, n, [](T x) { return std::exp(x); }); return;
      case UnaryOp::log: unary_loop(a, o, n, [](T x) { return std::log(x); }); return;
      case UnaryOp::sin: unary_loop(a, o, n, [](T x) { return std::sin(x); }); return;
      case UnaryOp::cos: unary_loop(a, o, n, [](T x) { return std::cos(x); }); return;
      case UnaryOp::tanh: unary_loop(a, o, n, [](T x) { return std::tanh(x); }); return;
      case UnaryOp::floor: unary_loop(a, o, n, [](T x) { return std::floor(x); }); return;
      case UnaryOp::ceil: unary_loop(a, o, n, [](T x) { return std::ceil(x); }); return;
      case UnaryOp::isnan: unary_loop(a, ob, n, [](T x) { return x != x; }); return;
      default: break;
    }
  } else if (op == UnaryOp::isnan) {
    std::memset(ob, 0, static_cast<std::size_t>(n));
    return;
  }
  switch (op) {
    case UnaryOp::neg:
      if constexpr (!std::is_same_v<T, bool>) unary_loop(a, o, n, [](T x) { return wrap_sub(T(0), x); });
      return;
    case UnaryOp::abs:
      if constexpr (std::is_floating_point_v<T>) {
        unary_loop(a, o, n, [](T x) { return std::abs(x); });
      } else if constexpr (std::is_signed_v<T>) {
        unary_loop(a, o, n, [](T x) { return x < 0 ? wrap_sub(T(0), x) : x; });
      } else {
        unary_loop(a, o, n, [](T x) { return x; });
      }
      return;
    case UnaryOp::logical_not: unary_loop(a, ob, n, [](T x) { return !bool(x); }); return;
    default: return;
  }
}

template <class T>
void run_where(const bool* c, bool sc, const T* a, bool sa, const T* b, bool sb, T* out,
               std::int64_t n) {
  const std::int64_t mc = sc ? 0 : -1;
  const std::int64_t ma = sa ? 0 : -1;
  const std::int64_t mb = sb ? 0 : -1;
  for (std::int64_t i = 0; i < n; ++i) out[i] = c[i & mc] ? a[i & ma] : b[i & mb];
}

// ---- broadcast gather of one input into a tile ------------------------------------------------

struct InputPlan {
  enum class Mode { contiguous, scalar, gather } mode = Mode::contiguous;
  const std::byte* base = nullptr;
  std::vector<std::int64_t> strides;  // in elements, per output dim, 0 where broadcast
  std::size_t item = 8;
};

template <class U>
void gather_typed(const InputPlan& plan, const Shape& out_shape, std::int64_t start,
                  std::int64_t n, U* dst) {
  const std::size_t nd = out_shape.size();
  std::vector<std::int64_t> idx(nd);
  std::int64_t rem = start;
  for (std::size_t d = nd; d-- > 0;) {
    idx[d] = rem % out_shape[d];
    rem /= out_shape[d];
  }
  std::int64_t off = 0;
  for (std::size_t d = 0; d < nd; ++d) off += idx[d] * plan.strides[d];
  const U* src = reinterpret_cast<const U*>(plan.base);
  const std::int64_t inner = out_shape[nd - 1];
  const std::int64_t s_inner = plan.strides[nd - 1];
  std::int64_t done = 0;
  while (done < n) {
    const std::int64_t run = std::min(n - done, inner - idx[nd - 1]);
    if (s_inner == 1) {
      std::memcpy(dst + done, src + off, static_cast<std::size_t>(run) * sizeof(U));
    } else if (s_inner == 0) {
      std::fill_n(dst + done, run, src[off]);
    } else {
      for (std::int64_t i = 0; i < run; ++i) dst[done + i] = src[off + i * s_inner];
    }
    done += run;
    off += run * s_inner;
    idx[nd - 1] += run;
    // carry
    for (std::size_t d = nd - 1; d > 0 && idx[d] == out_shape[d]; --d) {
      off -= idx[d] * plan.strides[d];
      idx[d] = 0;
      ++idx[d - 1];
      off += plan.strides[d - 1];
    }
  }
}

void gather(const InputPlan& plan, const Shape& out_shape, std::int64_t start, std::int64_t n,
            void* dst) {
  switch (plan.item) {
    case 1: gather_typed(plan, out_shape, start, n, static_cast<std::uint8_t*>(dst)); return;
    case 4: gather_typed(plan, out_shape, start, n, static_cast<std::uint32_t*>(dst)); return;
    default: gather_typed(plan, out_shape, start, n, static_cast<std::uint64_t*>(dst)); return;
  }
}

constexpr std::int64_t tile_elems = 2048;
// 2-d tiles (output rows x columns) when an input is read through a transpose: each tile of a
// transposed input is transposed into a buffer (L2) by the tiled transpose kernel, then the
// program runs row by row over the tile, reading the other inputs' rows in place. Tiles span
// whole rows up to 8192 columns, so that those rows stream; 64 rows read 512-byte runs of each
// row of a transposed float64 operand.
constexpr std::int64_t tile2_rows = 64;
constexpr std::int64_t tile2_cols = 8192;

// Per-thread scratch memory, grown as needed and never zeroed: a reduction evaluates a chunk
// window by window, and fresh (zeroed, page-faulted) buffers per window cost as much as the
// evaluation. `which` names independent buffers.
std::uint64_t* thread_scratch(int which, std::size_t words) {
  thread_local std::array<std::pair<std::unique_ptr<std::uint64_t[]>, std::size_t>, 2> bufs;
  auto& [p, cap] = bufs[static_cast<std::size_t>(which)];
  if (cap < words) {
    p = std::make_unique_for_overwrite<std::uint64_t[]>(words);
    cap = words;
  }
  return p.get();
}

// Outputs up to this size are recycled per thread (the window of a reduction).
constexpr std::size_t recycled_output_bytes = std::size_t{4} << 20;

// A new output array and its writable bytes; a window-sized one reuses this thread's last
// output buffer once nobody holds it any more.
std::pair<NDArray, std::byte*> new_output(const Shape& shape, DType dtype, bool recycle) {
  thread_local NDArray cached;
  const std::size_t bytes = static_cast<std::size_t>(shape_size(shape)) * item_size(dtype);
  if (!recycle || bytes == 0 || bytes > recycled_output_bytes) {
    NDArray out = NDArray::empty(shape, dtype);
    std::byte* b = out.mutable_bytes();
    return {std::move(out), b};
  }
  if (!(cached.unique() && cached.shape() == shape && cached.dtype() == dtype)) cached = NDArray::empty(shape, dtype);
  std::byte* b = cached.mutable_bytes();  // unique here
  return {cached, b};
}

// Runs a program's instructions over n elements; input instructions are resolved by a callback.
class Machine {
public:
  Machine(const std::vector<Ins>& code, const std::vector<std::uint64_t>& constants, std::int64_t width)
      : m_code(code),
        m_constants(constants),
        m_width(width),
        m_scratch(thread_scratch(0, code.size() * static_cast<std::size_t>(width))),
        ptr(code.size()),
        is_scalar(code.size()) {}

  /// Evaluates n (<= width) elements into root_dst (out_item bytes each); load(i, dst) must set
  /// ptr[i] and is_scalar[i] of input instruction i (dst is scratch it may fill).
  template <class Load>
  void run(std::int64_t n, std::byte* root_dst, std::size_t out_item, Load&& load) {
    const std::size_t root = m_code.size() - 1;
    for (std::size_t i = 0; i < m_code.size(); ++i) {
      const Ins& ins = m_code[i];
      void* dst = (i == root) ? static_cast<void*>(root_dst)
                              : static_cast<void*>(m_scratch + i * static_cast<std::size_t>(m_width));
      switch (ins.code) {
        case Op::input: load(i, dst); break;
        case Op::scalar_float:
        case Op::scalar_int:
          ptr[i] = &m_constants[i];
          is_scalar[i] = 1;
          break;
        case Op::astype: {
          const auto a = static_cast<std::size_t>(ins.a);
          is_scalar[i] = is_scalar[a];
          detail::convert(ptr[a], m_code[a].dtype, dst, ins.dtype, is_scalar[i] ? 1 : n);
          ptr[i] = dst;
          break;
        }
        case Op::unary: {
          const auto a = static_cast<std::size_t>(ins.a);
          is_scalar[i] = is_scalar[a];
          visit_dtype(m_code[a].dtype, [&](auto t) {
            run_unary<decltype(t)>(static_cast<UnaryOp>(ins.op), ptr[a], dst, is_scalar[i] ? 1 : n);
          });
          ptr[i] = dst;
          break;
        }
        case Op::binary: {
          const auto a = static_cast<std::size_t>(ins.a);
          const auto b = static_cast<std::size_t>(ins.b);
          is_scalar[i] = is_scalar[a] && is_scalar[b];
          visit_dtype(m_code[a].dtype, [&](auto t) {
            run_binary<decltype(t)>(static_cast<BinaryOp>(ins.op), ptr[a], is_scalar[a], ptr[b],
                                    is_scalar[b], dst, n);
          });
          ptr[i] = dst;
          break;
        }
        case Op::where: {
          const auto c = static_cast<std::size_t>(ins.a);
          const auto a = static_cast<std::size_t>(ins.b);
          const auto b = static_cast<std::size_t>(ins.c);
          is_scalar[i] = is_scalar[a] && is_scalar[b] && is_scalar[c];
          visit_dtype(ins.dtype, [&](auto t) {
            using T = decltype(t);
            run_where<T>(static_cast<const bool*>(ptr[c]), is_scalar[c],
                         static_cast<const T*>(ptr[a]), is_scalar[a],
                         static_cast<const T*>(ptr[b]), is_scalar[b], static_cast<T*>(dst),
                         is_scalar[i] ? 1 : n);
          });
          ptr[i] = dst;
          break;
        }
      }
    }
    // The root wrote straight into root_dst unless it is a load, a constant or scalar.
    if (is_scalar[root]) {
      for (std::int64_t k = 0; k < n; ++k) std::memcpy(root_dst + static_cast<std::size_t>(k) * out_item, ptr[root], out_item);
    } else if (ptr[root] != root_dst) {
      std::memcpy(root_dst, ptr[root], static_cast<std::size_t>(n) * out_item);
    }
  }

private:
  const std::vector<Ins>& m_code;
  const std::vector<std::uint64_t>& m_constants;
  std::int64_t m_width;
  std::uint64_t* m_scratch;

public:
  std::vector<const void*> ptr;
  std::vector<char> is_scalar;
};

// b[i * ldb + j] = a[i * sa + j * sb] for a generic strided 2-d read (items of `item` bytes).
void strided_tile(const std::byte* a, std::int64_t sa, std::int64_t sb, std::byte* b, std::int64_t ldb,
                  std::int64_t ni, std::int64_t nj, std::size_t item) {
  for (std::int64_t i = 0; i < ni; ++i) {
    for (std::int64_t j = 0; j < nj; ++j) {
      std::memcpy(b + static_cast<std::size_t>(i * ldb + j) * item, a + static_cast<std::size_t>(i * sa + j * sb) * item, item);
    }
  }
}

}  // namespace

NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs,
                 const Shape& full_shape, const EvaluateView& view) {
  const auto& code = program.instructions();
  if (static_cast<int>(inputs.size()) < program.num_inputs()) {
    TESSERA_THROW(ShapeError, "evaluate(", program.describe(), "): ", inputs.size(),
                  " inputs given, the program reads ", program.num_inputs());
  }
  Shape out_shape = full_shape;
  // Narrows axis `axis` of out_shape to [begin, end) (end < 0: to the extent); returns begin.
  const auto window = [&](std::size_t axis, std::int64_t begin, std::int64_t end, const char* what) {
    const std::int64_t stop = end < 0 ? full_shape[axis] : end;
    if (begin < 0 || begin > stop || stop > full_shape[axis]) {
      TESSERA_THROW(ShapeError, "evaluate(", program.describe(), "): ", what, " [", begin, ", ", end,
                    ") out of range for output shape ", to_string(full_shape));
    }
    out_shape[axis] = stop - begin;
    return begin;
  };
  std::int64_t r0 = 0;
  if (!out_shape.empty()) r0 = window(0, view.row_begin, view.row_end, "rows");
  std::int64_t c0 = 0;
  bool col_window = false;
  if (out_shape.size() >= 2 && (view.col_begin != 0 || view.col_end >= 0)) {
    c0 = window(1, view.col_begin, view.col_end, "columns");
    col_window = out_shape[1] != full_shape[1];
  }
  const std::size_t nd = out_shape.size();
  const std::int64_t total = shape_size(out_shape);
  auto [out, out_bytes] = new_output(out_shape, program.dtype(), view.scratch_output);

  // Plan every input instruction: strides (in elements) per output dimension, 0 where broadcast.
  std::vector<InputPlan> plans(code.size());
  // A window of columns reads every input row by row (2-d) or through the gather path.
  bool tiled = nd == 2 && col_window;
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i].code != Op::input) continue;
    const auto slot = static_cast<std::size_t>(code[i].ivalue);
    const NDArray& in = inputs[slot];
    if (in.dtype() != code[i].dtype) {
      TESSERA_THROW(DTypeError, "evaluate(", program.describe(), "): input ", code[i].ivalue,
                    " of shape ", to_string(in.shape()), ": expected dtype ",
                    dtype_name(code[i].dtype), ", actual dtype ", dtype_name(in.dtype()));
    }
    Shape s = in.shape();
    std::vector<std::int64_t> st = c_strides(s);
    bool permuted = slot < view.input_axes.size() && !view.input_axes[slot].empty();
    if (permuted) {  // the identity permutation reads the input as it is
      const auto& axes = view.input_axes[slot];
      bool identity = axes.size() == s.size();
      for (std::size_t d = 0; identity && d < axes.size(); ++d) identity = axes[d] == static_cast<int>(d);
      permuted = !identity;
    }
    if (permuted) {
      const auto& axes = view.input_axes[slot];
      std::vector<bool> seen(s.size(), false);
      bool ok = axes.size() == s.size();
      for (std::size_t d = 0; ok && d < axes.size(); ++d) {
        const int ax = axes[d];
        ok = ax >= 0 && static_cast<std::size_t>(ax) < s.size() && !seen[static_cast<std::size_t>(ax)];
        if (ok) seen[static_cast<std::size_t>(ax)] = true;
      }
      if (!ok) {
        TESSERA_THROW(ShapeError, "evaluate(", program.describe(), "): input ", code[i].ivalue, " of shape ",
                      to_string(in.shape()), ": axes are not a permutation of its axes");
      }
      Shape ps(s.size());
      std::vector<std::int64_t> pst(s.size());
      for (std::size_t d = 0; d < axes.size(); ++d) {
        ps[d] = s[static_cast<std::size_t>(axes[d])];
        pst[d] = st[static_cast<std::size_t>(axes[d])];
      }
      s = std::move(ps);
      st = std::move(pst);
    }
    bool ok = s.size() <= nd;
    for (std::size_t d = 0; ok && d < s.size(); ++d) {
      const auto a = detail::dim_from_end(s, d);
      ok = a == 1 || a == detail::dim_from_end(full_shape, d);
    }
    if (!ok) {
      TESSERA_THROW(ShapeError, "evaluate(", program.describe(), "): input ", code[i].ivalue,
                    " of shape ", to_string(s), permuted ? " (transposed)" : "",
                    " cannot be broadcast to output shape ", to_string(full_shape));
    }
    InputPlan& p = plans[i];
    p.item = in.item_bytes();
    p.strides.assign(nd, 0);
    for (std::size_t d = 0; d < s.size(); ++d) {
      p.strides[nd - s.size() + d] = s[d] == 1 ? 0 : st[d];
    }
    p.base = in.bytes();
    if (nd > 0 && in.size() > 1) {
      std::int64_t off = r0 * p.strides[0];
      if (nd >= 2) off += c0 * p.strides[1];
      p.base += static_cast<std::size_t>(off) * p.item;
    }
    if (in.size() == 1) {
      p.mode = InputPlan::Mode::scalar;
    } else if (!permuted && !col_window && in.size() == shape_size(full_shape)) {
      p.mode = InputPlan::Mode::contiguous;
    } else {
      p.mode = InputPlan::Mode::gather;
      if (nd == 2 && p.strides[1] != 0 && p.strides[1] != 1) tiled = true;
    }
  }
  if (total == 0) return out;

  // Constants are materialized once, in their instruction dtype.
  std::vector<std::uint64_t> constants(code.size(), 0);
  for (std::size_t i = 0; i < code.size(); ++i) {
    const Ins& ins = code[i];
    if (ins.code != Op::scalar_float && ins.code != Op::scalar_int) continue;
    visit_dtype(ins.dtype, [&](auto t) {
      using T = decltype(t);
      const T v = ins.code == Op::scalar_float ? detail::cast_value<T>(ins.fvalue)
                                               : detail::cast_value<T>(ins.ivalue);
      std::memcpy(&constants[i], &v, sizeof(T));
    });
  }

  const std::size_t out_item = out.item_bytes();

  if (tiled) {
    // 2-d output with an input read across its rows (a transposed operand): tile by tile.
    const std::int64_t R = out_shape[0], C = out_shape[1];
    const std::int64_t TR = std::min(R, tile2_rows), TC = std::min(C, tile2_cols);
    Machine m(code, constants, TC);
    // One TR x TC buffer per transposed input, in this thread's scratch.
    std::vector<std::uint64_t*> tbuf(code.size(), nullptr);
    std::vector<std::size_t> transposed;
    for (std::size_t i = 0; i < code.size(); ++i) {
      const InputPlan& p = plans[i];
      if (code[i].code == Op::input && p.mode == InputPlan::Mode::gather && p.strides[1] != 0 && p.strides[1] != 1) {
        transposed.push_back(i);
      }
    }
    const auto tile_words = static_cast<std::size_t>(TR * TC);
    std::uint64_t* tmem = thread_scratch(1, transposed.size() * tile_words);
    for (std::size_t k = 0; k < transposed.size(); ++k) tbuf[transposed[k]] = tmem + k * tile_words;
    for (std::int64_t rb = 0; rb < R; rb += TR) {
      const std::int64_t tr = std::min(TR, R - rb);
      for (std::int64_t cb = 0; cb < C; cb += TC) {
        const std::int64_t tc = std::min(TC, C - cb);
        for (std::size_t i = 0; i < code.size(); ++i) {
          if (!tbuf[i]) continue;
          const InputPlan& p = plans[i];
          const std::byte* src = p.base + static_cast<std::size_t>(rb * p.strides[0] + cb * p.strides[1]) * p.item;
          auto* dst = reinterpret_cast<std::byte*>(tbuf[i]);
          if (p.strides[0] == 1) {
            detail::transpose_tile(src, p.strides[1], dst, TC, tr, tc, p.item);
          } else {
            strided_tile(src, p.strides[0], p.strides[1], dst, TC, tr, tc, p.item);
          }
        }
        for (std::int64_t r = 0; r < tr; ++r) {
          std::byte* o = out_bytes + static_cast<std::size_t>((rb + r) * C + cb) * out_item;
          m.run(tc, o, out_item, [&](std::size_t i, void* /*scratch*/) {
            const InputPlan& p = plans[i];
            if (p.mode == InputPlan::Mode::scalar) {
              m.ptr[i] = p.base;
              m.is_scalar[i] = 1;
            } else if (tbuf[i]) {
              m.ptr[i] = reinterpret_cast<const std::byte*>(tbuf[i]) + static_cast<std::size_t>(r * TC) * p.item;
              m.is_scalar[i] = 0;
            } else if (p.strides[1] == 0) {  // one value per row (column broadcast)
              m.ptr[i] = p.base + static_cast<std::size_t>((rb + r) * p.strides[0]) * p.item;
              m.is_scalar[i] = 1;
            } else {  // a row of a C-ordered (or row-broadcast) input, read in place
              m.ptr[i] = p.base + static_cast<std::size_t>((rb + r) * p.strides[0] + cb) * p.item;
              m.is_scalar[i] = 0;
            }
          });
        }
      }
    }
    return out;
  }

  const std::int64_t tile = std::min(total, tile_elems);
  Machine m(code, constants, tile);
  for (std::int64_t start = 0; start < total; start += tile) {
    const std::int64_t n = std::min(tile, total - start);
    std::byte* o = out_bytes + static_cast<std::size_t>(start) * out_item;
    m.run(n, o, out_item, [&](std::size_t i, void* dst) {
      const InputPlan& p = plans[i];
      if (p.mode == InputPlan::Mode::scalar) {
        m.ptr[i] = p.base;
        m.is_scalar[i] = 1;
      } else if (p.mode == InputPlan::Mode::contiguous) {
        m.ptr[i] = p.base + static_cast<std::size_t>(start) * p.item;
        m.is_scalar[i] = 0;
      } else {
        gather(p, out_shape, start, n, dst);
        m.ptr[i] = dst;
        m.is_scalar[i] = 0;
      }
    });
  }
  return out;
}

NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs,
                 const Shape& out_shape) {
  return evaluate(program, inputs, out_shape, EvaluateView{});
}

NDArray evaluate(const ElementwiseProgram& program, std::span<const NDArray> inputs) {
  Shape shape;
  for (int k = 0; k < program.num_inputs(); ++k) {
    shape = broadcast_shapes(shape, inputs[static_cast<std::size_t>(k)].shape());
  }
  return evaluate(program, inputs, shape);
}

// ---- one-shot operations ------------------------------------------------------------------

using P = ElementwiseProgram;

NDArray apply(UnaryOp op, const NDArray& a) {
  const NDArray in[] = {a};
  return evaluate(P::unary(op, P::input(0, a.dtype())), in, a.shape());
}

NDArray apply(BinaryOp op, const NDArray& a, const NDArray& b) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  const NDArray in[] = {a, b};
  return evaluate(P::binary(op, P::input(0, a.dtype()), P::input(1, b.dtype())), in, shape);
}

NDArray apply(BinaryOp op, const NDArray& a, Scalar s) {
  const NDArray in[] = {a};
  return evaluate(P::binary(op, P::input(0, a.dtype()), P::scalar(s)), in, a.shape());
}

NDArray apply(BinaryOp op, Scalar s, const NDArray& a) {
  const NDArray in[] = {a};
  return evaluate(P::binary(op, P::scalar(s), P::input(0, a.dtype())), in, a.shape());
}

NDArray where(const NDArray& cond, const NDArray& a, const NDArray& b) {
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape()), b.shape());
  const NDArray in[] = {cond, a, b};
  return evaluate(P::where(P::input(0, cond.dtype()), P::input(1, a.dtype()), P::input(2, b.dtype())),
                  in, shape);
}

NDArray clip(const NDArray& a, Scalar lo, Scalar hi) {
  const NDArray in[] = {a};
  return evaluate(P::clip(P::input(0, a.dtype()), P::scalar(lo), P::scalar(hi)), in, a.shape());
}

NDArray astype(const NDArray& a, DType dtype) { return a.astype(dtype); }

}  // namespace tessera
