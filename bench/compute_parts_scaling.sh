#!/usr/bin/env bash
# The lesson's compute-parts scaling table on this machine, without SLURM: the CPU-bound parts
# on 1, 2 and 4 MPI worker ranks (mpirun -n 2 / 3 / 5; rank 0 schedules), next to the thread
# scheduler on 1 and 2 threads and Python Dask's threaded run of the same loop when installed.
# (slurm/compute_parts_scaling.sbatch prints the same table inside an allocation.)
#   bash bench/compute_parts_scaling.sh [--size N] [--parts N] [--workers "1 2 4"] [--build DIR]
# Prints one row per run: workers or threads, the result, and the app's compute time; the
# speed-up is against the first row of the same kind.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
size=4000000000; parts=4; workers="1 2 4"; build="$TESSERA_ROOT/build-bench"
while (($#)); do
  case $1 in
    --size) size=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: bench/compute_parts_scaling.sh [--size N] [--parts N] [--workers \"1 2 4\"] [--build DIR]" >&2; exit 2 ;;
  esac
done
lesson="$build/apps/lesson/tessera-lesson"
[[ -x "$lesson" ]] || { echo "compute_parts_scaling: no $lesson (build with bash bench/run_all.sh or cmake --build $build --target tessera-lesson)" >&2; exit 1; }

field() { sed -n "s/^$1\([-+0-9.eE]*\).*/\1/p" <<<"$2" | tail -n 1; }
echo "compute-parts --size $size --parts $parts on $(nproc) cores (best of 3 runs each)"
printf '%-24s %-20s %-12s %s\n' run result compute_s speedup
best_of() {  # best compute time of three runs of "$@"; echoes "result time"
  local best="" result="" out t
  for _ in 1 2 3; do
    out="$("$@" 2>&1)" || { echo "compute_parts_scaling: failed: $*" >&2; printf '%s\n' "$out" >&2; exit 1; }
    t="$(field 'Compute time: ' "$out")"; result="$(field 'result=' "$out")"
    if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
  done
  echo "$result $best"
}
row() {  # label result time base
  printf '%-24s %-20s %-12s %s\n' "$1" "$2" "$3" "$(awk -v b="$4" -v t="$3" 'BEGIN{printf "%.2f", b/t}')"
}
base=""
for t in 1 2; do
  read -r result time < <(best_of "$lesson" compute-parts --scheduler threads --threads "$t" --size "$size" --parts "$parts")
  base=${base:-$time}
  row "threads=$t" "$result" "$time" "$base"
done
base=""
for w in $workers; do
  read -r result time < <(best_of mpirun -n $((w + 1)) "$lesson" compute-parts --scheduler mpi --size "$size" --parts "$parts")
  base=${base:-$time}
  row "mpi workers=$w (ranks $((w + 1)))" "$result" "$time" "$base"
done
PYTHON="${PYTHON:-/usr/bin/python3}"  # Debian's, where python3-dask is installed
if "$PYTHON" -c 'import dask' 2>/dev/null; then
  "$PYTHON" - "$size" "$parts" <<'EOF'
import sys, time
import dask
size, parts = int(sys.argv[1]), int(sys.argv[2])
def compute_part(lo, hi):
    s = 0
    for i in range(lo, hi):
        s += i
    return s
# Python is ~100x slower per iteration: a 100x smaller size, times scaled back up.
scale = 100
n = size // scale
tasks = [dask.delayed(compute_part)(n * k // parts, n * (k + 1) // parts) for k in range(parts)]
total = dask.delayed(sum)(tasks)
for sched in ("sync", "threads"):
    t0 = time.perf_counter()
    total.compute(scheduler=sched)
    dt = (time.perf_counter() - t0) * scale
    print(f"{'dask ' + sched + ' (x' + str(scale) + ')':<24} {'-':<20} {dt:<12.3f} -")
EOF
fi
