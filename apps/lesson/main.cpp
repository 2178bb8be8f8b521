// tessera-lesson: the Dask lesson's workflows (../shared/seed) in C++.
//
//   tessera-lesson diamond|loop|flow|compute-parts|sumnum|array-mean|numpy-mean|bag-wordcount|bag-accounts|frame-flights
//                  [--scheduler sync|threads|mpi] [--threads N] [--sleep S] [--size N]
//                  [--parts N] [--n N] [--chunks N] [--lines N] [--files N] [--n N] [--graph FILE]
//
// Each prints `result=<value>`, then the lesson's `Compute time: <t>s` and
// `wall clock time: <t>s`. With --scheduler mpi, launch with mpirun/srun: rank 0 runs the
// driver and schedules, the other ranks are workers.
#include "lesson.hpp"

#if TESSERA_LESSON_HAVE_MPI
#include <tessera/scheduling/mpi.hpp>
#endif

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace lesson {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

long long Args::integer(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  // number() accepts the 40e6 style too; an integer flag must still be a whole number.
  const double d = number(name, 0.0);
  if (d != std::floor(d) || std::abs(d) > 9.0e15) {
    throw std::invalid_argument("--" + name + " expects a whole number, got '" + flags.at(name) + "'");
  }
  return static_cast<long long>(d);
}

double Args::number(const std::string& name, double fallback) const {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  try {
    std::size_t used = 0;
    const double d = std::stod(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument(name);
    return d;
  } catch (const std::exception&) {
    throw std::invalid_argument("--" + name + " expects a number, got '" + it->second + "'");
  }
}

void report(const std::string& result, double compute_seconds, const Context& ctx) {
  std::printf("result=%s\n", result.c_str());
  std::printf("Compute time: %.6gs\n", compute_seconds);
  std::printf("wall clock time: %.6gs\n", now_seconds() - ctx.program_start);
  std::fflush(stdout);
}

#if !TESSERA_LESSON_HAVE_ARRAY
int array_mean(const Context&) {
  std::fprintf(stderr, "tessera-lesson: this build has no collections (array, bag)\n");
  return 2;
}
int numpy_mean(const Context& ctx) { return array_mean(ctx); }
int bag_wordcount(const Context& ctx) { return array_mean(ctx); }
int bag_accounts(const Context& ctx) { return array_mean(ctx); }
int frame_flights(const Context& ctx) { return array_mean(ctx); }
#endif

}  // namespace lesson

namespace {

constexpr const char* usage =
    "usage: tessera-lesson <diamond|loop|flow|compute-parts|sumnum|array-mean|numpy-mean|bag-wordcount|bag-accounts|frame-flights>\n"
    "         [--scheduler sync|threads|mpi] [--threads N] [--sleep SECONDS] [--size N]\n"
    "         [--parts N] [--n N] [--chunks N] [--lines N] [--files N] [--n N] [--data DIR] [--blocksize BYTES]\n"
    "         [--graph FILE.svg|.dot]\n";

lesson::Args parse(int argc, char** argv) {
  lesson::Args a;
  if (argc < 2) throw std::invalid_argument("missing subcommand");
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) {
      throw std::invalid_argument("expected '--flag value', got '" + k + "'");
    }
    a.flags[k.substr(2)] = argv[++i];
  }
  return a;
}

int dispatch(const lesson::Context& ctx) {
  const auto& c = ctx.args.command;
  if (c == "diamond") return lesson::diamond(ctx);
  if (c == "loop") return lesson::loop(ctx);
  if (c == "flow") return lesson::flow(ctx);
  if (c == "compute-parts") return lesson::compute_parts(ctx);
  if (c == "sumnum") return lesson::sumnum(ctx);
  if (c == "array-mean") return lesson::array_mean(ctx);
  if (c == "numpy-mean") return lesson::numpy_mean(ctx);
  if (c == "bag-wordcount") return lesson::bag_wordcount(ctx);
  if (c == "bag-accounts") return lesson::bag_accounts(ctx);
  if (c == "frame-flights") return lesson::frame_flights(ctx);
  std::fprintf(stderr, "tessera-lesson: unknown subcommand '%s'\n%s", c.c_str(), usage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  lesson::Context ctx;
  ctx.program_start = lesson::now_seconds();
  try {
    ctx.args = parse(argc, argv);
    const std::string sched = ctx.args.str("scheduler", tessera::env_string("TESSERA_SCHEDULER").value_or("threads"));
    const auto threads = static_cast<unsigned>(ctx.args.integer("threads", 0));
    if (sched == "mpi" || sched == "distributed") {
#if TESSERA_LESSON_HAVE_MPI
      tessera::RuntimeOptions opts;
      opts.threads_per_worker = threads;
      return tessera::run_distributed(argc, argv, [&ctx](tessera::Runtime& rt) {
        ctx.scheduler = rt.scheduler();
        return dispatch(ctx);
      }, opts);
#else
      throw std::invalid_argument("this build has no MPI support (configure with TESSERA_ENABLE_MPI=ON)");
#endif
    }
    ctx.scheduler = tessera::make_scheduler(sched, threads);
    return dispatch(ctx);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "tessera-lesson: %s\n%s", e.what(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-lesson: %s\n", e.what());
    return 1;
  }
}
