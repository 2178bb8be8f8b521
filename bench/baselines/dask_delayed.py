#!/usr/bin/python3
"""Dask delayed / distributed / futures overhead baselines.

Measures (JSON lines on stdout, suite "dask_delayed"):
  * dask.delayed graph build time and compute time per task for N trivial
    independent leaves and for a pairwise tree sum over them, with the
    synchronous and threaded schedulers (N = 10k, 100k; 1M for threads under a
    time limit, run in a child process);
  * the same for 10k tasks on a dask.distributed LocalCluster (2 worker
    processes x 1 thread, no dashboard);
  * futures: round-trip latency of client.submit(...).result() and the
    throughput of 10k submits;
  * the lesson's computePart(size) (pure-Python loop, 4 parts) with the
    synchronous, threaded and 2-process distributed schedulers (GIL demo).

Usage: /usr/bin/python3 dask_delayed.py [--quick] [--out FILE]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from operator import add

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import Timer, emit, log, metadata, setup_output  # noqa: E402

import dask  # noqa: E402
from dask import delayed  # noqa: E402

SUITE = "dask_delayed"


def noop(i):
    return i


def compute_part(size):
    """The lesson's computePart: sum of i for i < size, as a pure-Python loop."""
    part = 0
    for i in range(size):
        part = part + i
    return part


def build_leaves(n):
    f = delayed(noop)
    return [f(i) for i in range(n)]


def build_tree(leaves):
    f = delayed(add)
    level = leaves
    while len(level) > 1:
        nxt = [f(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def bench_graph(n, scheduler, label=None, **compute_kw):
    """Builds + computes N leaves, then a tree sum over fresh leaves; emits per-task times."""
    label = label or scheduler
    with Timer() as tb:
        leaves = build_leaves(n)
    emit(SUITE, "leaves_build_per_task", tb.s / n * 1e6, "us", scheduler=label, n_tasks=n,
         seconds=tb.s)
    with Timer() as tc:
        (res,) = dask.compute(leaves, scheduler=scheduler, **compute_kw)
    assert len(res) == n and res[-1] == n - 1
    emit(SUITE, "leaves_compute_per_task", tc.s / n * 1e6, "us", scheduler=label, n_tasks=n,
         seconds=tc.s)
    del leaves, res

    with Timer() as tb:
        total = build_tree(build_leaves(n))
    n_tasks = 2 * n - 1
    emit(SUITE, "tree_sum_build_per_task", tb.s / n_tasks * 1e6, "us", scheduler=label,
         n_leaves=n, n_tasks=n_tasks, seconds=tb.s)
    with Timer() as tc:
        (val,) = dask.compute(total, scheduler=scheduler, **compute_kw)
    assert val == n * (n - 1) // 2, val
    emit(SUITE, "tree_sum_compute_per_task", tc.s / n_tasks * 1e6, "us", scheduler=label,
         n_leaves=n, n_tasks=n_tasks, seconds=tc.s)


def run_big_child(n, limit_s):
    """Runs the N-task threaded benchmark in a child under a wall-clock limit.

    The child's JSON lines are forwarded as they arrive; if the limit is hit the
    child is killed and a `threads_big_timed_out` record lists what it completed.
    """
    import json
    import threading

    cmd = [sys.executable, os.path.abspath(__file__), "--child-threads", str(n)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    reached = []

    def forward():
        for line in proc.stdout:
            print(line, end="", flush=True)  # already a JSON line from the child
            reached.append(json.loads(line)["name"])

    reader = threading.Thread(target=forward, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join()
        emit(SUITE, "threads_big_timed_out", limit_s, "s", n_tasks=n, completed_measurements=reached,
             note=f"child killed after {limit_s:.0f} s; measurements above were completed")
        return
    reader.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{n}-task child failed with rc={proc.returncode}")


def bench_distributed(n, futures_n, latency_reps, part_size, parts):
    from distributed import Client, LocalCluster

    with Timer() as ts:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    emit(SUITE, "localcluster_startup", ts.s, "s", n_workers=2, threads_per_worker=1)
    try:
        client.submit(noop, 0, pure=False).result()  # warm up
        bench_graph(n, client, label="distributed_2proc")

        # futures: single round trip latency
        lat = []
        for i in range(latency_reps):
            t0 = time.perf_counter()
            r = client.submit(noop, i, pure=False).result()
            lat.append(time.perf_counter() - t0)
            assert r == i
        emit(SUITE, "future_roundtrip_latency_median", statistics.median(lat) * 1e6, "us",
             reps=latency_reps, mean_us=statistics.mean(lat) * 1e6, min_us=min(lat) * 1e6)

        # futures: throughput of N submits
        with Timer() as tsub:
            futs = [client.submit(noop, i, pure=False) for i in range(futures_n)]
        with Timer() as tg:
            res = client.gather(futs)
        assert res[-1] == futures_n - 1
        total = tsub.s + tg.s
        emit(SUITE, "futures_submit_throughput", futures_n / total, "tasks/s", n_tasks=futures_n,
             submit_seconds=tsub.s, gather_seconds=tg.s, per_task_us=total / futures_n * 1e6)
        del futs, res
        with Timer() as tm:
            futs = client.map(noop, range(futures_n), pure=False)
            res = client.gather(futs)
        emit(SUITE, "futures_map_throughput", futures_n / tm.s, "tasks/s", n_tasks=futures_n,
             seconds=tm.s, per_task_us=tm.s / futures_n * 1e6)
        del futs, res

        bench_compute_parts(part_size, parts, client, "distributed_2proc")
    finally:
        client.close()
        cluster.close()


def bench_compute_parts(size, parts, scheduler, label):
    tasks = [delayed(compute_part)(size) for _ in range(parts)]
    total = delayed(sum)(tasks)
    with Timer() as t:
        (val,) = dask.compute(total, scheduler=scheduler)
    assert val == parts * (size * (size - 1) // 2)
    emit(SUITE, "compute_parts", t.s, "s", scheduler=label, part_size=size, parts=parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--big-limit", type=float, default=150.0,
                    help="wall-clock limit (s) for the 1M-task threaded run")
    ap.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child_threads:
        bench_graph(args.child_threads, "threads")
        return

    setup_output(args.out)
    emit(SUITE, "metadata", 0, "", **metadata())
    if args.quick:
        sizes, big, dist_n, fut_n, lat_reps, part_size = [1000], 0, 1000, 1000, 50, 400_000
    else:
        sizes, big, dist_n, fut_n, lat_reps, part_size = [10_000, 100_000], 1_000_000, 10_000, \
            10_000, 200, 40_000_000
    parts = 4

    for n in sizes:
        for sched in ("sync", "threads"):
            log(f"[dask_delayed] {n} tasks, {sched}")
            bench_graph(n, sched)
    if big:
        log(f"[dask_delayed] {big} tasks, threads (limit {args.big_limit:.0f} s)")
        run_big_child(big, args.big_limit)

    for sched in ("sync", "threads"):
        log(f"[dask_delayed] compute parts {parts} x {part_size}, {sched}")
        bench_compute_parts(part_size, parts, sched, sched)

    log(f"[dask_delayed] distributed LocalCluster, {dist_n} tasks")
    bench_distributed(dist_n, fut_n, lat_reps, part_size, parts)


if __name__ == "__main__":
    main()
