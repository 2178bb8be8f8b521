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


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


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
    t_raw, _ = timed(raw)

    def with_pandas():
        df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
        return df.groupby("key")["x"].mean()

    t_pandas, want = timed(with_pandas)

    import dask
    import dask.dataframe as dd

    def with_dask():
        return dd.read_csv(glob, blocksize=64e6).groupby("key")["x"].mean().compute(
            scheduler="threads", num_workers=a.threads)

    with dask.config.set(scheduler="threads"):
        t_dask, got_dask = timed(with_dask)

    out = subprocess.run([a.binary, glob, str(a.threads)], check=True, capture_output=True, text=True)
    tess = json.loads(out.stdout.strip().splitlines()[-1])
    t_tess = tess["read_csv_groupby_mean_s"]
    t_parse = tess["parse_s"]
    assert tess["rows"] == a.rows, tess
    assert abs(tess["checksum"] - float(want.sum())) < 1e-6 * max(1.0, abs(float(want.sum()))), (tess, want.sum())
    assert np.allclose(got_dask.sort_index().values, want.sort_index().values)

    rows = [
        ("raw read (python, 1 thread)", t_raw, 1),
        ("pandas read_csv + groupby mean (1 thread)", t_pandas, 1),
        (f"dask read_csv + groupby mean (threads={a.threads})", t_dask, a.threads),
        (f"tessera read_csv + groupby mean (threads={a.threads})", t_tess, a.threads),
        (f"tessera read_csv only, parse (threads={a.threads})", t_parse, a.threads),
    ]
    print(f"{a.rows} rows, {len(paths)} files, {mb:.1f} MB of CSV, {tess['partitions']} tessera partitions")
    print(f"{'what':55s} {'s':>8s} {'MB/s':>9s} {'MB/s/core':>10s}")
    for name, t, cores in rows:
        print(f"{name:55s} {t:8.3f} {mb / t:9.1f} {mb / t / cores:10.1f}")
    print(f"tessera vs dask: {t_dask / t_tess:.2f}x, vs pandas: {t_pandas / t_tess:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
