#!/usr/bin/env bash
# Runs the side-by-side baselines tessera's benchmarks are compared against:
# STREAM-like memory bandwidth, raw MPI ping-pong, raw disk, Dask delayed /
# distributed / futures overheads and Dask array vs NumPy (see
# bench/baselines/README.md).
#
# Usage: bench/run_baselines.sh [--quick] [--out FILE]
#   --quick     shrink every size (whole run < 1 minute; smoke test)
#   --out FILE  write the JSON lines to FILE (default: stdout)
#   --only LIST run only these steps (comma list of stream,disk,mpi,delayed,array)
# A human-readable table is printed at the end (to stdout).
# Environment: PYTHON (default /usr/bin/python3), TMPDIR (disk/HDF5 files, default /tmp),
#              DELAYED_1M_LIMIT (seconds allowed for the 1M-task threaded Dask run, default 150).
set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base="$here/baselines"
build="$base/build"
quick=0
out=""
only="stream,disk,mpi,delayed,array"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --out) out="${2:?--out needs a file}"; shift 2 ;;
        --out=*) out="${1#--out=}"; shift ;;
        --only) only="${2:?--only needs a list}"; shift 2 ;;
        --only=*) only="${1#--only=}"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "run_baselines.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

PYTHON="${PYTHON:-/usr/bin/python3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export TMPDIR="${TMPDIR:-/tmp}"

if [[ -n "$out" ]]; then
    mkdir -p "$(dirname "$out")"
    : > "$out"
    results="$out"
    sink() { cat >> "$results"; }
else
    results="$(mktemp "${TMPDIR}/tessera_baselines.XXXXXX.jsonl")"
    trap 'rm -f "$results"' EXIT
    sink() { tee -a "$results"; }
fi

failures=0
load1() { cut -d' ' -f1 /proc/loadavg; }
wanted() { [[ ",$only," == *",$1,"* ]]; }
# run_step LABEL CMD... : runs CMD, appends its stdout (JSON lines) to the results, records
# failures and the 1-minute load average before/after (other work on the machine skews numbers).
run_step() {
    local label="$1"; shift
    echo "== $label: $*" >&2
    local t0=$SECONDS
    local l0
    l0="$(load1)"
    "$@" | sink
    local rc=${PIPESTATUS[0]}
    printf '{"suite":"run","name":"step_load1","value":%s,"unit":"load","step":"%s","load1_after":%s,"seconds":%d}\n' \
        "$l0" "$label" "$(load1)" "$((SECONDS - t0))" | sink
    echo "== $label: rc=$rc, $((SECONDS - t0)) s" >&2
    if [[ $rc -ne 0 ]]; then
        failures=$((failures + 1))
        printf '{"suite":"run","name":"step_failed","value":%d,"unit":"rc","step":"%s"}\n' "$rc" "$label" | sink
    fi
}

# --- build the C programs -------------------------------------------------
mkdir -p "$build"
set -e
gcc -O2 -Wall -Wextra -pthread -o "$build/stream" "$base/stream.c"
gcc -O2 -Wall -Wextra -o "$build/disk" "$base/disk.c"
mpicc -O2 -Wall -Wextra -o "$build/mpi_pingpong" "$base/mpi_pingpong.c"
set +e

cpu_model="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/"//g')"
printf '{"suite":"run","name":"metadata","value":0,"unit":"","quick":%s,"OPENBLAS_CORETYPE":%s,"nproc":%s,"cpu":"%s","kernel":"%s","mem_total_kB":%s,"tmpdir":"%s","date":"%s","mpirun":"%s","gcc":"%s"}\n' \
    "$([[ $quick == 1 ]] && echo true || echo false)" \
    "$([[ -n "${OPENBLAS_CORETYPE+x}" ]] && printf '"%s"' "$OPENBLAS_CORETYPE" || echo null)" \
    "$(nproc)" "$cpu_model" "$(uname -r)" "$(awk '/MemTotal/ {print $2}' /proc/meminfo)" \
    "$TMPDIR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(mpirun --version 2>/dev/null | head -1)" \
    "$(gcc -dumpfullversion)" | sink

if [[ $quick == 1 ]]; then
    wanted stream && run_step stream "$build/stream" --bytes $((64 << 20)) --reps 2
    wanted disk && run_step disk "$build/disk" --bytes $((128 << 20))
    wanted mpi && run_step mpi_pingpong mpirun -n 2 "$build/mpi_pingpong" --max $((4 << 20)) --target-bytes $((64 << 20)) --max-iters 2000
    wanted delayed && run_step dask_delayed "$PYTHON" "$base/dask_delayed.py" --quick
    wanted array && run_step dask_array "$PYTHON" "$base/dask_array.py" --quick
else
    wanted stream && run_step stream "$build/stream" --bytes $((1 << 30)) --reps 5
    wanted disk && run_step disk "$build/disk" --bytes $((2 << 30))
    wanted mpi && run_step mpi_pingpong mpirun -n 2 "$build/mpi_pingpong" --max $((256 << 20)) --target-bytes $((2 << 30))
    wanted delayed && run_step dask_delayed "$PYTHON" "$base/dask_delayed.py" --big-limit "${DELAYED_1M_LIMIT:-150}"
    wanted array && run_step dask_array "$PYTHON" "$base/dask_array.py"
fi

echo
"$PYTHON" "$base/report.py" "$results"
if [[ $failures -ne 0 ]]; then
    echo "run_baselines.sh: $failures step(s) failed" >&2
    exit 1
fi
