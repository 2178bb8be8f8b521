// A program that dies halfway and is run again (tests/checkpoint/run_checkpoint.sh): N impure
// tasks of ~20 ms each, summed by a tree; with TESSERA_CHECKPOINT set, a rerun loads what the
// killed run finished. Prints "result=<sum> computed=<tasks that ran>".
//   checkpoint_driver [--n N] [--kill-after K]     K: SIGKILL this process after K of the N tasks ran
//   mpirun ... checkpoint_driver --mpi --count-file F [--n N] [--kill-after K]
//     on the MPI scheduler: every task run (on any rank) appends a byte to F, computed= is its
//     size, and rank 0 SIGKILLs itself once K leaf tasks ran (mpirun then ends the job)
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
bool g_mpi = false;
std::string g_count_file;  // --mpi: one byte per task run, 'w' for a leaf

void count(char what) {
  if (g_count_file.empty()) return;
  const int fd = ::open(g_count_file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  (void)!::write(fd, &what, 1);
  ::close(fd);
}

long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : 0;
}

long work(long i) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  g_computed.fetch_add(1);
  count('w');
  const long done = g_worked.fetch_add(1) + 1;
  if (!g_mpi && g_kill_after >= 0 && done >= g_kill_after) std::raise(SIGKILL);
  return i * i + CHECKPOINT_DRIVER_VARIANT;
}

long add(long a, long b) {
  g_computed.fetch_add(1);
  count('a');
  return a + b;
}

int drive(long n) {
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
    std::printf("result=%ld computed=%ld\n", result, g_mpi ? file_size(g_count_file) : g_computed.load());
    std::fflush(stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_driver: %s\n", e.what());
    return 1;
  }
}

/// --mpi, rank 0: SIGKILLs this process once the workers ran `k` leaf tasks.
void kill_after_leaves(long k) {
  std::thread([k] {
    while (true) {
      std::FILE* f = std::fopen(g_count_file.c_str(), "r");
      long leaves = 0;
      for (int c; f && (c = std::fgetc(f)) != EOF;) leaves += c == 'w';
      if (f) std::fclose(f);
      if (leaves >= k) std::raise(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }).detach();
}
}  // namespace

int main(int argc, char** argv) {
  long n = 300;
  for (int k = 1; k < argc; ++k) {
    if (std::strcmp(argv[k], "--mpi") == 0) g_mpi = true;
    if (k + 1 >= argc) continue;
    if (std::strcmp(argv[k], "--n") == 0) n = std::atol(argv[k + 1]);
    if (std::strcmp(argv[k], "--kill-after") == 0) g_kill_after = std::atol(argv[k + 1]);
    if (std::strcmp(argv[k], "--count-file") == 0) g_count_file = argv[k + 1];
  }
  if (!g_mpi) return drive(n);
  return tessera::run_distributed(argc, argv, [n](tessera::Runtime&) {
    std::fclose(std::fopen(g_count_file.c_str(), "w"));  // before any task ran
    if (g_kill_after >= 0) kill_after_leaves(g_kill_after);
    return drive(n);
  });
}
