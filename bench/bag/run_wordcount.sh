#!/usr/bin/env bash
# Word count of 200 MB of text in 20 files, side by side in one run: the hand-written
# single-pass C++ loop, tessera::bag on threads (1, 2) and MPI (2 and 4 workers), Dask bag
# (sync, threads, processes) and plain Python.
#   bash bench/bag/run_wordcount.sh [--mb 200] [--files 20] [--build DIR] [--data DIR] [--no-dask] [--repeat N]
# With --repeat N every run is repeated N times, interleaved (compare the best of each).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
source "$(dirname "$0")/run_common.sh"
run_bag_workload wordcount bm_bag_wordcount hand txt dask_bag_wordcount.py 200 20 "$@"
