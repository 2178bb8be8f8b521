#!/usr/bin/python3
"""Dask bag on the accounts JSON lines bench/bag/bm_bag_json generates (same workload): records
= read_text(files).map(json.loads); in one dask.compute: the count of Alice's records, the sum of
amounts per name (foldby) and the group sizes of id % 7 (groupby), with the sync, threads and
processes schedulers; and json.loads of every line in one plain-Python loop.

Prints one line per run in bm_bag_json's format.
Usage: /usr/bin/python3 dask_bag_json.py DIR [--schedulers sync,threads,processes] [--workers 2]
"""
import argparse
import glob
import json
import os
import time

import dask
import dask.bag as db


def amount_sum(r):
    return sum(t["amount"] for t in r["transactions"])


def dask_run(files, scheduler, workers, nbytes):
    t0 = time.perf_counter()
    recs = db.read_text(files).map(json.loads)
    alice = recs.filter(lambda r: r["name"] == "Alice").count()
    by_name = recs.foldby(lambda r: r["name"], lambda acc, r: acc + amount_sum(r), 0,
                          lambda a, b: a + b, 0)
    sizes = recs.groupby(lambda r: r["id"] % 7).map(lambda g: (g[0], len(g[1])))
    with dask.config.set(scheduler=scheduler, num_workers=workers):
        n, sums, groups = dask.compute(alice, by_name, sizes)
    secs = time.perf_counter() - t0
    sums, groups = sorted(sums), sorted(groups)
    print(f"json mode=dask-{scheduler}-{workers} seconds={secs:.3f} MB/s={nbytes / 1e6 / secs:.1f} "
          f"alice={n} alice_sum={sums[0][1]} groups={len(groups)} group0={groups[0][1]}", flush=True)


def python_parse(files, nbytes):
    t0 = time.perf_counter()
    records = transactions = 0
    for path in files:
        with open(path) as f:
            for line in f:
                transactions += len(json.loads(line)["transactions"])
                records += 1
    secs = time.perf_counter() - t0
    print(f"json mode=python-json.loads seconds={secs:.3f} MB/s={nbytes / 1e6 / secs:.1f} "
          f"records={records} transactions={transactions}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--schedulers", default="sync,threads,processes")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--python", action="store_true", help="also json.loads in a plain loop")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "*.jsonl")))
    nbytes = sum(os.path.getsize(f) for f in files)
    for s in args.schedulers.split(","):
        dask_run(files, s, args.workers, nbytes)
    if args.python:
        python_parse(files, nbytes)


if __name__ == "__main__":
    main()
