#!/usr/bin/env bash
# check_output.sh EXPECTED_LINE -- command args...
# Runs the command and fails unless it exits 0 and prints EXPECTED_LINE as a whole line.
set -uo pipefail
expected=$1; shift; [[ $1 == -- ]] && shift
source "$(dirname "$0")/../../scripts/env.sh"
out=$("$@" 2>&1); rc=$?
printf '%s\n' "$out"
if ((rc != 0)); then echo "FAIL: exit status $rc" >&2; exit 1; fi
if ! grep -qxF -- "$expected" <<<"$out"; then echo "FAIL: no line '$expected'" >&2; exit 1; fi
for line in "Compute time: " "wall clock time: "; do
  grep -q "^$line" <<<"$out" || { echo "FAIL: no '$line' line" >&2; exit 1; }
done
