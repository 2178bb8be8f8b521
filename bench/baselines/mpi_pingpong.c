/* Raw MPI ping-pong between ranks 0 and 1 (MPI_Send/MPI_Recv, blocking).
 *
 * For each message size (8 B .. max, powers of 4 plus the max) and each buffer
 * mode it reports the one-way latency (half round trip, µs) and bandwidth
 * (bytes / one-way time, GB/s):
 *   mode "untouched": buffers freshly malloc'd for this size and never written
 *                     before the first send; the first round trip (which pays
 *                     the page faults) is reported separately as first_rtt_us,
 *                     the steady state reuses the same buffers.
 *   mode "touched":   buffers freshly malloc'd and memset once, then one warm-up
 *                     round trip before timing.
 *
 * Usage: mpirun -n 2 mpi_pingpong [--max BYTES] [--target-bytes BYTES] [--max-iters N]
 * (iterations per size = target-bytes / size, clamped to [5, max-iters]; default 20000)
 * Output: one JSON object per line on rank 0's stdout.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int iterations_for(size_t size, size_t target_bytes, size_t max_iters) {
    size_t it = target_bytes / (size ? size : 1);
    if (it < 5) it = 5;
    if (it > max_iters) it = max_iters;
    return (int)it;
}

static double round_trip(int rank, char *sbuf, char *rbuf, size_t size) {
    double t0 = MPI_Wtime();
    if (rank == 0) {
        MPI_Send(sbuf, (int)size, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(rbuf, (int)size, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        MPI_Recv(rbuf, (int)size, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(sbuf, (int)size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
    return MPI_Wtime() - t0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    size_t max_size = (size_t)256 << 20;
    size_t target_bytes = (size_t)2 << 30; /* bytes moved per timed measurement */
    size_t max_iters = 20000;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc) max_size = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--target-bytes") && i + 1 < argc) target_bytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-iters") && i + 1 < argc) max_iters = strtoull(argv[++i], NULL, 10);
    }
    if (nranks != 2) {
        if (rank == 0) fprintf(stderr, "mpi_pingpong: needs exactly 2 ranks, got %d\n", nranks);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (max_size > (size_t)1 << 30) max_size = (size_t)1 << 30; /* int count limit headroom */

    size_t sizes[32];
    int nsizes = 0;
    for (size_t s = 8; s < max_size && nsizes < 31; s *= 4) sizes[nsizes++] = s;
    sizes[nsizes++] = max_size;

    const char *modes[2] = {"untouched", "touched"};
    for (int m = 0; m < 2; ++m) {
        for (int si = 0; si < nsizes; ++si) {
            size_t size = sizes[si];
            char *sbuf = malloc(size);
            char *rbuf = malloc(size);
            if (!sbuf || !rbuf) {
                fprintf(stderr, "mpi_pingpong: rank %d malloc of 2 x %zu bytes failed\n", rank, size);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            if (m == 1) {
                memset(sbuf, rank + 1, size);
                memset(rbuf, 0, size);
            }
            MPI_Barrier(MPI_COMM_WORLD);
            double first = round_trip(rank, sbuf, rbuf, size); /* untouched: pays page faults */
            int iters = iterations_for(size, target_bytes, max_iters);
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int it = 0; it < iters; ++it) round_trip(rank, sbuf, rbuf, size);
            double elapsed = MPI_Wtime() - t0;
            if (rank == 0) {
                double one_way = elapsed / iters / 2.0;
                printf("{\"suite\":\"mpi_pingpong\",\"name\":\"pingpong_%s\",\"value\":%.3f,\"unit\":\"us\","
                       "\"bytes\":%zu,\"bandwidth_GBps\":%.4f,\"first_rtt_us\":%.3f,\"iterations\":%d,"
                       "\"mode\":\"%s\"}\n",
                       modes[m], one_way * 1e6, size, (double)size / one_way / 1e9, first * 1e6, iters, modes[m]);
                fflush(stdout);
            }
            free(sbuf);
            free(rbuf);
        }
    }
    MPI_Finalize();
    return 0;
}
