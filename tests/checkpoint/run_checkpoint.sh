#!/usr/bin/env bash
# run_checkpoint.sh <driver> <other driver> <scheduler> <work dir> [<ranks> <resume ranks> <mpiexec>]
# 1. a run without a checkpoint gives the reference result;
# 2. with TESSERA_CHECKPOINT the run is SIGKILLed after 250 of its 300 leaf tasks per 2 threads
#    (2.5 s: past the 1 s batch); on mpi, rank 0 is SIGKILLed after 250 per worker (of 300 per worker);
# 3. the rerun (on mpi at <resume ranks>) loads what was sealed, computes fewer tasks, same result;
# 4. a third run loads the output and computes nothing;
# 5. another graph (one more task) and another executable are refused, naming the checkpoint;
# 6. mpi: a corrupt shard segment is an error naming it, not a hang; nothing but segments is left.
set -uo pipefail
driver=$1 other=$2 scheduler=$3 work=$4 ranks=${5:-1} resume_ranks=${6:-1} mpiexec=${7:-mpirun}
mkdir -p "$work"
dir=$(mktemp -d "$work/$scheduler.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export TESSERA_NUM_THREADS=2 TESSERA_SUMMARY=1
unset TESSERA_CHECKPOINT TESSERA_MEMORY_LIMIT TESSERA_SCHEDULER
fail() { echo "FAIL: $*"; exit 1; }
field() { sed -n "s/.*$1=\([0-9-]*\).*/\1/p" <<<"$2" | head -1; }
n=300 kill=250
if [[ $scheduler == mpi ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TESSERA_THREADS_PER_WORKER=2
  n=$((300 * (ranks - 1))) kill=$((250 * (ranks - 1)))
  # launch <ranks> <program> <args>: the program on <ranks> MPI ranks, under a time limit
  launch() { local np=$1 prog=$2; shift 2
    timeout 90 "$mpiexec" -n "$np" --oversubscribe "$prog" --mpi --count-file "$dir/count.$np" "$@"; }
else
  export TESSERA_SCHEDULER=$scheduler
  launch() { local prog=$2; shift 2; timeout 90 "$prog" "$@"; }
fi

t0=$SECONDS
ref=$(launch "$ranks" "$driver" --n $n 2>/dev/null) || fail "reference run failed"
want=$(field result "$ref")
total=$(field computed "$ref")
echo "reference: result=$want, $total tasks ($((SECONDS - t0)) s)"

export TESSERA_CHECKPOINT="$dir/run.ckpt.h5"
t0=$SECONDS
launch "$ranks" "$driver" --n $n --kill-after $kill >"$dir/killed.out" 2>&1
rc=$?
if [[ $scheduler == mpi ]]; then
  [[ $rc != 0 && $rc != 124 ]] && ! grep -q '^result=' "$dir/killed.out" ||
    fail "the run whose rank 0 was killed exited $rc: $(cat "$dir/killed.out")"
else
  [[ $rc == 137 ]] || fail "the killed run exited $rc, not 137 (SIGKILL): $(cat "$dir/killed.out")"
fi
[[ -f $TESSERA_CHECKPOINT ]] || fail "no checkpoint file after the killed run"
segments=$(ls "$TESSERA_CHECKPOINT.d" | grep -c '\.h5$' || true)
(( segments >= 1 )) || fail "the killed run sealed no segment"
echo "killed after $kill leaf tasks: $segments sealed segment(s) ($((SECONDS - t0)) s, exit $rc)"

t0=$SECONDS
out=$(launch "$resume_ranks" "$driver" --n $n 2>"$dir/resume.err") || fail "resume failed: $(cat "$dir/resume.err")"
got=$(field result "$out"); computed=$(field computed "$out")
[[ $got == "$want" ]] || fail "resumed result $got != $want"
(( computed < total )) || fail "the resumed run computed $computed of $total tasks: nothing was loaded"
loaded=$(sed -n 's/.*run 0: \([0-9]*\) of .*/\1/p' "$dir/resume.err")
said=$(sed -n 's/.*not needed, \([0-9]*\) computed.*/\1/p' "$dir/resume.err")
[[ -n $loaded ]] && (( loaded > 0 )) || fail "the summary does not say what was loaded: $(cat "$dir/resume.err")"
[[ $said == "$computed" ]] || fail "the summary says $said computed, the tasks counted $computed"
echo "resumed on $resume_ranks rank(s): result=$got, computed $computed of $total tasks, loaded $loaded ($((SECONDS - t0)) s)"

out=$(launch "$ranks" "$driver" --n $n 2>"$dir/third.err") || fail "third run failed: $(cat "$dir/third.err")"
[[ $(field result "$out") == "$want" && $(field computed "$out") == 0 ]] ||
  fail "third run: $out (want result=$want computed=0)"
grep -q "run 0: 1 of $total tasks loaded" "$dir/third.err" || fail "third run summary: $(cat "$dir/third.err")"
echo "third run: loaded the output, computed nothing"

err=$(launch "$ranks" "$driver" --n $((n + 1)) 2>&1 >/dev/null); rc=$?
[[ $rc != 0 && $rc != 124 ]] && grep -Eq "checkpoint '.*run.ckpt.h5': run 0 of this program builds another graph" <<<"$err" ||
  fail "another graph was not refused (rc $rc): $err"
err=$(launch "$ranks" "$other" --n $n 2>&1 >/dev/null); rc=$?
[[ $rc != 0 && $rc != 124 ]] && grep -Eq "checkpoint '.*run.ckpt.h5': it was written by another executable" <<<"$err" ||
  fail "another executable was not refused (rc $rc): $err"
echo "another graph and another executable refused"
ls "$TESSERA_CHECKPOINT.d" | grep -q '\.tmp$' && fail "a temporary segment was left behind"
others=$(ls "$TESSERA_CHECKPOINT.d" | grep -v '\.h5$' || true)
[[ -z $others ]] || fail "files other than segments were left: $others"
if [[ $scheduler == mpi ]]; then
  shard=$(ls "$TESSERA_CHECKPOINT.d" | grep -m1 '^g.*\.r.*\.h5$') || fail "no worker shard segment was written"
  head -c 200 "$TESSERA_CHECKPOINT.d/$shard" >"$dir/torn" && mv "$dir/torn" "$TESSERA_CHECKPOINT.d/$shard"
  err=$(launch "$ranks" "$driver" --n $n 2>&1 >/dev/null); rc=$?
  [[ $rc != 0 && $rc != 124 ]] && grep -q "segment $shard" <<<"$err" ||
    fail "a corrupt shard was not an error naming it (rc $rc): $err"
  echo "a corrupt shard ($shard) is refused, naming it"
fi
echo "PASS"
