#pragma once

// What the bag benchmarks (bm_bag_wordcount, bm_bag_json) share: their options, the generator
// of their deterministic corpora, and main()'s dispatch:
//   --generate DIR [--mb N] [--files N]          write the corpus
//   --dir DIR --mode BOUND                        the workload's single-thread bound
//   --dir DIR --mode bag --scheduler sync|threads [--threads N]
//   mpirun -n K PROGRAM --dir DIR --mode bag --scheduler mpi

#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

namespace bag_bench {

struct Args {
  std::string generate, dir, mode = "bag", scheduler = "threads";
  unsigned threads = 1;
  std::uint64_t mb = 0;
  int files = 0;
};

/// A small deterministic generator (Knuth's MMIX LCG, high bits).
struct Lcg {
  std::uint64_t s;
  std::uint64_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  }
};

/// Parses the options into `a` (whose mb/files hold the defaults); false, with a message naming
/// `program`, for an unknown option.
inline bool parse_args(int argc, char** argv, const char* program, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--generate") a.generate = v;
    else if (k == "--dir") a.dir = v;
    else if (k == "--mode") a.mode = v;
    else if (k == "--scheduler") a.scheduler = v;
    else if (k == "--threads") a.threads = static_cast<unsigned>(std::stoul(v));
    else if (k == "--mb") a.mb = std::stoull(v);
    else if (k == "--files") a.files = std::stoi(v);
    else {
      std::fprintf(stderr, "%s: unknown option %s\n", program, k.c_str());
      return false;
    }
  }
  return true;
}

/// main() of a bag benchmark: generate(a), bound(a) for `--mode <bound_mode>`, else
/// bag(a, scheduler, label) on the scheduler the options name.
template <class Generate, class Bound, class Bag>
int run_main(int argc, char** argv, const char* program, Args a, const char* bound_mode,
             Generate&& generate, Bound&& bound, Bag&& bag) {
  if (!parse_args(argc, argv, program, a)) return 2;
  if (!a.generate.empty()) {
    generate(a);
    return 0;
  }
  if (a.mode == bound_mode) {
    bound(a);
    return 0;
  }
  if (a.scheduler == "mpi") {
    return tessera::run_distributed(argc, argv, [&](tessera::Runtime& rt) {
      bag(a, *rt.scheduler(), "bag-mpi-" + std::to_string(rt.size() - 1) + "workers");
      return 0;
    });
  }
  auto s = tessera::make_scheduler(a.scheduler, a.threads);
  bag(a, *s, "bag-" + a.scheduler + "-" + std::to_string(a.threads));
  return 0;
}

}  // namespace bag_bench
