#!/usr/bin/env bash
# check_frame_flights.sh ORACLE.py -- tessera-lesson frame-flights command args...
# Runs the lesson with --data in a fresh directory, then pandas (ORACLE.py) on the files it
# wrote, and fails unless the lesson's result line is pandas' line. The directory is removed.
set -uo pipefail
oracle=$1; shift; [[ $1 == -- ]] && shift
source "$(dirname "$0")/../../scripts/env.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/tessera-frame-flights.XXXXXX")
trap 'rm -rf "$dir"' EXIT
out=$("$@" --data "$dir/data" 2>&1); rc=$?
printf '%s\n' "$out"
if ((rc != 0)); then echo "FAIL: exit status $rc" >&2; exit 1; fi
want=$(/usr/bin/python3 "$oracle" "$dir/data") || { echo "FAIL: the pandas oracle failed" >&2; exit 1; }
echo "pandas: $want"
if ! grep -qxF -- "$want" <<<"$out"; then echo "FAIL: the lesson's result is not pandas' '$want'" >&2; exit 1; fi
