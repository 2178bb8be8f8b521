#!/usr/bin/env bash
# The memory bound, checked: tessera-bounded at several per-worker limits, several runs each, on
# 4 workers (5 ranks, oversubscribed on small machines). Every run checks each worker's peak RSS
# (VmHWM) <= limit + 64 MiB and exits non-zero otherwise; this prints one line per run with the
# largest peak - limit over the workers and the footprint when ready.
#   bash bench/memory/bound_check.sh [build dir]      (default: build-release)
#   RUNS_16=10 SPECS="16MiB:8000:500 64MiB:8000:500 256MiB:16000:1000" bash bench/memory/bound_check.sh
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
build=${1:-$TESSERA_ROOT/build-release}
app=$build/apps/bounded/tessera-bounded
[[ -x $app ]] || { echo "bound_check: no $app (cmake --build $build --target tessera-bounded)" >&2; exit 1; }
specs=${SPECS:-"16MiB:8000:500 64MiB:8000:500 256MiB:16000:1000 1GiB:8000:1000 4GiB:8000:1000"}
runs_small=${RUNS_16:-10}
fail=0
printf '%-8s %-6s %-6s %4s  %-28s %-20s %s\n' limit n chunk run "max peak - limit (rank)" "ready RSS (max)" "time"
for spec in $specs; do
  IFS=: read -r limit n chunk <<<"$spec"
  runs=1; [[ $limit == 16MiB ]] && runs=$runs_small
  for ((r = 1; r <= runs; r++)); do
    t0=$SECONDS
    if out=$(mpirun -n 5 "$app" --n "$n" --chunk "$chunk" --memory-limit "$limit" 2>&1); then st=ok; else st=FAIL; fail=1; fi
    line=$(awk 'function mib(v, u) { return u ~ /^GiB/ ? v * 1024 : u ~ /^KiB/ ? v / 1024 : u ~ /^B/ ? v / 1048576 : v }
      /^rank [1-9][0-9]* peak memory/ {
        rd = $7; sub(/\(/, "", rd)
        over = mib($5, $6) - mib($14, $15); if (over > best || best == "") { best = over; br = $2 }
        r = mib(rd, $8); if (r > rmax) rmax = r }
      END { printf "%6.1f MiB (rank %s)         %6.1f MiB", best, br, rmax }' <<<"$out")
    printf '%-8s %-6s %-6s %4d  %s   %3d s %s\n' "$limit" "$n" "$chunk" "$r" "$line" $((SECONDS - t0)) "$st"
    [[ $st == ok ]] || printf '%s\n' "$out" | tail -8
  done
done
exit $fail
