// bm_kernels: measures the single-chunk kernels of collections/array against a STREAM-like triad
// run in the same process, so the numbers read as "fraction of this machine's bandwidth".
// Figures of merit: sum GB/s (1.6 GB float64, pre-touched), transpose, add_transposed and
// transpose+add GB/s (2000x2000), fused elementwise GB/s, normals/s and uniforms/s on 1 and 2
// threads (std::thread over disjoint ranges, 1M-element chunks) on the fastest and the scalar
// path, generate+mean of normals, matmul GFLOP/s, and allocate+fill with/without BufferPool.
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
#include <thread>
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

  // ---- transpose, add_transposed and transpose + add, 2000 x 2000 float64 -----------------------
  {
    const NDArray a = random_uniform(1, {2000, 2000}, {0, 0}, {2000, 2000});
    const NDArray b = random_uniform(2, {2000, 2000}, {0, 0}, {2000, 2000});
    const double t_tr = best_of(7, [&] { g_sink = g_sink + transpose(b).at<double>(1, 2); });
    const double t_at = best_of(7, [&] { g_sink = g_sink + add_transposed(a, b).at<double>(1, 2); });
    const double t = best_of(7, [&] { g_sink = g_sink + add(a, transpose(b)).at<double>(1, 2); });
    std::printf("transpose        %8.2f GB/s  (%.2f ms, read+write 64 MB) = %.0f%% of triad\n", 64e6 / t_tr / 1e9,
                t_tr * 1e3, 100.0 * 64e6 / t_tr / 1e9 / triad_gbs);
    std::printf("add_transposed   %8.2f GB/s  (%.2f ms, 2 reads + 1 write = 96 MB) = %.0f%% of triad\n",
                96e6 / t_at / 1e9, t_at * 1e3, 100.0 * 96e6 / t_at / 1e9 / triad_gbs);
    std::printf("transpose+add    %8.2f GB/s  (%.2f ms; counted as 96 MB like add_transposed)\n", 96e6 / t / 1e9,
                t * 1e3);
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

  // ---- normals and uniforms per second: 1M-element chunks, 1 and 2 threads ---------------------
  {
    const std::int64_t n = quick ? 8'000'000 : 64'000'000;
    const std::int64_t chunk = 1 << 20;
    // Each thread generates chunks of its half of a global 1-d array; `mean` also sums each chunk.
    auto run = [&](int kind, int threads, bool mean) {
      auto work = [&](std::int64_t lo, std::int64_t hi, double* acc) {
        double s = 0;
        for (std::int64_t c = lo; c < hi; c += chunk) {
          const std::int64_t len = std::min(chunk, hi - c);
          const NDArray x = kind == 0 ? random_normal(3, 0.0, 0.1, {n}, {c}, {len})
                                      : random_uniform(3, {n}, {c}, {len});
          s += mean ? sum(x).at<double>() : x.at<double>(len - 1);
        }
        *acc = s;
      };
      double accs[2] = {0, 0};
      const double t = best_of(3, [&] {
        if (threads == 1) {
          work(0, n, &accs[0]);
        } else {
          const std::int64_t half = (n / 2 / chunk) * chunk;
          std::thread t1([&] { work(half, n, &accs[1]); });
          work(0, half, &accs[0]);
          t1.join();
        }
        g_sink = g_sink + accs[0] + accs[1];
      });
      return static_cast<double>(n) / t / 1e6;
    };
    const char* isa = random_isa() == RandomIsa::avx512 ? "avx512" : random_isa() == RandomIsa::avx2 ? "avx2" : "scalar";
    std::printf("random_normal    %8.1f M normals/s (1 thread, %s)  %8.1f M/s (2 threads)\n", run(0, 1, false), isa,
                run(0, 2, false));
    std::printf("random_uniform   %8.1f M/s (1 thread, %s)          %8.1f M/s (2 threads)\n", run(1, 1, false), isa,
                run(1, 2, false));
    const double gm1 = run(0, 1, true), gm2 = run(0, 2, true);
    std::printf("normal + sum     %8.1f M/s = %.2f GB/s (1 thread)  %8.1f M/s = %.2f GB/s (2 threads)\n", gm1,
                gm1 * 8e-3, gm2, gm2 * 8e-3);
    const RandomIsa prev = random_isa();
    for (const RandomIsa other : {RandomIsa::avx2, RandomIsa::scalar}) {
      if (other == prev || static_cast<int>(other) > static_cast<int>(best_random_isa())) continue;
      set_random_isa(other);
      std::printf("%-6s path      %8.1f M normals/s  %8.1f M uniforms/s (1 thread)\n",
                  other == RandomIsa::avx2 ? "avx2" : "scalar", run(0, 1, false), run(1, 1, false));
    }
    set_random_isa(prev);
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
