#!/usr/bin/env bash
# run_checkpoint.sh <driver> <other driver> <scheduler> <work dir>
# 1. a run without a checkpoint gives the reference result;
# 2. with TESSERA_CHECKPOINT the run is SIGKILLed after 250 of its 300 leaf tasks (2.5 s on 2 threads: past the 1 s batch);
# 3. the rerun loads what was sealed, computes fewer tasks, and gives the same result;
# 4. a third run loads the output and computes nothing;
# 5. another graph (one more task) and another executable are refused, naming the checkpoint.
set -uo pipefail
driver=$1 other=$2 scheduler=$3 work=$4
mkdir -p "$work"
dir=$(mktemp -d "$work/$scheduler.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export TESSERA_SCHEDULER=$scheduler TESSERA_NUM_THREADS=2 TESSERA_SUMMARY=1
unset TESSERA_CHECKPOINT TESSERA_MEMORY_LIMIT
fail() { echo "FAIL: $*"; exit 1; }
field() { sed -n "s/.*$1=\([0-9-]*\).*/\1/p" <<<"$2" | head -1; }

ref=$("$driver" 2>/dev/null) || fail "reference run failed"
want=$(field result "$ref")
total=$(field computed "$ref")
echo "reference: result=$want, $total tasks"

export TESSERA_CHECKPOINT="$dir/run.ckpt.h5"
"$driver" --kill-after 250 >"$dir/killed.out" 2>&1
rc=$?
[[ $rc == 137 ]] || fail "the killed run exited $rc, not 137 (SIGKILL): $(cat "$dir/killed.out")"
[[ -f $TESSERA_CHECKPOINT ]] || fail "no checkpoint file after the killed run"
segments=$(ls "$TESSERA_CHECKPOINT.d" | grep -c '\.h5$' || true)
(( segments >= 1 )) || fail "the killed run sealed no segment"
echo "killed after 250 leaf tasks: $segments sealed segment(s)"

out=$("$driver" 2>"$dir/resume.err") || fail "resume failed: $(cat "$dir/resume.err")"
got=$(field result "$out"); computed=$(field computed "$out")
[[ $got == "$want" ]] || fail "resumed result $got != $want"
(( computed < total )) || fail "the resumed run computed $computed of $total tasks: nothing was loaded"
loaded=$(sed -n 's/.*run 0: \([0-9]*\) of .*/\1/p' "$dir/resume.err")
[[ -n $loaded ]] && (( loaded > 0 )) || fail "the summary does not say what was loaded: $(cat "$dir/resume.err")"
echo "resumed: result=$got, computed $computed of $total tasks, loaded $loaded"

out=$("$driver" 2>"$dir/third.err") || fail "third run failed: $(cat "$dir/third.err")"
[[ $(field result "$out") == "$want" && $(field computed "$out") == 0 ]] ||
  fail "third run: $out (want result=$want computed=0)"
grep -q "run 0: 1 of $total tasks loaded" "$dir/third.err" || fail "third run summary: $(cat "$dir/third.err")"
echo "third run: loaded the output, computed nothing"

err=$("$driver" --n 301 2>&1 >/dev/null); rc=$?
[[ $rc != 0 ]] && grep -Eq "checkpoint '.*run.ckpt.h5': run 0 of this program builds another graph" <<<"$err" ||
  fail "another graph was not refused (rc $rc): $err"
err=$("$other" 2>&1 >/dev/null); rc=$?
[[ $rc != 0 ]] && grep -Eq "checkpoint '.*run.ckpt.h5': it was written by another executable" <<<"$err" ||
  fail "another executable was not refused (rc $rc): $err"
echo "another graph and another executable refused"
ls "$TESSERA_CHECKPOINT.d" | grep -q '\.tmp$' && fail "a temporary segment was left behind"
echo "PASS"
