// Standalone probe (not part of the build, CTest or CI): what does Open MPI do when one rank of
// the job dies? The last rank raises SIGKILL at a planned instant; the survivors then try
// point-to-point traffic with it and among themselves and print what each call did and when
// (seconds after the kill). Usage: probe_lost_rank <world|dup> <none|probe|recv|barrier>
//   world|dup: run the traffic on MPI_COMM_WORLD or on a duplicate (both MPI_ERRORS_RETURN)
//   last step of the survivors before MPI_Finalize: none, blocking MPI_Probe on the dead rank,
//   blocking MPI_Recv (rank 1, posted before the death), or MPI_Barrier on the communicator.
//   A third argument "nokill" is the control: the last rank lives (and just finalizes).
//   Environment PROBE_IGNORE_SIGPIPE=1: the survivors ignore SIGPIPE; =report: they print it.
// Blocking steps run under a watchdog thread that reports "HUNG" and _exit(3)s.
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::system_clock;  // one node: every rank reads the same clock
double g_kill_at = 0;                     // seconds since the epoch, agreed before the kill
int g_rank = 0;

double now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }
double since_kill() { return now() - g_kill_at; }

void report(const char* step, const char* what, int rc = MPI_SUCCESS) {
  char err[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (rc != MPI_SUCCESS) MPI_Error_string(rc, err, &len);
  std::printf("R%d %-22s %-10s t=%+.3fs %s\n", g_rank, step, what, since_kill(), err);
  std::fflush(stdout);
}

// Polls a request until it completes, fails, or `limit` seconds pass (then it is left pending).
void wait_for(const char* step, MPI_Request& req, double limit) {
  const double end = now() + limit;
  while (true) {
    int flag = 0;
    // MPI_Test's return code is the error (status.MPI_ERROR is not set by single completions).
    const int rc = MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return report(step, "ERROR", rc);
    if (flag) return report(step, "completed");
    if (now() > end) return report(step, "pending");
    usleep(1000);
  }
}

// A watchdog for a blocking call: reports HUNG and leaves the process after `limit` seconds.
struct Watchdog {
  std::atomic<bool> done{false};
  std::thread t;
  Watchdog(const char* step, double limit) {
    t = std::thread([this, step, limit] {
      const double end = now() + limit;
      while (!done.load()) {
        if (now() > end) {
          report(step, "HUNG");
          _exit(3);
        }
        usleep(10000);
      }
    });
  }
  ~Watchdog() {
    done = true;
    t.join();
  }
};

// Ring exchange among the survivors (ranks 0..n-2) with one message size.
void survivors_exchange(MPI_Comm comm, int survivors, std::size_t bytes) {
  // Static: a request left pending must not outlive its buffer.
  static std::deque<std::vector<char>> keep;  // a deque: references stay valid
  auto& out = keep.emplace_back(bytes, 'x');
  auto& in = keep.emplace_back(bytes);
  const int to = (g_rank + 1) % survivors, from = (g_rank + survivors - 1) % survivors;
  MPI_Request r[2];
  MPI_Irecv(in.data(), int(bytes), MPI_CHAR, from, 7, comm, &r[0]);
  MPI_Isend(out.data(), int(bytes), MPI_CHAR, to, 7, comm, &r[1]);
  const std::string a = "peer recv " + std::to_string(bytes) + "B";
  const std::string b = "peer send " + std::to_string(bytes) + "B";
  // Long enough for the slowest survivor to get here (rank 0 waits out up to 3 x 3 s first).
  wait_for(a.c_str(), r[0], 15);
  wait_for(b.c_str(), r[1], 15);
}

void on_sigpipe(int) {
  char line[128];
  const int n = std::snprintf(line, sizeof line, "R%d SIGPIPE                killed     (by a write to a dead peer)\n", g_rank);
  (void)!write(1, line, static_cast<std::size_t>(n));  // async-signal-safe
  _exit(4);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "world";
  const std::string last = argc > 2 ? argv[2] : "none";
  const bool nokill = argc > 3 && std::string(argv[3]) == "nokill";  // the control run
  // PROBE_IGNORE_SIGPIPE=1: a write to a dead peer's socket (tcp BTL) returns EPIPE instead
  // of killing this process with SIGPIPE.
  // PROBE_IGNORE_SIGPIPE=report: a SIGPIPE is reported on stdout, then the process leaves.
  if (const char* e = std::getenv("PROBE_IGNORE_SIGPIPE"); e && std::string(e) == "1") signal(SIGPIPE, SIG_IGN);
  if (const char* e = std::getenv("PROBE_IGNORE_SIGPIPE"); e && std::string(e) == "report") signal(SIGPIPE, on_sigpipe);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm dup;
  MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
  MPI_Comm comm = which == "dup" ? dup : MPI_COMM_WORLD;
  int size = 0;
  MPI_Comm_rank(comm, &g_rank);
  MPI_Comm_size(comm, &size);
  const int victim = size - 1, survivors = size - 1;
  // Wire up every pair first (the tcp BTL connects lazily, on a pair's first message), then
  // agree on the kill time.
  for (std::size_t b : {std::size_t(8), std::size_t(1) << 24}) {
    std::vector<char> out(b, 'w'), in(b * size);
    std::vector<MPI_Request> reqs;
    for (int p = 0; p < size; ++p) {
      if (p == g_rank) continue;
      reqs.emplace_back();
      MPI_Irecv(in.data() + b * p, int(b), MPI_CHAR, p, 0, comm, &reqs.back());
      reqs.emplace_back();
      MPI_Isend(out.data(), int(b), MPI_CHAR, p, 0, comm, &reqs.back());
    }
    MPI_Waitall(int(reqs.size()), reqs.data(), MPI_STATUSES_IGNORE);
  }
  double t = now() + 1.0;
  MPI_Bcast(&t, 1, MPI_DOUBLE, 0, comm);
  g_kill_at = t;

  if (g_rank == victim) {
    while (now() < g_kill_at) usleep(100);
    if (!nokill) raise(SIGKILL);
    report("victim", "lives");  // the control: it sends and receives nothing more
    MPI_Finalize();
    return 0;
  }
  // Posted before the death.
  static std::vector<char> pre(1 << 24);
  MPI_Request pre_req = MPI_REQUEST_NULL;
  if (g_rank == 0) MPI_Irecv(pre.data(), 1 << 24, MPI_CHAR, victim, 1, comm, &pre_req);
  if (g_rank == 1 && last == "recv") {
    Watchdog w("Recv(dead) pre-posted", 10);
    MPI_Status st;
    const int rc = MPI_Recv(pre.data(), 8, MPI_CHAR, victim, 2, comm, &st);
    report("Recv(dead) pre-posted", rc == MPI_SUCCESS ? "returned" : "ERROR", rc);
  }
  if (g_rank == 0) wait_for("Irecv(dead) pre-posted", pre_req, 4);
  while (since_kill() < 0.5) usleep(1000);

  if (g_rank == 0 || g_rank == 1) {
    static char small[8] = {};
    MPI_Request r;
    int rc = MPI_Isend(small, 8, MPI_CHAR, victim, 3, comm, &r);
    if (rc != MPI_SUCCESS) report("Isend(dead) 8B", "ERROR", rc);
    else wait_for("Isend(dead) 8B", r, 3);
    static std::vector<char> big(1 << 24, 'b');  // a pending send must not outlive it
    rc = MPI_Isend(big.data(), 1 << 24, MPI_CHAR, victim, 4, comm, &r);
    if (rc != MPI_SUCCESS) report("Isend(dead) 16MiB", "ERROR", rc);
    else wait_for("Isend(dead) 16MiB", r, 3);
    int flag = 0;
    MPI_Status st;
    rc = MPI_Iprobe(victim, MPI_ANY_TAG, comm, &flag, &st);
    report("Iprobe(dead)", rc != MPI_SUCCESS ? "ERROR" : flag ? "flag=1" : "flag=0", rc);
    rc = MPI_Iprobe(MPI_ANY_SOURCE, 9, comm, &flag, &st);  // nothing is ever sent on tag 9
    report("Iprobe(any, tag 9)", rc != MPI_SUCCESS ? "ERROR" : flag ? "flag=1" : "flag=0", rc);
  }
  for (std::size_t b : {std::size_t(8), std::size_t(64) << 10, std::size_t(1) << 24})
    survivors_exchange(comm, survivors, b);

  if (last == "probe" && g_rank == 0) {
    Watchdog w("Probe(dead)", 5);
    MPI_Status st;
    const int rc = MPI_Probe(victim, MPI_ANY_TAG, comm, &st);
    report("Probe(dead)", rc == MPI_SUCCESS ? "returned" : "ERROR", rc);
  }
  if (last == "barrier") {
    Watchdog w("Barrier(survivors)", 5);
    const int rc = MPI_Barrier(comm);
    report("Barrier(survivors)", rc == MPI_SUCCESS ? "returned" : "ERROR", rc);
  }
  {
    Watchdog w("Finalize", 10);
    report("Finalize", "entering");
    MPI_Finalize();
    report("Finalize", "returned");
  }
  return 0;
}
