// The lesson's array examples: the mean of normal(0, 0.1) values as a chunked tessera::Array
// (array-mean) and as one in-memory array (numpy-mean, the serial baseline).
#include "lesson.hpp"

#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/collections/array/kernels/reductions.hpp>
#include <tessera/storage/process_memory.hpp>

#if TESSERA_LESSON_HAVE_MPI
#include <tessera/scheduling/mpi.hpp>
#endif

#include <cstdio>

namespace lesson {

namespace {

constexpr std::uint64_t seed = 42;
constexpr double mib = 1024.0 * 1024.0;

std::string format_mean(double m) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", m);
  return buf;
}

std::int64_t size_flag(const Context& ctx) {
  const auto n = ctx.args.integer("size", 800'000'000);
  if (n <= 0) throw std::invalid_argument("--size must be positive");
  return n;
}

void print_peak_memory(const Context& ctx) {
#if TESSERA_LESSON_HAVE_MPI
  if (ctx.scheduler && ctx.scheduler->name() == "mpi" && tessera::Runtime::current() != nullptr) {
    for (const auto& s : tessera::Runtime::current()->stats()) {
      std::printf("rank %d peak memory: %.1f MiB\n", s.rank, static_cast<double>(s.peak_rss) / mib);
    }
    std::fflush(stdout);
    return;
  }
#else
  (void)ctx;
#endif
  std::printf("peak memory: %.1f MiB\n", static_cast<double>(tessera::peak_rss()) / mib);
  std::fflush(stdout);
}

}  // namespace

int array_mean(const Context& ctx) {
  const std::int64_t n = size_flag(ctx);
  const auto chunks = ctx.args.integer("chunks", 4);
  if (chunks <= 0) throw std::invalid_argument("--chunks must be positive");
  const std::int64_t chunk = (n + chunks - 1) / chunks;
  // x = da.random.normal(0, 0.1, size=n, chunks=n/chunks); x.mean()
  auto x = tessera::array::random::normal(seed, 0.0, 0.1, {n}, tessera::Shape{chunk});
  auto m = x.mean();
  maybe_draw(ctx, m.blocks()[0]);
  const double t0 = now_seconds();
  const tessera::NDArray r = tessera::compute(m, ctx.scheduler);
  const double t = now_seconds() - t0;
  report(format_mean(r.value_as_double(0)), t, ctx);
  print_peak_memory(ctx);
  return 0;
}

int numpy_mean(const Context& ctx) {
  const std::int64_t n = size_flag(ctx);
  // np.random.normal(0, 0.1, size=n).mean(), in this process, with the same generator.
  const double t0 = now_seconds();
  const tessera::NDArray x = tessera::random_normal(seed, 0.0, 0.1, {n}, {0}, {n});
  const double mean = tessera::sum(x).value_as_double(0) / static_cast<double>(n);
  const double t = now_seconds() - t0;
  report(format_mean(mean), t, ctx);
  std::printf("peak memory: %.1f MiB\n", static_cast<double>(tessera::peak_rss()) / mib);
  std::fflush(stdout);
  return 0;
}

}  // namespace lesson
