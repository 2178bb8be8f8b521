#!/usr/bin/python3
"""Dask bag word count of the corpus bench/bag/bm_bag_wordcount generates (same workload):
read_text(files).str.split().flatten().frequencies() -> topk(10), the total and the distinct
count, with the sync, threads and processes schedulers, and a plain-Python single pass.

Prints one line per run in bm_bag_wordcount's format.
Usage: /usr/bin/python3 dask_bag_wordcount.py DIR [--schedulers sync,threads,processes] [--workers 2]
"""
import argparse
import collections
import glob
import os
import time

import dask
import dask.bag as db


def report(mode, seconds, top, total, distinct):
    print(f"wordcount mode={mode} seconds={seconds:.3f} words={total} distinct={distinct} "
          f"top={top[0][0]}:{top[0][1]}", flush=True)


def dask_run(files, scheduler, workers):
    t0 = time.perf_counter()
    freq = db.read_text(files).str.split().flatten().frequencies()
    top = freq.topk(10, key=1)
    total = freq.pluck(1).sum()
    distinct = freq.count()
    with dask.config.set(scheduler=scheduler, num_workers=workers):
        t, n, d = dask.compute(top, total, distinct)
    report(f"dask-{scheduler}-{workers}", time.perf_counter() - t0, list(t), n, d)


def python_run(files):
    t0 = time.perf_counter()
    counts = collections.Counter()
    for path in files:
        with open(path) as f:
            for line in f:
                counts.update(line.split())
    top = counts.most_common(10)
    report("python", time.perf_counter() - t0, top, sum(counts.values()), len(counts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--schedulers", default="sync,threads,processes")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--python", action="store_true", help="also the plain-Python loop")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "*.txt")))
    for s in args.schedulers.split(","):
        dask_run(files, s, args.workers)
    if args.python:
        python_run(files)


if __name__ == "__main__":
    main()
