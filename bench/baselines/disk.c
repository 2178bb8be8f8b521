/* Raw sequential disk baseline: write a file with write() in large blocks +
 * fdatasync (timed together), then drop the file's page cache with
 * posix_fadvise(POSIX_FADV_DONTNEED) and read it back cold; then read it again
 * warm (page cache). Reports GB/s. mincore() is used to record how much of the
 * file was still cached right before the cold read.
 *
 * Usage: disk [--bytes N] [--block N] [--dir DIR]   (DIR defaults to $TMPDIR or /tmp)
 * Output: one JSON object per line on stdout. The file is removed at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cached_fraction(int fd, size_t bytes) {
    void *map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return -1.0;
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (bytes + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = malloc(pages);
    double frac = -1.0;
    if (vec && mincore(map, bytes, vec) == 0) {
        size_t resident = 0;
        for (size_t i = 0; i < pages; ++i) resident += vec[i] & 1u;
        frac = (double)resident / (double)pages;
    }
    free(vec);
    munmap(map, bytes);
    return frac;
}

static double read_all(int fd, char *buf, size_t block, size_t bytes, unsigned long *checksum) {
    if (lseek(fd, 0, SEEK_SET) != 0) { perror("disk: lseek"); exit(1); }
    double t0 = now_s();
    size_t done = 0;
    while (done < bytes) {
        ssize_t r = read(fd, buf, block);
        if (r < 0) { if (errno == EINTR) continue; perror("disk: read"); exit(1); }
        if (r == 0) break;
        *checksum += (unsigned char)buf[0];
        done += (size_t)r;
    }
    double s = now_s() - t0;
    if (done != bytes) { fprintf(stderr, "disk: short read %zu of %zu\n", done, bytes); exit(1); }
    return s;
}

int main(int argc, char **argv) {
    size_t bytes = (size_t)2 << 30;
    size_t block = (size_t)8 << 20;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--block") && i + 1 < argc) block = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else { fprintf(stderr, "usage: %s [--bytes N] [--block N] [--dir DIR]\n", argv[0]); return 2; }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tessera_disk_baseline_%d.bin", dir, (int)getpid());
    char *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, block) != 0) { fprintf(stderr, "disk: alloc failed\n"); return 1; }
    for (size_t i = 0; i < block; ++i) buf[i] = (char)(i * 131u + 7u); /* non-zero, incompressible-ish */

    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (fd < 0) { fprintf(stderr, "disk: cannot create %s: %s\n", path, strerror(errno)); return 1; }
    double t0 = now_s();
    size_t done = 0;
    while (done < bytes) {
        size_t want = bytes - done < block ? bytes - done : block;
        buf[0] = (char)(done / block); /* vary content per block */
        ssize_t w = write(fd, buf, want);
        if (w < 0) { if (errno == EINTR) continue; fprintf(stderr, "disk: write %s: %s\n", path, strerror(errno)); unlink(path); return 1; }
        done += (size_t)w;
    }
    double t_write = now_s() - t0;
    if (fdatasync(fd) != 0) { perror("disk: fdatasync"); unlink(path); return 1; }
    double t_write_sync = now_s() - t0;
    printf("{\"suite\":\"disk\",\"name\":\"seq_write_fdatasync\",\"value\":%.3f,\"unit\":\"GB/s\",\"bytes\":%zu,"
           "\"block\":%zu,\"seconds\":%.4f,\"write_calls_seconds\":%.4f,\"path\":\"%s\"}\n",
           (double)bytes / t_write_sync / 1e9, bytes, block, t_write_sync, t_write, path);
    fflush(stdout);

    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    double cached = cached_fraction(fd, bytes);
    unsigned long checksum = 0;
    double t_cold = read_all(fd, buf, block, bytes, &checksum);
    printf("{\"suite\":\"disk\",\"name\":\"seq_read_cold\",\"value\":%.3f,\"unit\":\"GB/s\",\"bytes\":%zu,"
           "\"block\":%zu,\"seconds\":%.4f,\"cached_fraction_before\":%.4f}\n",
           (double)bytes / t_cold / 1e9, bytes, block, t_cold, cached);
    fflush(stdout);
    double cached_warm = cached_fraction(fd, bytes);
    double t_warm = read_all(fd, buf, block, bytes, &checksum);
    printf("{\"suite\":\"disk\",\"name\":\"seq_read_warm\",\"value\":%.3f,\"unit\":\"GB/s\",\"bytes\":%zu,"
           "\"block\":%zu,\"seconds\":%.4f,\"cached_fraction_before\":%.4f}\n",
           (double)bytes / t_warm / 1e9, bytes, block, t_warm, cached_warm);
    fprintf(stderr, "disk: checksum %lu\n", checksum);
    close(fd);
    unlink(path);
    free(buf);
    return 0;
}
