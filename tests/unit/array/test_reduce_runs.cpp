// The reduction kernel against a naive loop: every dtype, every reduction, every contiguous run
// length 1..4096 (a 1-d run and the misaligned second row of a (2, n) array). Built and run in
// the Release stage too: the kernel's 8-accumulator loop was miscompiled by GCC 12 at -O3 for
// uint8 (a run of 16 ones summed to 8), which a Debug build never shows.
#include <tessera/collections/array/kernels/reductions.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using tessera::DType;
using tessera::NDArray;
using tessera::ReduceOp;

namespace {

constexpr std::int64_t max_run = 4096;

// Values whose sums and products are exact in every summation order: full range for the
// integers (their sums wrap the same way in any order), small integers for the floats (+-1 for
// products, so that no order overflows).
// A plain buffer (std::vector<bool> has no data()).
template <class T>
std::unique_ptr<T[]> values(std::int64_t n, bool for_prod, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  auto v = std::make_unique<T[]>(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    T& x = v[static_cast<std::size_t>(i)];
    const std::uint64_t r = g();
    if constexpr (std::is_same_v<T, bool>) x = (r & 1U) != 0;
    else if constexpr (std::is_integral_v<T>) x = static_cast<T>(r);
    else if (for_prod) x = (r & 1U) ? T(1) : T(-1);
    else x = static_cast<T>(static_cast<int>(r % 17) - 8);
    if ((r >> 40) % 13 == 0) x = T(0);  // zeros, for any/all/count_nonzero
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      if ((r >> 48) % 5 == 0) x = 1;    // runs of ones: the miscompile's trigger
    }
  }
  return v;
}

// The result dtype's value of the naive left-to-right fold, as raw int64/double/bool bits.
template <class T>
std::int64_t naive_int(ReduceOp op, const T* p, std::int64_t n) {
  std::uint64_t a = (op == ReduceOp::prod || op == ReduceOp::all) ? 1 : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto x = static_cast<std::uint64_t>(static_cast<std::int64_t>(p[i]));
    switch (op) {
      case ReduceOp::sum: a += x; break;
      case ReduceOp::prod: a *= x; break;
      case ReduceOp::any: a = a || p[i] != T(0); break;
      case ReduceOp::all: a = a && p[i] != T(0); break;
      case ReduceOp::count_nonzero: a += p[i] != T(0) ? 1 : 0; break;
      default: break;
    }
  }
  return static_cast<std::int64_t>(a);
}

template <class T>
T naive_minmax(ReduceOp op, const T* p, std::int64_t n) {
  T a = p[0];
  for (std::int64_t i = 1; i < n; ++i) a = op == ReduceOp::min ? (p[i] < a ? p[i] : a) : (p[i] > a ? p[i] : a);
  return a;
}

template <class T>
double naive_float(ReduceOp op, const T* p, std::int64_t n) {
  double a = op == ReduceOp::prod ? 1 : 0;
  for (std::int64_t i = 0; i < n; ++i) a = op == ReduceOp::prod ? a * p[i] : a + p[i];
  return a;
}

// Expected result element as double (exact for these inputs) and the kernel's.
template <class T>
double expected(ReduceOp op, const T* p, std::int64_t n) {
  if (op == ReduceOp::min || op == ReduceOp::max) return static_cast<double>(naive_minmax(op, p, n));
  if constexpr (std::is_floating_point_v<T>) {
    if (op == ReduceOp::sum || op == ReduceOp::prod) return naive_float(op, p, n);
  }
  return static_cast<double>(naive_int(op, p, n));
}

// Bitwise int64 comparison for int64 results (doubles lose wrapped sums' low bits).
template <class T>
bool same_result(ReduceOp op, const NDArray& got, std::int64_t i, const T* p, std::int64_t n) {
  if (got.dtype() == DType::int64) {
    std::int64_t want = 0;
    if (op == ReduceOp::min || op == ReduceOp::max) want = static_cast<std::int64_t>(naive_minmax(op, p, n));
    else want = naive_int(op, p, n);
    return got.data<std::int64_t>()[static_cast<std::size_t>(i)] == want;
  }
  return got.value_as_double(i) == expected(op, p, n);
}

template <class T>
void sweep(ReduceOp op) {
  const DType t = tessera::dtype_of<T>();
  const bool for_prod = op == ReduceOp::prod;
  const auto data = values<T>(2 * max_run, for_prod, 1234 + static_cast<std::uint64_t>(op));
  int bad = 0;
  std::string first_bad;
  for (std::int64_t n = 1; n <= max_run; ++n) {
    // One run of n; and the two runs of a (2, n) array, the second starting at offset n.
    const T* one = data.get();
    const T* two = data.get();
    NDArray a1 = NDArray::empty({n}, t);
    NDArray a2 = NDArray::empty({2, n}, t);
    std::memcpy(a1.mutable_bytes(), one, static_cast<std::size_t>(n) * sizeof(T));
    std::memcpy(a2.mutable_bytes(), two, static_cast<std::size_t>(2 * n) * sizeof(T));
    const NDArray r1 = tessera::reduce(op, a1, {}, false);
    const NDArray r2 = tessera::reduce(op, a2, {-1}, false);
    const bool ok = same_result(op, r1, 0, one, n) && same_result(op, r2, 0, two, n) &&
                    same_result(op, r2, 1, two + n, n);
    if (!ok) {
      if (bad == 0) {
        first_bad = "n=" + std::to_string(n) + ": got " + std::to_string(r1.value_as_double(0)) +
                    ", naive " + std::to_string(expected(op, one, n));
      }
      ++bad;
    }
  }
  INFO(std::string(tessera::dtype_name(t)), " ", static_cast<int>(op), ": ", bad,
       " wrong run lengths of ", max_run, "; first ", first_bad);
  CHECK(bad == 0);
}

template <class T>
void sweep_all_ops() {
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::prod, ReduceOp::min, ReduceOp::max, ReduceOp::any,
                      ReduceOp::all, ReduceOp::count_nonzero}) {
    sweep<T>(op);
  }
}

}  // namespace

TEST_SUITE("array.reduce_runs") {
TEST_CASE("bool reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<bool>(); }
TEST_CASE("uint8 reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<std::uint8_t>(); }
TEST_CASE("int32 reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<std::int32_t>(); }
TEST_CASE("int64 reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<std::int64_t>(); }
TEST_CASE("float32 reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<float>(); }
TEST_CASE("float64 reductions equal a naive loop for every run length 1..4096") { sweep_all_ops<double>(); }
}
