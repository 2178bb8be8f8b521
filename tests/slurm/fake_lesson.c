/* TEST FIXTURE ONLY -- not part of tessera.
 *
 * A tiny MPI stand-in for the `tessera-lesson` app, used by tests/slurm/run_slurm_jobs.sh
 * to exercise the SLURM job scripts (the slurm/ job scripts) when the real app has not been built.
 * It mimics the app's command line and output format only:
 *
 *   fake_lesson <diamond|loop|flow|compute-parts|sumnum|array-mean>
 *               [--scheduler sync|threads|mpi] [--threads N] [--size N] [--parts N]
 *               [--sleep SECONDS]
 *
 * With --scheduler mpi, rank 0 acts as "scheduler" and ranks 1..n-1 as workers: work items
 * are dealt round-robin to the workers and combined with MPI_Reduce, so a broken MPI launch
 * (wrong rank count, no PMIx wire-up) makes the job fail or print a wrong result.
 * Rank 0 prints `result=<value>`, `Compute time: <t>s` and `wall clock time: <t>s`.
 *
 * Compiled by the test script with mpicc; never installed.
 */
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_seconds(double s) {
  if (s <= 0.0) return;
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  nanosleep(&ts, NULL);
}

static int usage(int rank, const char *msg) {
  if (rank == 0) {
    fprintf(stderr, "fake_lesson: error: %s\n", msg);
    fprintf(stderr,
            "usage: fake_lesson <diamond|loop|flow|compute-parts|sumnum|array-mean> "
            "[--scheduler sync|threads|mpi] [--threads N] [--size N] [--parts N] "
            "[--sleep SECONDS]\n");
  }
  return 2;
}

/* value of work item i of the given workflow (as double; all exact below 2^53 per item) */
static double item_value(const char *wf, long long i, long long size, long long parts) {
  if (strcmp(wf, "diamond") == 0) return (double)(i + 2);          /* inc(1) + inc(2) */
  if (strcmp(wf, "loop") == 0) return (double)(i + 2);             /* sum inc(1..8)    */
  if (strcmp(wf, "flow") == 0) {                                   /* 1..10: double even, inc odd */
    long long x = i + 1;
    return (double)(x % 2 == 0 ? 2 * x : x + 1);
  }
  /* compute-parts: every part sums all of [0, size) (the lesson's computePart(size)) */
  if (strcmp(wf, "compute-parts") == 0) return (double)((size - 1) * size / 2);
  /* sumnum / array-mean: part i of [0, size) */
  long long lo = size * i / parts, hi = size * (i + 1) / parts;
  return (double)((hi - 1 + lo) * (hi - lo) / 2);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, nranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  double t0 = MPI_Wtime();

  const char *wf = NULL, *scheduler = "sync";
  long long size = 1000000, parts = 4;
  double sleep_s = 0.0;
  for (int a = 1; a < argc; ++a) {
    const char *arg = argv[a];
    const char *val = (a + 1 < argc) ? argv[a + 1] : NULL;
    if (arg[0] != '-') {
      if (wf) { MPI_Finalize(); return usage(rank, "more than one subcommand"); }
      wf = arg;
    } else if (!val) {
      MPI_Finalize();
      return usage(rank, "option without value");
    } else if (strcmp(arg, "--scheduler") == 0) { scheduler = val; ++a; }
    else if (strcmp(arg, "--threads") == 0) { ++a; }
    else if (strcmp(arg, "--size") == 0) { size = atoll(val); ++a; }
    else if (strcmp(arg, "--parts") == 0) { parts = atoll(val); ++a; }
    else if (strcmp(arg, "--sleep") == 0) { sleep_s = atof(val); ++a; }
    else { MPI_Finalize(); return usage(rank, "unknown option"); }
  }
  if (!wf) { MPI_Finalize(); return usage(rank, "missing subcommand"); }
  long long items;
  if (strcmp(wf, "diamond") == 0) items = 2;
  else if (strcmp(wf, "loop") == 0) items = 8;
  else if (strcmp(wf, "flow") == 0) items = 10;
  else if (strcmp(wf, "compute-parts") == 0 || strcmp(wf, "sumnum") == 0 ||
           strcmp(wf, "array-mean") == 0) items = parts;
  else { MPI_Finalize(); return usage(rank, "unknown subcommand"); }
  if (size < 1 || parts < 1) { MPI_Finalize(); return usage(rank, "--size/--parts must be >= 1"); }

  int use_mpi = strcmp(scheduler, "mpi") == 0;
  if (use_mpi && nranks < 2) {
    MPI_Finalize();
    return usage(rank, "--scheduler mpi needs at least 2 ranks (rank 0 + workers)");
  }
  int nworkers = use_mpi ? nranks - 1 : 1;
  int me = use_mpi ? rank - 1 : (rank == 0 ? 0 : -1); /* worker index or -1 */

  double tc = MPI_Wtime();
  long double local = 0.0L;
  if (me >= 0)
    for (long long i = me; i < items; i += nworkers) {
      sleep_seconds(sleep_s);
      local += (long double)item_value(wf, i, size, parts);
    }
  double local_d = (double)local, total = 0.0;
  MPI_Reduce(&local_d, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  double compute = MPI_Wtime() - tc;

  if (rank == 0) {
    if (strcmp(wf, "array-mean") == 0)
      printf("result=%.6f\n", total / (double)size);
    else
      printf("result=%.0f\n", total);
    printf("ranks=%d workers=%d scheduler=%s\n", nranks, nworkers, scheduler);
    printf("Compute time: %.6fs\n", compute);
    printf("wall clock time: %.6fs\n", MPI_Wtime() - t0);
    fflush(stdout);
  }
  MPI_Finalize();
  return 0;
}
