// A program that dies halfway and is run again (tests/checkpoint/run_checkpoint.sh): N impure
// tasks of ~20 ms each, summed by a tree; with TESSERA_CHECKPOINT set, a rerun loads what the
// killed run finished. Prints "result=<sum> computed=<tasks that ran in this process>".
//   checkpoint_driver [--n N] [--kill-after K]     K: SIGKILL this process after K of the N tasks ran
#include <tessera/tessera.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifndef CHECKPOINT_DRIVER_VARIANT
#define CHECKPOINT_DRIVER_VARIANT 0
#endif

namespace {
std::atomic<long> g_computed{0};
std::atomic<long> g_worked{0};
long g_kill_after = -1;

long work(long i) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  g_computed.fetch_add(1);
  const long done = g_worked.fetch_add(1) + 1;
  if (g_kill_after >= 0 && done >= g_kill_after) std::raise(SIGKILL);
  return i * i + CHECKPOINT_DRIVER_VARIANT;
}

long add(long a, long b) {
  g_computed.fetch_add(1);
  return a + b;
}
}  // namespace

int main(int argc, char** argv) {
  long n = 300;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (std::strcmp(argv[k], "--n") == 0) n = std::atol(argv[k + 1]);
    if (std::strcmp(argv[k], "--kill-after") == 0) g_kill_after = std::atol(argv[k + 1]);
  }
  try {
    std::vector<tessera::Delayed<long>> level;
    for (long i = 0; i < n; ++i) level.push_back(tessera::delayed(work)(i));
    while (level.size() > 1) {  // a tree of pairwise sums
      std::vector<tessera::Delayed<long>> up;
      for (std::size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(tessera::delayed(add)(level[i], level[i + 1]));
      if (level.size() % 2) up.push_back(level.back());
      level.swap(up);
    }
    const long result = tessera::compute(level.front());
    std::printf("result=%ld computed=%ld\n", result, g_computed.load());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_driver: %s\n", e.what());
    return 1;
  }
}
