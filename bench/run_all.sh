#!/usr/bin/env bash
# Builds tessera's benchmarks (Release) and runs them side by side with the baselines (Python
# Dask, NumPy, STREAM, raw MPI ping-pong, raw disk) in one run, then prints the comparison.
#   bash bench/run_all.sh [--quick] [--out DIR]
# Results: DIR/tessera.jsonl, DIR/baselines.jsonl, DIR/*.txt (default DIR: bench/results).
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
quick=0; out="$TESSERA_ROOT/bench/results"
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: bench/run_all.sh [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
TESSERA_WITH_BENCH_DEPS=1 bash "$TESSERA_ROOT/scripts/install_deps.sh"
build="$TESSERA_ROOT/build-bench"
cmake -S "$TESSERA_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_BENCH=ON -DTESSERA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$JOBS" --target bm_array bm_delayed bm_distributed bm_spill bm_kernels bm_transport tessera-lesson
b="$build/bench"
if ((quick)); then
  array_args=(--n 4000 --chunk 1000 --h5-gib 0.25); delayed_args=(--sizes 10000 --reps 1)
  dist_args=(--sizes 10000); base_args=(--quick); parts_args=(--size 400000000)
else
  array_args=(--n 20000 --chunk 2000 --h5-gib 4); delayed_args=(--sizes 10000,100000,1000000 --reps 3)
  dist_args=(); base_args=(); parts_args=()
fi
run() { local name=$1; shift; echo "== $name: $*" >&2; "$@" 2>&1 | tee "$out/$name.txt"; }
{
  run bm_array "$b/array/bm_array" "${array_args[@]}"
  run bm_delayed "$b/delayed/bm_delayed" "${delayed_args[@]}"
  run bm_distributed mpirun -n 4 "$b/distributed/bm_distributed" "${dist_args[@]}"
  run bm_spill "$b/storage/bm_spill"
  run compute_parts bash "$TESSERA_ROOT/bench/compute_parts_scaling.sh" --build "$build" "${parts_args[@]}"
} | grep '^{' > "$out/tessera.jsonl" || true
bash "$TESSERA_ROOT/bench/run_baselines.sh" "${base_args[@]}" --out "$out/baselines.jsonl" > "$out/baselines.txt" 2>&1 || true
echo "results in $out"
