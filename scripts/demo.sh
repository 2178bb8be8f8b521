#!/usr/bin/env bash
# One command: install dependencies, build in Release, run the main demo (the lesson's
# workflows on the threads and MPI schedulers). Every step checks its result: the demo exits
# non-zero, naming the step, if one is wrong (CI runs it as the last stage of scripts/test.sh).
#   bash scripts/demo.sh
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$TESSERA_ROOT/scripts/install_deps.sh"
build="$TESSERA_ROOT/build-release"
cmake -S "$TESSERA_ROOT" -B "$build" "${TESSERA_RELEASE_ARGS[@]}" >"$build.configure.log" 2>&1 || {
  cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$JOBS" --target tessera-lesson tessera-sweep tessera-bounded
lesson="$build/apps/lesson/tessera-lesson"

step() { current_step="$*"; printf '\n== %s\n' "$*"; }
fail() { printf 'demo FAILED at step "%s": %s\n' "$current_step" "$*" >&2; exit 1; }
# run EXPECTED_LINE command...: runs it, shows its output as it comes, fails unless it exits 0 and
# prints the line. The output is kept in $out for the next step.
log=$(mktemp); flights=$(mktemp -d); trap 'rm -f "$log"; rm -rf "$flights"' EXIT
run() {
  local expected=$1; shift
  local rc=0
  "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  out=$(<"$log")
  ((rc == 0)) || fail "exit status $rc from $*"
  [[ -z $expected ]] || grep -qxF -- "$expected" <<<"$out" || fail "expected a line '$expected'"
}
compute_seconds() { sed -n 's/^Compute time: \([0-9.e+-]*\)s$/\1/p' <<<"$1"; }
result_of() { sed -n 's/^result=//p' <<<"$1"; }

step "delayed diamond, 2 threads (inc(1), inc(2) -> add; 1 s per task): expect result=5 in ~2 s"
run "result=5" "$lesson" diamond --scheduler threads --threads 2
step "delayed loop over 1..8 then sum, 2 threads: expect 44 in ~4 s"
run "result=44" "$lesson" loop --scheduler threads --threads 2
step "the lesson's compute-parts: 4 tasks each summing range(40,000,000), then sum"
run "result=3199999920000000" "$lesson" compute-parts --scheduler threads --threads 2
step "CPU-bound compute-parts at 20x the lesson's size (4 tasks each summing range(800,000,000), ~0.5 s each), 1 thread then 2"
run "result=1279999998400000000" "$lesson" compute-parts --scheduler threads --threads 1 --size 800000000
t1=$(compute_seconds "$out")
run "result=1279999998400000000" "$lesson" compute-parts --scheduler threads --threads 2 --size 800000000
t2=$(compute_seconds "$out")
awk -v a="$t1" -v b="$t2" -v c="$(nproc)" 'BEGIN {
  printf "speed-up on 2 threads: %.2fx (%.2f s -> %.2f s, %.2f s per task on one thread; %d cores; C++ has no GIL)\n", a / b, a, b, a / 4, c }'
step "the lesson's flow example distributed over MPI: 1 scheduler rank + 4 worker ranks (10 tasks of 1 s: ~3 s)"
run "result=90" mpirun -n 5 "$lesson" flow --scheduler mpi --threads 1 --sleep 1
step "the lesson's array mean: 200M normal(0, 0.1) values in 8 chunks, serial vs threads (same value)"
run "" "$lesson" numpy-mean --size 200000000
serial=$(result_of "$out")
run "result=$serial" "$lesson" array-mean --scheduler threads --size 200000000 --chunks 8
step "the same under MPI with 4 workers, each holding only its chunks (peak memory per rank)"
run "result=$serial" mpirun -n 5 "$lesson" array-mean --scheduler mpi --size 200000000 --chunks 16
step "bags: the Dask Bag docs' word count (generated gz corpus, read_text, flat_map, frequencies().topk(10)), 2 threads"
run "result=w0:2000,w1:1900,w2:1800,w3:1700,w4:1600,w5:1500,w6:1400,w7:1300,w8:1200,w9:1100" \
  "$lesson" bag-wordcount --scheduler threads --threads 2 --lines 2000 --files 4
step "dataframes: the Dask tutorial's flights exercises (10 yearly CSV files, 1M rows; read_csv, filters, groupby, .dt().month()), 2 threads, checked against pandas on the same files"
run "" "$lesson" frame-flights --scheduler threads --threads 2 --n 1000000 --data "$flights/data"
want=$(/usr/bin/python3 "$TESSERA_ROOT/tests/apps/frame_flights_oracle.py" "$flights/data") || fail "the pandas oracle failed"
echo "pandas: $want"
grep -qxF -- "$want" <<<"$out" || fail "the result is not pandas' '$want'"
step "futures: an adaptive parameter sweep on 4 MPI workers, traced to $build/sweep-trace.json"
TESSERA_TRACE="$build/sweep-trace.json" run "" mpirun -n 5 "$build/apps/sweep/tessera-sweep" --scheduler mpi --budget 64
[[ -s "$build/sweep-trace.json" ]] || fail "no trace written"
step "bounded memory: 0.5 GiB of data through 4 workers capped at 16 MiB of results each (peak RSS <= limit + 64 MiB)"
run "bounded memory: ok" mpirun -n 5 "$build/apps/bounded/tessera-bounded" --n 8000 --chunk 500 --memory-limit 16MiB
step "task graph of the loop example written to $build/loop.svg"
run "result=44" "$lesson" loop --sleep 0 --graph "$build/loop.svg"
[[ -s "$build/loop.svg" ]] || fail "no graph drawn"
echo
echo "demo: every step gave the expected result"
