# Sourced by bench/bag/run_wordcount.sh and run_json.sh: one bag workload side by side in one
# run: its single-thread bound (the program's --mode BOUND), tessera::bag on threads (1, 2) and
# MPI (2 and 4 workers), then its Dask baseline (with --python: its plain-Python loop too).
#   run_bag_workload NAME BENCH BOUND EXT DASK_SCRIPT MB FILES "$@"
# NAME: the script's name for messages; BENCH: the bench target; EXT: the data files' suffix;
# MB, FILES: the default corpus. Options: [--mb N] [--files N] [--build DIR] [--data DIR]
# [--no-dask] [--repeat N] (every run repeated N times, interleaved: compare the best of each).
run_bag_workload() {
  local name=$1 bench=$2 bound=$3 ext=$4 dask_script=$5 mb=$6 files=$7
  shift 7
  local build="$TESSERA_ROOT/build-bench" data="${TMPDIR:-/tmp}/tessera-$name" dask=1 repeat=1
  while (($#)); do
    case $1 in
      --mb) mb=$2; shift 2 ;;
      --files) files=$2; shift 2 ;;
      --build) build=$2; shift 2 ;;
      --data) data=$2; shift 2 ;;
      --no-dask) dask=0; shift ;;
      --repeat) repeat=$2; shift 2 ;;
      *) echo "usage: bench/bag/run_$name.sh [--mb N] [--files N] [--build DIR] [--data DIR] [--no-dask] [--repeat N]" >&2
         exit 2 ;;
    esac
  done
  local bm="$build/bench/bag/$bench"
  [[ -x "$bm" ]] || { echo "run_$name: no $bm (cmake -DTESSERA_BUILD_BENCH=ON, target $bench)" >&2; exit 1; }
  local stamp="$data/.mb$mb-files$files"
  if [[ ! -e "$stamp" ]]; then
    rm -rf "$data"
    "$bm" --generate "$data" --mb "$mb" --files "$files"
    touch "$stamp"
  fi
  cat "$data"/*."$ext" > /dev/null  # warm the page cache for every run alike
  echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -sh "$data" | cut -f1) in $files files"
  local r t w
  for ((r = 0; r < repeat; ++r)); do
    "$bm" --dir "$data" --mode "$bound"
    for t in 1 2; do "$bm" --dir "$data" --mode bag --scheduler threads --threads "$t"; done
    for w in 2 4; do
      mpirun -n $((w + 1)) --oversubscribe "$bm" --dir "$data" --mode bag --scheduler mpi
    done
    if ((dask)); then
      /usr/bin/python3 "$TESSERA_ROOT/bench/baselines/$dask_script" "$data" --python
    fi
  done
}
