"""read_csv + groupby mean: tessera against Dask dataframe (threads) and pandas, one run.

usage: dataframe_csv_groupby.py BM_DATAFRAME_CSV [--rows 10000000] [--files 8] [--dir DIR]
                                [--threads N]

Generates the CSV files once, deterministically (numpy seed 15; the same files for every
system; kept in DIR and reused when their manifest matches), then times, with the files in the
page cache: a raw read of the bytes, pandas (one thread), Dask (threads scheduler, N workers),
tessera (bm_dataframe_csv, a thread pool of N). Prints a table and MB/s of CSV per core.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def generate(d, rows, files):
    manifest = os.path.join(d, "manifest.json")
    want = {"rows": rows, "files": files, "version": 1}
    if os.path.exists(manifest) and json.load(open(manifest)) == want:
        return
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(15)
    per = rows // files
    for f in range(files):
        n = per if f < files - 1 else rows - per * (files - 1)
        df = pd.DataFrame({
            "key": np.char.add("k", rng.integers(0, 100, n).astype(str)),
            "x": rng.normal(0, 100, n).round(3),
            "y": rng.integers(0, 1_000_000, n),
            "z": rng.random(n).round(6),
        })
        df.to_csv(os.path.join(d, f"part-{f:03d}.csv"), index=False)
    json.dump(want, open(manifest, "w"))


CPU = {}


def timed(fn, name=None):
    """Wall seconds; the CPU seconds of this process (all threads) go to CPU[name]."""
    c = time.process_time()
    t = time.perf_counter()
    out = fn()
    if name:
        CPU[name] = time.process_time() - c
    return time.perf_counter() - t, out


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--dir", default="/tmp/tessera-bench-dataframe")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    generate(a.dir, a.rows, a.files)
    paths = sorted(os.path.join(a.dir, p) for p in os.listdir(a.dir) if p.endswith(".csv"))
    glob = os.path.join(a.dir, "part-*.csv")
    mb = sum(os.path.getsize(p) for p in paths) / 1e6

    def raw():
        n = 0
        for p in paths:
            with open(p, "rb") as fh:
                n += len(fh.read())
        return n

    raw()  # into the page cache
    t_raw, _ = timed(raw, "raw")

    def with_pandas():
        df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
        return df.groupby("key")["x"].mean()

    t_pandas, want = timed(with_pandas, "pandas")

    import dask
    import dask.dataframe as dd

    def with_dask():
        return dd.read_csv(glob, blocksize=64e6).groupby("key")["x"].mean().compute(
            scheduler="threads", num_workers=a.threads)

    with dask.config.set(scheduler="threads"):
        t_dask, got_dask = timed(with_dask, "dask")

    c0 = child_cpu()
    out = subprocess.run([a.binary, glob, str(a.threads)], check=True, capture_output=True, text=True)
    CPU["tessera"] = child_cpu() - c0  # the program parses twice: length(), then groupby
    tess = json.loads(out.stdout.strip().splitlines()[-1])
    t_tess = tess["read_csv_groupby_mean_s"]
    t_parse = tess["parse_s"]
    assert tess["rows"] == a.rows, tess
    assert abs(tess["checksum"] - float(want.sum())) < 1e-6 * max(1.0, abs(float(want.sum()))), (tess, want.sum())
    assert np.allclose(got_dask.sort_index().values, want.sort_index().values)

    rows = [
        ("raw read (python, 1 thread)", t_raw, 1, mb / CPU["raw"]),
        ("pandas read_csv + groupby mean (1 thread)", t_pandas, 1, mb / CPU["pandas"]),
        (f"dask read_csv + groupby mean (threads={a.threads})", t_dask, a.threads, mb / CPU["dask"]),
        (f"tessera read_csv + groupby mean (threads={a.threads})", t_tess, a.threads, 2 * mb / CPU["tessera"]),
        (f"tessera read_csv only, parse (threads={a.threads})", t_parse, a.threads, None),
    ]
    print(f"{a.rows} rows, {len(paths)} files, {mb:.1f} MB of CSV, {tess['partitions']} tessera partitions, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'what':55s} {'s':>8s} {'MB/s':>9s} {'MB/s/core':>10s} {'MB/CPU-s':>9s}")
    for name, t, cores, per_cpu in rows:
        pc = f"{per_cpu:9.1f}" if per_cpu else f"{'':9s}"
        print(f"{name:55s} {t:8.3f} {mb / t:9.1f} {mb / t / cores:10.1f} {pc}")
    print("MB/CPU-s: MB of CSV per second of CPU time the system used (tessera's program parses the")
    print("files twice, length() then the groupby, so its figure counts both passes)")
    print(f"tessera vs dask: {t_dask / t_tess:.2f}x, vs pandas: {t_pandas / t_tess:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
