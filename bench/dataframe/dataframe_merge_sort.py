"""merge, sort_values and set_index: tessera against Dask dataframe (threads) and pandas, one run.

usage: dataframe_merge_sort.py BM_DATAFRAME_MERGE_SORT [--rows 10000000] [--partitions 16]
                               [--threads N]

The tables are generated in memory with the formulas bm_dataframe_merge_sort.cpp uses (the same
rows for every system): left (id, x) with id = i * 7919 % rows, x = (i * 2654435761 % 1000003) / 7,
right (id, y) with id = i * 104729 % rows, y = i; so the inner merge on id has `rows` rows.
Times, in this order: pandas (one thread), Dask (threads scheduler, tasks shuffle, N workers,
from_pandas partitions), tessera (bm_dataframe_merge_sort, a thread pool of N, partitions
generated and persisted first). Generation is not timed. Prints a table.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def tables(rows):
    i = np.arange(rows, dtype=np.int64)
    left = pd.DataFrame({"id": (i * 7919) % rows, "x": ((i * 2654435761) % 1000003) / 7.0})
    right = pd.DataFrame({"id": (i * 104729) % rows, "y": i})
    return left, right


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    left, right = tables(a.rows)
    res = {}
    res["pandas", "merge"], m = timed(lambda: len(left.merge(right, on="id")))
    res["pandas", "sort_values"], s = timed(lambda: left.sort_values("x", kind="stable"))
    res["pandas", "set_index"], _ = timed(lambda: len(left.set_index("x").sort_index()))
    head = list(s["x"].head(3))
    del s

    import dask
    import dask.dataframe as dd
    dl = dd.from_pandas(left, npartitions=a.partitions)
    dr = dd.from_pandas(right, npartitions=a.partitions)
    with dask.config.set(scheduler="threads", num_workers=a.threads):
        dl, dr = dask.persist(dl, dr)
        res["dask", "merge"], dm = timed(lambda: len(dl.merge(dr, on="id", shuffle="tasks")))
        res["dask", "sort_values"], ds = timed(lambda: len(dl.sort_values("x")))
        res["dask", "set_index"], _ = timed(lambda: len(dl.set_index("x", shuffle="tasks")))

    out = subprocess.run([a.binary, str(a.rows), str(a.threads), str(a.partitions)], check=True,
                         capture_output=True, text=True).stdout
    t = json.loads(out)
    res["tessera", "merge"], res["tessera", "sort_values"], res["tessera", "set_index"] = (
        t["merge_s"], t["sort_values_s"], t["set_index_s"])
    assert t["merged"] == m == dm == a.rows, (t["merged"], m, dm)
    assert t["sorted"] == ds == a.rows
    assert np.allclose(t["head_x"], head), (t["head_x"], head)

    print(f"{a.rows} x {a.rows} rows, {a.partitions} partitions, {a.threads} threads")
    print(f"{'operation':14s} {'pandas s':>10s} {'dask s':>10s} {'tessera s':>10s} {'vs dask':>8s} {'vs pandas':>9s}")
    for op in ("merge", "sort_values", "set_index"):
        p, d, x = res["pandas", op], res["dask", op], res["tessera", op]
        print(f"{op:14s} {p:10.3f} {d:10.3f} {x:10.3f} {d / x:7.2f}x {p / x:8.2f}x")


if __name__ == "__main__":
    sys.exit(main())
