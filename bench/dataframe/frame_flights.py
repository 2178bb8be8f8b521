"""The flights lesson (tessera-lesson frame-flights) against Dask dataframe and pandas, one run.

usage: frame_flights.py TESSERA_LESSON [--n 5000000] [--files 10] [--dir DIR] [--mpirun MPIRUN]

tessera-lesson writes the yearly CSV files (deterministic) into DIR and times its own queries
(the Dask tutorial's: rows, flights not cancelled and per airport, mean delay per airport, worst
day of the week and month, max, mean and std), each a separate compute as in the tutorial.
Then, on the same files in the page cache, Dask dataframe (sync, threads, processes) and pandas
(one thread) run the same queries the same way; every line must equal tessera's. Prints a table.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import dask
import dask.dataframe as dd
import pandas as pd


def line(df, flown, n, not_cancelled, per_airport, delay, by_day, by_month, mx, mean, std):
    parts = [
        f"rows={n}",
        f"not_cancelled={not_cancelled}",
        "flights=" + ",".join(f"{k}:{v}" for k, v in per_airport.sort_index().items()),
        "mean_delay=" + ",".join(f"{k}:{v:.4f}" for k, v in delay.sort_index().items()),
        f"worst_day={by_day.idxmax()}",
        f"worst_month={by_month.idxmax()}",
        f"max_delay={mx:.4f}",
        f"mean={mean:.4f}",
        f"std={std:.4f}",
    ]
    return "result=" + ";".join(parts)


def run_dask(d, scheduler):
    with dask.config.set(scheduler=scheduler):
        t0 = time.perf_counter()
        df = dd.read_csv(os.path.join(d, "*.csv"), parse_dates=["Date"], na_values=["NA"], blocksize=1 << 20,
                         dtype={"DepDelay": "float64", "ArrDelay": "float64"})  # as the tutorial gives
        flown = df[~df["Cancelled"]]
        n, not_cancelled, mx, mean, std = dask.compute(
            df.shape[0], flown.shape[0], df["DepDelay"].max(), df["DepDelay"].mean(), df["DepDelay"].std())
        per_airport = flown.groupby("Origin").size().compute()
        delay = df.groupby("Origin")["DepDelay"].mean().compute()
        by_day = df.groupby("DayOfWeek")["DepDelay"].mean().compute()
        by_month = df.groupby(df["Date"].dt.month)["DepDelay"].mean().compute()
        t = time.perf_counter() - t0
    return t, line(df, flown, n, not_cancelled, per_airport, delay, by_day, by_month, mx, mean, std)


def run_pandas(d):
    t0 = time.perf_counter()
    files = sorted(f for f in os.listdir(d) if f.endswith(".csv"))
    df = pd.concat([pd.read_csv(os.path.join(d, f), parse_dates=["Date"], na_values=["NA"]) for f in files],
                   ignore_index=True)
    flown = df[~df["Cancelled"]]
    out = line(df, flown, len(df), len(flown), flown.groupby("Origin").size(), df.groupby("Origin")["DepDelay"].mean(),
               df.groupby("DayOfWeek")["DepDelay"].mean(), df.groupby(df["Date"].dt.month)["DepDelay"].mean(),
               df["DepDelay"].max(), df["DepDelay"].mean(), df["DepDelay"].std())
    return time.perf_counter() - t0, out


def run_tessera(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = next(l for l in out.splitlines() if l.startswith("result="))
    return float(re.search(r"Compute time: ([0-9.e+-]+)s", out).group(1)), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lesson")
    ap.add_argument("--n", type=int, default=5_000_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "tessera-frame-flights"))
    ap.add_argument("--mpirun", default="mpirun")
    a = ap.parse_args()
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    base = [a.lesson, "frame-flights", "--n", str(a.n), "--files", str(a.files), "--data", a.dir]
    rows = []
    for label, cmd in [("tessera, threads 1", base + ["--scheduler", "threads", "--threads", "1"]),
                       ("tessera, threads 2", base + ["--scheduler", "threads", "--threads", "2"]),
                       ("tessera, MPI 2 workers (3 ranks)",
                        [a.mpirun, "-n", "3", "--oversubscribe"] + base + ["--scheduler", "mpi"])]:
        rows.append((label,) + run_tessera(cmd))
    size = sum(os.path.getsize(os.path.join(a.dir, f)) for f in os.listdir(a.dir))
    subprocess.run(["cat"] + [os.path.join(a.dir, f) for f in os.listdir(a.dir)], stdout=subprocess.DEVNULL)
    rows.append(("pandas (1 thread)",) + run_pandas(a.dir))
    for s in ("sync", "threads", "processes"):
        rows.append((f"Dask dataframe, {s}",) + run_dask(a.dir, s))
    want = rows[0][2]
    dask_best = min(t for label, t, _ in rows if label.startswith("Dask"))
    print(f"# {a.n} rows in {a.files} files, {size / 1e6:.0f} MB, {os.cpu_count()} cores, "
          f"load {open('/proc/loadavg').read().split()[0]}")
    print("| run | seconds | vs Dask best | same line as tessera threads 1 |")
    print("|---|---|---|---|")
    bad = 0
    for label, t, result in rows:
        same = result == want
        bad += not same
        print(f"| {label} | {t:.2f} | {dask_best / t:.2f}x | {'yes' if same else 'NO'} |")
    if bad:
        print("lines that differ:\n" + "\n".join(r for _, _, r in rows if r != want), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
