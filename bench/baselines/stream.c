/* STREAM-like memory bandwidth baseline (no OpenMP): copy/scale/add/triad with
 * 1..T pthreads over three pre-touched arrays, best of N repetitions, plus
 * first-touch bandwidth (malloc + memset of fresh memory).
 *
 * Usage: stream [--bytes BYTES_PER_ARRAY] [--reps N] [--threads LIST]
 * Output: one JSON object per line on stdout.
 * Byte counting follows STREAM: copy/scale move 2 arrays, add/triad 3 arrays
 * (write-allocate traffic is not counted).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum Kernel { K_TOUCH, K_COPY, K_SCALE, K_ADD, K_TRIAD, K_MEMSET };
static const char *kernel_names[] = {"touch", "copy", "scale", "add", "triad", "memset"};

static double *a, *b, *c;
static size_t n_elems;

struct Job {
    enum Kernel kernel;
    size_t begin, end;
    char *raw; /* for K_MEMSET */
};

static void *run_job(void *arg) {
    struct Job *j = (struct Job *)arg;
    const double s = 3.0;
    size_t i;
    switch (j->kernel) {
    case K_TOUCH:
        for (i = j->begin; i < j->end; ++i) { a[i] = 1.0; b[i] = 2.0; c[i] = 0.0; }
        break;
    case K_COPY:
        for (i = j->begin; i < j->end; ++i) c[i] = a[i];
        break;
    case K_SCALE:
        for (i = j->begin; i < j->end; ++i) b[i] = s * c[i];
        break;
    case K_ADD:
        for (i = j->begin; i < j->end; ++i) c[i] = a[i] + b[i];
        break;
    case K_TRIAD:
        for (i = j->begin; i < j->end; ++i) a[i] = b[i] + s * c[i];
        break;
    case K_MEMSET:
        memset(j->raw + j->begin, 1, j->end - j->begin);
        break;
    }
    return NULL;
}

/* Runs `kernel` split over `nthreads` threads (thread 0 is the caller); returns seconds. */
static double run_parallel(enum Kernel kernel, int nthreads, size_t total, char *raw) {
    pthread_t tids[64];
    struct Job jobs[64];
    for (int t = 0; t < nthreads; ++t) {
        jobs[t].kernel = kernel;
        jobs[t].begin = total * (size_t)t / (size_t)nthreads;
        jobs[t].end = total * (size_t)(t + 1) / (size_t)nthreads;
        jobs[t].raw = raw;
    }
    double t0 = now_s();
    for (int t = 1; t < nthreads; ++t) pthread_create(&tids[t], NULL, run_job, &jobs[t]);
    run_job(&jobs[0]);
    for (int t = 1; t < nthreads; ++t) pthread_join(tids[t], NULL);
    return now_s() - t0;
}

int main(int argc, char **argv) {
    size_t bytes = (size_t)1 << 30;
    int reps = 5;
    int thread_list[8] = {1, 2};
    int n_thread_list = 2;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            n_thread_list = 0;
            for (char *tok = strtok(argv[++i], ","); tok && n_thread_list < 8; tok = strtok(NULL, ","))
                thread_list[n_thread_list++] = atoi(tok);
        } else {
            fprintf(stderr, "usage: %s [--bytes N] [--reps N] [--threads 1,2]\n", argv[0]);
            return 2;
        }
    }
    n_elems = bytes / sizeof(double);
    bytes = n_elems * sizeof(double);

    for (int ti = 0; ti < n_thread_list; ++ti) {
        int nt = thread_list[ti];
        if (nt < 1 || nt > 64) continue;
        a = malloc(bytes); b = malloc(bytes); c = malloc(bytes);
        if (!a || !b || !c) { fprintf(stderr, "stream: malloc of 3 x %zu bytes failed\n", bytes); return 1; }
        /* pre-touch with the same thread partitioning as the kernels */
        double touch_s = run_parallel(K_TOUCH, nt, n_elems, NULL);
        printf("{\"suite\":\"stream\",\"name\":\"pretouch_3_arrays\",\"value\":%.3f,\"unit\":\"GB/s\","
               "\"threads\":%d,\"array_bytes\":%zu,\"seconds\":%.6f}\n",
               3.0 * (double)bytes / touch_s / 1e9, nt, bytes, touch_s);
        double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
        for (int r = 0; r < reps; ++r) {
            for (int k = K_COPY; k <= K_TRIAD; ++k) {
                double s = run_parallel((enum Kernel)k, nt, n_elems, NULL);
                if (s < best[k]) best[k] = s;
            }
        }
        const double arrays_moved[5] = {0, 2, 2, 3, 3};
        for (int k = K_COPY; k <= K_TRIAD; ++k) {
            printf("{\"suite\":\"stream\",\"name\":\"%s\",\"value\":%.3f,\"unit\":\"GB/s\",\"threads\":%d,"
                   "\"array_bytes\":%zu,\"best_seconds\":%.6f,\"reps\":%d}\n",
                   kernel_names[k], arrays_moved[k] * (double)bytes / best[k] / 1e9, nt, bytes, best[k], reps);
        }
        /* checksum keeps the compiler honest */
        double sum = 0.0;
        for (size_t i = 0; i < n_elems; i += 4096) sum += a[i] + b[i] + c[i];
        fprintf(stderr, "stream: threads=%d checksum=%g\n", nt, sum);
        free(a); free(b); free(c);

        /* first touch: fresh malloc (mmap'd by glibc for large sizes) + memset, best of reps */
        double best_ft = 1e30;
        for (int r = 0; r < reps; ++r) {
            char *raw = malloc(bytes);
            if (!raw) { fprintf(stderr, "stream: malloc of %zu bytes failed\n", bytes); return 1; }
            double s = run_parallel(K_MEMSET, nt, bytes, raw);
            if (s < best_ft) best_ft = s;
            volatile char sink = raw[bytes / 2];
            (void)sink;
            free(raw);
        }
        printf("{\"suite\":\"stream\",\"name\":\"first_touch_memset\",\"value\":%.3f,\"unit\":\"GB/s\","
               "\"threads\":%d,\"bytes\":%zu,\"best_seconds\":%.6f,\"reps\":%d}\n",
               (double)bytes / best_ft / 1e9, nt, bytes, best_ft, reps);
        fflush(stdout);
    }
    return 0;
}
