#!/usr/bin/env bash
# Builds the probes beside this script and runs them, each under `timeout 60`, printing the
# ranks' lines, mpirun's exit status and its wall time. A one-off investigation of what Open MPI
# does when a rank dies (docs/lost_workers.md); not part of CTest or CI.
#   probe_lost_rank:   BTL (self,vader | self,tcp) x (--enable-recovery or not) x (world | dup
#                      communicator) x the survivors' last step (none | probe | recv | barrier),
#                      plus a control run where nobody dies, and tcp runs with SIGPIPE ignored.
#   probe_exit_status: what mpirun returns (ranks' exit codes, a SIGKILL, MPI_Abort).
# Usage: tests/faults/probes/run_probes.sh [out dir]   (default: a fresh mktemp dir)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d /tmp/tessera-probes.XXXXXX)}
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpicxx -std=c++20 -O1 -pthread -Wall -o "$out/probe" "$here/probe_lost_rank.cpp" || exit 1
mpicxx -std=c++20 -O1 -Wall -o "$out/exit_status" "$here/probe_exit_status.cpp" || exit 1

seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# lost <btl> <recovery yes|no> <SIGPIPE: 0 default | 1 ignored | report> <comm> <last step> [nokill]
lost() {
  local btl=$1 rec=$2 pipe=$3 comm=$4 last=$5 kill=${6:-kill}
  local flags=(--oversubscribe -n 4 --mca btl "$btl" --mca orte_base_help_aggregate 0
               -x PROBE_IGNORE_SIGPIPE="$pipe")
  [[ $rec == yes ]] && flags+=(--enable-recovery)
  local t0 rc
  t0=$(date +%s.%N)
  timeout -k 5 60 mpirun "${flags[@]}" "$out/probe" "$comm" "$last" "$kill" >"$out/run.txt" 2>&1
  rc=$?
  echo "=== btl=$btl recovery=$rec sigpipe_ignored=$pipe comm=$comm last=$last $kill:" \
       "mpirun rc=$rc wall=$(seconds_since "$t0")s"
  grep -aE '^R[0-9]' "$out/run.txt" | sort -s -k1,1
  local missing=()
  for r in 0 1 2; do grep -q "^R$r " "$out/run.txt" || missing+=("R$r"); done
  for r in 0 1 2; do
    grep -q "^R$r Finalize *returned" "$out/run.txt" || missing+=("R$r:no-finalize")
  done
  echo "    survivors without 'Finalize returned': ${missing[*]:-none}"
  echo "    tcp connect warnings: $(grep -c 'failed to TCP connect' "$out/run.txt")"
  grep -E 'noticed that process|aborted' "$out/run.txt" | head -2 | sed 's/^/    mpirun: /'
}

for btl in self,vader self,tcp; do
  lost "$btl" no 0 world none
  lost "$btl" no 0 dup none
  lost "$btl" yes 0 world none nokill
  lost "$btl" yes 0 world none
  lost "$btl" yes 0 dup none
  lost "$btl" yes 0 world probe
  lost "$btl" yes 0 world recv
  lost "$btl" yes 0 world barrier
done
lost self,tcp yes report world none  # who dies, and of what
lost self,tcp yes 1 world none
lost self,tcp yes 1 dup none
lost self,tcp yes 1 world barrier

for rec in no yes; do
  for args in "0" "5" "0 kill" "5 kill" "5 abort" "5 kill-abort"; do
    flags=(--oversubscribe -n 4)
    [[ $rec == yes ]] && flags+=(--enable-recovery)
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout -k 5 60 mpirun "${flags[@]}" "$out/exit_status" $args >/dev/null 2>&1
    rc=$?
    how=${args#"${args%% *}"}
    echo "=== exit status: recovery=$rec ranks return ${args%% *}${how:+, then$how}: rc=$rc wall=$(seconds_since "$t0")s"
  done
done
rm -f "$out/run.txt"
