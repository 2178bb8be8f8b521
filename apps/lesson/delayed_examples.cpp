// The lesson's delayed examples (diamond, loop, flow, compute-parts, sumnum) in C++.
#include "lesson.hpp"

#include <chrono>
#include <cstdio>
#include <numeric>
#include <thread>

namespace lesson {

namespace {
// The lesson's toy functions sleep to stand for real work. The sleep length travels with the
// task (an argument), so it is the same on every rank.
int inc(int x, double sleep_s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
  return x + 1;
}
int add(int x, int y, double sleep_s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
  return x + y;
}
int double_it(int x, double sleep_s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
  return 2 * x;
}
long sum_ints(const std::vector<int>& xs) { return std::accumulate(xs.begin(), xs.end(), 0L); }
std::int64_t sum_parts(const std::vector<std::int64_t>& xs) {
  return std::accumulate(xs.begin(), xs.end(), std::int64_t{0});
}
// The lesson's Cython kernel: a floating-point sum of 0..n-1.
double sum_num(std::int64_t n) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    s += static_cast<double>(i);
    asm volatile("" : "+x"(s));  // keep the loop a loop: the point is CPU-bound work
  }
  return s;
}
}  // namespace

std::int64_t compute_part(std::int64_t size) {
  std::int64_t part = 0;
  for (std::int64_t i = 0; i < size; ++i) {
    part += i;
    asm volatile("" : "+r"(part));  // stop the compiler from using the closed form
  }
  return part;
}

int diamond(const Context& ctx) {
  const double s = ctx.args.number("sleep", 1.0);
  auto x = tessera::delayed(inc)(1, s);
  auto y = tessera::delayed(inc)(2, s);
  auto z = tessera::delayed(add)(x, y, s);
  return compute_and_report(ctx, z);
}

int loop(const Context& ctx) {
  const double s = ctx.args.number("sleep", 1.0);
  const auto n = static_cast<int>(ctx.args.integer("n", 8));
  std::vector<tessera::Delayed<int>> out;
  for (int i = 1; i <= n; ++i) out.push_back(tessera::delayed(inc)(i, s));
  auto total = tessera::delayed(sum_ints, {.name = "sum"})(out);
  return compute_and_report(ctx, total);
}

int flow(const Context& ctx) {
  const double s = ctx.args.number("sleep", 1.0);
  const auto n = static_cast<int>(ctx.args.integer("n", 10));
  std::vector<tessera::Delayed<int>> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back(i % 2 == 0 ? tessera::delayed(double_it)(i, s) : tessera::delayed(inc)(i, s));
  }
  auto total = tessera::delayed(sum_ints, {.name = "sum"})(out);
  return compute_and_report(ctx, total);
}

int compute_parts(const Context& ctx) {
  const std::int64_t size = ctx.args.integer("size", 40'000'000);
  const std::int64_t parts = ctx.args.integer("parts", 4);
  if (size < 0 || parts < 1) {
    std::fprintf(stderr, "tessera-lesson compute-parts: --size must be >= 0 and --parts >= 1\n");
    return 2;
  }
  // The lesson's loop: `for i in range(parts): results.append(delayed(computePart)(size))`.
  // Every call is its own task (delayed is impure by default, as in Dask), so the parts run in
  // parallel and the total is parts * size*(size-1)/2: 3199999920000000 for the defaults.
  std::vector<tessera::Delayed<std::int64_t>> out;
  for (std::int64_t k = 0; k < parts; ++k) {
    out.push_back(tessera::delayed(compute_part, {.name = "computePart"})(size));
  }
  auto total = tessera::delayed(sum_parts, {.name = "sum"})(out);
  return compute_and_report(ctx, total);
}

int sumnum(const Context& ctx) {
  const std::int64_t n = ctx.args.integer("n", 40'000'000);
  auto total = tessera::delayed(sum_num, {.name = "sumnum"})(n);
  return compute_and_report(ctx, total);
}

}  // namespace lesson
