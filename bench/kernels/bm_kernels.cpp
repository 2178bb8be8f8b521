// bm_kernels: measures the single-chunk kernels of collections/array against a STREAM-like triad
// run in the same process, so the numbers read as "fraction of this machine's bandwidth".
// Figures of merit: sum GB/s (1.6 GB float64, pre-touched), transpose+add GB/s (2000x2000),
// fused elementwise GB/s, normals/s, matmul GFLOP/s, and allocate+fill with/without BufferPool.
// Run a Release build: bench/kernels/bm_kernels [--quick]
#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/collections/array/kernels/reductions.hpp>
#include <tessera/collections/array/kernels/structure.hpp>
#include <tessera/collections/array/ndarray.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double best_of(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

volatile double g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  using namespace tessera;
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const std::int64_t big = quick ? 20'000'000 : 200'000'000;  // 1.6 GB of float64

  // ---- STREAM-like triad a = b + s*c on 3 x 8*N/4 bytes -------------------------------------
  const std::int64_t tn = big / 4;
  std::vector<double> ta(static_cast<std::size_t>(tn), 1.0), tb(static_cast<std::size_t>(tn), 2.0),
      tc(static_cast<std::size_t>(tn), 3.0);
  const double t_triad = best_of(5, [&] {
    double* a = ta.data();
    const double* b = tb.data();
    const double* c = tc.data();
    for (std::int64_t i = 0; i < tn; ++i) a[i] = b[i] + 3.0 * c[i];
    g_sink = g_sink + a[tn / 2];
  });
  const double triad_gbs = 3.0 * 8.0 * static_cast<double>(tn) / t_triad / 1e9;
  std::printf("triad            %8.2f GB/s  (3 x %.0f MB)\n", triad_gbs, 8.0 * static_cast<double>(tn) / 1e6);

  // ---- sum of a persistent, pre-touched 1.6 GB float64 array -----------------------------------
  {
    NDArray x = NDArray::full({big}, DType::float64, 1.0);
    const double t = best_of(3, [&] { g_sink = g_sink + sum(x).at<double>(); });
    // reference: a plain 4-accumulator loop over the same bytes, in this file
    const double t_raw = best_of(3, [&] {
      const double* p = x.data<double>().data();
      double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      for (std::int64_t i = 0; i + 4 <= big; i += 4) {
        r0 += p[i];
        r1 += p[i + 1];
        r2 += p[i + 2];
        r3 += p[i + 3];
      }
      g_sink = g_sink + r0 + r1 + r2 + r3;
    });
    std::printf("plain read loop  %8.2f GB/s  (same array, 4 accumulators)\n",
                static_cast<double>(x.nbytes()) / t_raw / 1e9);
    std::printf("sum float64      %8.2f GB/s  (%.2f GB, %.3f s)  = %.0f%% of triad\n",
                static_cast<double>(x.nbytes()) / t / 1e9, static_cast<double>(x.nbytes()) / 1e9, t,
                100.0 * static_cast<double>(x.nbytes()) / t / 1e9 / triad_gbs);
  }

  // ---- transpose + add, 2000 x 2000 float64 -------------------------------------------------------
  {
    const NDArray a = random_uniform(1, {2000, 2000}, {0, 0}, {2000, 2000});
    const NDArray b = random_uniform(2, {2000, 2000}, {0, 0}, {2000, 2000});
    double t_tr = 0;
    const double t = best_of(5, [&] {
      const auto t0 = Clock::now();
      const NDArray bt = transpose(b);
      t_tr = std::chrono::duration<double>(Clock::now() - t0).count();
      g_sink = g_sink + add(a, bt).at<double>(1, 2);
    });
    const double bytes = 3.0 * 32e6;  // read a, read b, write result
    std::printf("transpose+add    %8.2f GB/s  (%.2f ms; transpose alone %.2f ms = %.2f GB/s r+w)\n",
                bytes / t / 1e9, t * 1e3, t_tr * 1e3, 64e6 / t_tr / 1e9);
  }

  // ---- fused elementwise program: x * 2.5 + sqrt(y) ----------------------------------------------
  {
    const std::int64_t n = big / 10;
    const NDArray x = NDArray::full({n}, DType::float64, 2.0);
    const NDArray y = NDArray::full({n}, DType::float64, 4.0);
    using P = ElementwiseProgram;
    const auto prog = P::binary(BinaryOp::add, P::binary(BinaryOp::mul, P::input(0, DType::float64), P::scalar(2.5)),
                                P::unary(UnaryOp::sqrt, P::input(1, DType::float64)));
    const NDArray in[] = {x, y};
    const double t = best_of(3, [&] { g_sink = g_sink + evaluate(prog, in, {n}).at<double>(3); });
    std::printf("fused x*2.5+sqrt(y) %5.2f GB/s  (%.0f M elements, 24 B/element)\n",
                24.0 * static_cast<double>(n) / t / 1e9, static_cast<double>(n) / 1e6);
  }

  // ---- normals per second -----------------------------------------------------------------------
  {
    const std::int64_t n = quick ? 4'000'000 : 40'000'000;
    const double t = best_of(3, [&] {
      g_sink = g_sink + random_normal(3, 0.0, 1.0, {n}, {0}, {n}).at<double>(5);
    });
    const double tu = best_of(3, [&] {
      g_sink = g_sink + random_uniform(3, {n}, {0}, {n}).at<double>(5);
    });
    std::printf("random_normal    %8.1f M normals/s   random_uniform %8.1f M/s\n",
                static_cast<double>(n) / t / 1e6, static_cast<double>(n) / tu / 1e6);
  }

  // ---- matmul 2000 x 2000 @ 2000 x 2000 ---------------------------------------------------------
  {
    const std::int64_t n = quick ? 500 : 2000;
    const NDArray a = random_uniform(4, {n, n}, {0, 0}, {n, n});
    const NDArray b = random_uniform(5, {n, n}, {0, 0}, {n, n});
    const double t = best_of(3, [&] { g_sink = g_sink + matmul(a, b).at<double>(0, 0); });
    std::printf("matmul %lldx%lld   %8.2f GFLOP/s (%.3f s; OpenBLAS threads as configured)\n",
                static_cast<long long>(n), static_cast<long long>(n),
                2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / t / 1e9, t);
  }

  // ---- allocate + fill 16 x 128 MiB: malloc vs BufferPool --------------------------------------
  {
    const std::size_t bytes = std::size_t{128} << 20;
    const int rounds = quick ? 4 : 16;
    const double t_malloc = best_of(1, [&] {
      for (int i = 0; i < rounds; ++i) {
        void* p = std::malloc(bytes);
        std::memset(p, i, bytes);
        asm volatile("" : : "r"(p) : "memory");  // keep malloc+memset+free from being elided
        g_sink = g_sink + static_cast<double>(static_cast<unsigned char*>(p)[bytes / 3]);
        std::free(p);
      }
    });
    BufferPool pool(std::size_t{1} << 30);
    const double t_pool = best_of(1, [&] {
      for (int i = 0; i < rounds; ++i) {
        auto p = pool.allocate(bytes);
        std::memset(p.get(), i, bytes);
        g_sink = g_sink + static_cast<double>(static_cast<unsigned char*>(static_cast<void*>(p.get()))[bytes / 3]);
      }
    });
    const double t_fill = best_of(1, [&] {  // warm buffer: the memset alone
      auto p = pool.allocate(bytes);
      for (int i = 0; i < rounds; ++i) std::memset(p.get(), i, bytes);
    });
    const double total = static_cast<double>(rounds) * static_cast<double>(bytes);
    std::printf("alloc+fill %dx128MiB: malloc %.2f GB/s (%.3f s), BufferPool %.2f GB/s (%.3f s), "
                "warm memset %.2f GB/s; pool hits %llu misses %llu\n",
                rounds, total / t_malloc / 1e9, t_malloc, total / t_pool / 1e9, t_pool,
                total / t_fill / 1e9, static_cast<unsigned long long>(pool.stats().hits),
                static_cast<unsigned long long>(pool.stats().misses));
  }
  return g_sink == 12345.678 ? 1 : 0;
}
