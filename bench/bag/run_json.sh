#!/usr/bin/env bash
# The accounts workload on JSON lines (1 GB in 16 files by default), side by side in one run:
# nlohmann::json's own single-thread parse, tessera::bag on threads (1, 2) and MPI (2 and 4
# workers), Dask bag (sync, threads, processes) with json.loads, and json.loads in a plain loop.
#   bash bench/bag/run_json.sh [--mb 1024] [--files 16] [--build DIR] [--data DIR] [--no-dask] [--repeat N]
# With --repeat N every run is repeated N times, interleaved (compare the best of each).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
source "$(dirname "$0")/run_common.sh"
run_bag_workload json bm_bag_json parse jsonl dask_bag_json.py 1024 16 "$@"
