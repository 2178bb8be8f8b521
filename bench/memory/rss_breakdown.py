#!/usr/bin/env python3
"""Where a tessera worker's resident memory goes.

Runs a command (typically `mpirun -n 5 tessera-bounded ...`), samples /proc/PID/smaps of every
process whose command line contains --match (default: the command's program name) every
--interval seconds, and for each process keeps the sample with the largest RSS. Prints, for each
process at its peak, RSS split by kind of mapping:

  binary+libs   file-backed mappings (code, read-only data of the program and its libraries)
  heap          [heap] (brk): glibc's main arena
  anon-arena    anonymous mappings of 64 MiB-aligned glibc thread arenas, and other anon maps
  stacks        [stack] and thread stacks (anon mappings with a guard page just below)
  shmem         shared memory (Open MPI's vader/sm segments in /dev/shm, memfd, SysV)

  python3 bench/memory/rss_breakdown.py --match tessera-bounded -- mpirun -n 5 build-release/apps/bounded/tessera-bounded --n 8000 --chunk 500 --memory-limit 16MiB
"""
import argparse
import os
import subprocess
import sys
import time


def classify(path):
    if path.startswith("[heap]"):
        return "heap"
    if path.startswith("[stack"):
        return "stacks"
    if path.startswith("/dev/shm") or path.startswith("/SYSV") or "memfd:" in path:
        return "shmem"
    if path:
        return "binary+libs"  # files, and [vdso]/[vvar]
    return "anon"


def sample(pid):
    """Returns (total_rss_kib, {kind: kib}) for one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    kinds = {}
    maps = []
    total = 0
    cur_path = None
    prev_end = None
    prev_was_guard = False
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
            rng = parts[0].split("-")
            start, end = int(rng[0], 16), int(rng[1], 16)
            perms = parts[1]
            path = " ".join(parts[5:]) if len(parts) > 5 else ""
            kind = classify(path)
            if kind == "anon":
                # A thread stack: an rw anonymous mapping right above a ---p guard page.
                if prev_was_guard and prev_end == start and end - start <= 16 << 20:
                    kind = "stacks"
                elif (end - start) >= (1 << 20) and perms.startswith("rw"):
                    kind = "anon-arena"
                else:
                    kind = "anon-small"
            prev_was_guard = perms.startswith("---") and path == ""
            maps.append([kind, end - start, 0, path])
            prev_end = end
            cur_path = kind
        elif parts[0] == "Rss:":
            kib = int(parts[1])
            kinds[cur_path] = kinds.get(cur_path, 0) + kib
            total += kib
            if maps:
                maps[-1][2] = kib
    kinds["_maps"] = maps
    return total, kinds


def find_pids(match, exclude):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in exclude:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if match in cmd and "mpirun" not in cmd.split(" ")[0] and "rss_breakdown" not in cmd:
            out.append(int(d))
    return out


def rank_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for kv in f.read().split(b"\0"):
                if kv.startswith(b"OMPI_COMM_WORLD_RANK="):
                    return int(kv.split(b"=", 1)[1])
    except OSError:
        pass
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--match", default=None)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--maps", type=int, default=0, help="also list each process's N largest anonymous mappings")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    match = a.match or os.path.basename(cmd[-1] if not cmd[0].startswith("mpirun") else cmd[3])
    proc = subprocess.Popen(cmd)
    peaks = {}
    ranks = {}
    while proc.poll() is None:
        for pid in find_pids(match, {os.getpid(), proc.pid}):
            s = sample(pid)
            if s is None:
                continue
            if pid not in ranks:
                ranks[pid] = rank_of(pid)
            if pid not in peaks or s[0] > peaks[pid][0]:
                peaks[pid] = s
        time.sleep(a.interval)
    order = ["binary+libs", "heap", "anon-arena", "anon-small", "stacks", "shmem"]
    print("\nper-process RSS at its sampled peak (MiB):")
    print("%-6s %8s " % ("rank", "RSS") + " ".join("%11s" % k for k in order))
    for pid, (total, kinds) in sorted(peaks.items(), key=lambda kv: ranks.get(kv[0], 99)):
        print("%-6d %8.1f " % (ranks.get(pid, -1), total / 1024) +
              " ".join("%11.1f" % (kinds.get(k, 0) / 1024) for k in order))
    if a.maps:
        for pid, (total, kinds) in sorted(peaks.items(), key=lambda kv: ranks.get(kv[0], 99)):
            big = sorted((m for m in kinds["_maps"] if m[0] != "binary+libs"), key=lambda m: -m[2])[:a.maps]
            print("rank %d largest non-file mappings (kind, size MiB, rss MiB):" % ranks.get(pid, -1))
            for kind, size, rss, path in big:
                print("   %-11s %8.2f %8.2f %s" % (kind, size / 2**20, rss / 1024, path))
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
