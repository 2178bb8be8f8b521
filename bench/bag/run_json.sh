#!/usr/bin/env bash
# The accounts workload on JSON lines (1 GB in 16 files by default), side by side in one run:
# nlohmann::json's own single-thread parse, tessera::bag on threads (1, 2) and MPI (2 and 4
# workers), Dask bag (sync, threads, processes) with json.loads, and json.loads in a plain loop.
#   bash bench/bag/run_json.sh [--mb 1024] [--files 16] [--build DIR] [--data DIR] [--no-dask] [--repeat N]
# With --repeat N every run is repeated N times, interleaved (compare the best of each).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
mb=1024; files=16; build="$TESSERA_ROOT/build-bench"; data="${TMPDIR:-/tmp}/tessera-json"; dask=1; repeat=1
while (($#)); do
  case $1 in
    --mb) mb=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --no-dask) dask=0; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "usage: bench/bag/run_json.sh [--mb N] [--files N] [--build DIR] [--data DIR] [--no-dask]" >&2; exit 2 ;;
  esac
done
bm="$build/bench/bag/bm_bag_json"
[[ -x "$bm" ]] || { echo "run_json: no $bm (cmake -DTESSERA_BUILD_BENCH=ON, target bm_bag_json)" >&2; exit 1; }
stamp="$data/.mb$mb-files$files"
if [[ ! -e "$stamp" ]]; then
  rm -rf "$data"
  "$bm" --generate "$data" --mb "$mb" --files "$files"
  touch "$stamp"
fi
cat "$data"/*.jsonl > /dev/null  # warm the page cache for every run alike
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -sh "$data" | cut -f1) in $files files"
for ((r = 0; r < repeat; ++r)); do
  "$bm" --dir "$data" --mode parse
  for t in 1 2; do "$bm" --dir "$data" --mode bag --scheduler threads --threads "$t"; done
  for w in 2 4; do
    mpirun -n $((w + 1)) --oversubscribe "$bm" --dir "$data" --mode bag --scheduler mpi
  done
  if ((dask)); then
    /usr/bin/python3 "$TESSERA_ROOT/bench/baselines/dask_bag_json.py" "$data" --python
  fi
done
