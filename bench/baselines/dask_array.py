#!/usr/bin/python3
"""Dask array vs NumPy baselines (threaded scheduler, one process).

Measures (JSON lines on stdout, suite "dask_array"), for an N x N float64
array in C x C chunks (default 20000 / 2000):
  * random normal generation + mean (dask: one graph; numpy: generate, then mean)
  * mean of a persisted (in-memory) array
  * (x + x.T).sum()
  * x @ x[:, :C]  (GFLOP/s)
  * the lesson's 1-D array mean: L normal(0, 0.1) values (default 800,000,000)
    in 4 and 16 chunks, and the NumPy equivalent
  * sum of an HDF5 dataset (written once with h5py, page cache dropped with
    posix_fadvise(DONTNEED)) via dask.array.from_array(h5py dataset).sum(),
    cold and warm, vs a raw cold read of the same file.
GB/s = bytes of the array(s) read by the operation / wall time (temporaries
and writes are not counted).

Usage: /usr/bin/python3 dask_array.py [--quick] [--n N] [--chunk C]
         [--lesson-n L] [--h5-bytes B] [--dir DIR] [--skip-numpy-lesson]
"""
import argparse
import gc
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import Timer, emit, log, metadata, setup_output  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402

SUITE = "dask_array"
GB = 1e9


def gbps(nbytes, s):
    return nbytes / s / GB


def bench_square(n, c, seed):
    nbytes = n * n * 8
    shape = dict(n=n, chunk=c, array_bytes=nbytes)
    dask.config.set(scheduler="threads")

    x = da.random.RandomState(seed).normal(0.0, 1.0, size=(n, n), chunks=(c, c))
    with Timer() as t:
        m = x.mean().compute()
    assert abs(m) < 0.01 + 10.0 / n, m
    emit(SUITE, "dask_random_normal_mean", t.s, "s", GBps=gbps(nbytes, t.s), impl="dask", **shape)

    with Timer() as t:
        xp = x.persist()
    emit(SUITE, "dask_persist_random_normal", t.s, "s", GBps=gbps(nbytes, t.s), impl="dask", **shape)
    with Timer() as t:
        m = xp.mean().compute()
    emit(SUITE, "dask_mean_persisted", t.s, "s", GBps=gbps(nbytes, t.s), impl="dask", **shape)
    with Timer() as t:
        s = (xp + xp.T).sum().compute()
    emit(SUITE, "dask_x_plus_xT_sum", t.s, "s", GBps=gbps(2 * nbytes, t.s), impl="dask",
         bytes_counted="2 reads of x", **shape)
    flops = 2.0 * n * n * c
    with Timer() as t:
        r = (xp @ xp[:, :c]).compute()
    assert r.shape == (n, c)
    emit(SUITE, "dask_matmul_x_xslab", flops / t.s / 1e9, "GFLOP/s", seconds=t.s, impl="dask",
         flops=flops, **shape)
    del xp, r, x
    gc.collect()

    # NumPy equivalents, one process (OpenBLAS may use its own threads for @)
    rs = np.random.RandomState(seed)
    with Timer() as tg:
        a = rs.normal(0.0, 1.0, size=(n, n))
    with Timer() as tm:
        m = a.mean()
    emit(SUITE, "numpy_random_normal_mean", tg.s + tm.s, "s", GBps=gbps(nbytes, tg.s + tm.s),
         generate_seconds=tg.s, mean_seconds=tm.s, impl="numpy", **shape)
    emit(SUITE, "numpy_mean", tm.s, "s", GBps=gbps(nbytes, tm.s), impl="numpy", **shape)
    with Timer() as t:
        s2 = (a + a.T).sum()
    emit(SUITE, "numpy_x_plus_xT_sum", t.s, "s", GBps=gbps(2 * nbytes, t.s), impl="numpy",
         bytes_counted="2 reads of x", **shape)
    with Timer() as t:
        r = a @ a[:, :c]
    emit(SUITE, "numpy_matmul_x_xslab", flops / t.s / 1e9, "GFLOP/s", seconds=t.s, impl="numpy",
         flops=flops, **shape)
    del a, r
    gc.collect()
    _ = (s, s2)


def bench_lesson(length, seed, with_numpy):
    nbytes = length * 8
    for nchunks in (4, 16):
        x = da.random.RandomState(seed).normal(0.0, 0.1, size=length, chunks=length // nchunks)
        with Timer() as t:
            m = x.mean().compute(scheduler="threads")
        assert abs(m) < 0.01, m
        emit(SUITE, "lesson_array_mean", t.s, "s", GBps=gbps(nbytes, t.s), impl="dask_threads",
             length=length, chunks=nchunks, array_bytes=nbytes)
        del x
    if with_numpy:
        with Timer() as t:
            m = np.random.RandomState(seed).normal(0.0, 0.1, size=length).mean()
        emit(SUITE, "lesson_array_mean", t.s, "s", GBps=gbps(nbytes, t.s), impl="numpy",
             length=length, chunks=1, array_bytes=nbytes)
        gc.collect()


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def raw_read(path, block=8 << 20):
    buf = bytearray(block)
    mv = memoryview(buf)
    total = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            r = f.readinto(mv)
            if not r:
                break
            total += r
    return total


def bench_hdf5(nbytes, directory):
    import h5py

    cols = 8192
    rows = max(1024, nbytes // (8 * cols) // 1024 * 1024)
    nbytes = rows * cols * 8
    slab = 1024
    fd, path = tempfile.mkstemp(prefix="tessera_baseline_", suffix=".h5", dir=directory)
    os.close(fd)
    try:
        expected = 0.0
        base = (np.arange(slab * cols, dtype=np.float64) % 1000.0).reshape(slab, cols) * 0.5
        with Timer() as tw:
            with h5py.File(path, "w") as f:
                d = f.create_dataset("x", shape=(rows, cols), dtype="f8",
                                     chunks=(min(1024, rows), 1024))
                for r0 in range(0, rows, slab):
                    block = base + float(r0 // slab)
                    d[r0:r0 + slab, :] = block
                    expected += float(block.sum())
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        file_bytes = os.path.getsize(path)
        emit(SUITE, "h5py_write_fsync", gbps(file_bytes, tw.s), "GB/s", seconds=tw.s,
             dataset_bytes=nbytes, file_bytes=file_bytes, path=path)

        drop_cache(path)
        with Timer() as t:
            got = raw_read(path)
        assert got == file_bytes
        emit(SUITE, "raw_file_read_cold", gbps(file_bytes, t.s), "GB/s", seconds=t.s,
             file_bytes=file_bytes)
        with Timer() as t:
            raw_read(path)
        emit(SUITE, "raw_file_read_warm", gbps(file_bytes, t.s), "GB/s", seconds=t.s,
             file_bytes=file_bytes)

        dchunks = (min(4096, rows), cols)
        for state in ("cold", "warm"):
            if state == "cold":
                drop_cache(path)
            with h5py.File(path, "r") as f:
                x = da.from_array(f["x"], chunks=dchunks)
                with Timer() as t:
                    s = x.sum().compute(scheduler="threads")
            assert abs(s - expected) <= 1e-9 * abs(expected), (s, expected)
            emit(SUITE, f"dask_h5_sum_{state}", gbps(nbytes, t.s), "GB/s", seconds=t.s,
                 dataset_bytes=nbytes, dask_chunks=list(dchunks), h5_chunks=[min(1024, rows), 1024])

        drop_cache(path)
        with h5py.File(path, "r") as f:
            with Timer() as t:
                s = 0.0
                for r0 in range(0, rows, 4096):
                    s += float(f["x"][r0:r0 + 4096, :].sum())
        emit(SUITE, "numpy_h5_slab_sum_cold", gbps(nbytes, t.s), "GB/s", seconds=t.s,
             dataset_bytes=nbytes, slab_rows=4096)
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--n", type=int)
    ap.add_argument("--chunk", type=int)
    ap.add_argument("--lesson-n", type=int)
    ap.add_argument("--h5-bytes", type=int)
    ap.add_argument("--dir", default=os.environ.get("TMPDIR") or "/tmp")
    ap.add_argument("--skip-numpy-lesson", action="store_true")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    setup_output(args.out)

    n = args.n or (2000 if args.quick else 20000)
    c = args.chunk or max(1, n // 10)
    lesson_n = args.lesson_n or (8_000_000 if args.quick else 800_000_000)
    h5_bytes = args.h5_bytes or ((64 << 20) if args.quick else (4 << 30))

    emit(SUITE, "metadata", 0, "", **metadata())
    log(f"[dask_array] square {n}x{n} chunks {c}")
    bench_square(n, c, args.seed)
    log(f"[dask_array] lesson mean of {lesson_n} values")
    bench_lesson(lesson_n, args.seed, not args.skip_numpy_lesson)
    log(f"[dask_array] hdf5 {h5_bytes} bytes in {args.dir}")
    bench_hdf5(h5_bytes, args.dir)


if __name__ == "__main__":
    main()
