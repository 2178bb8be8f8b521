#!/usr/bin/env bash
# run_slurm_jobs.sh <lesson-binary | --fixture>
#
# End-to-end test of the slurm/ job scripts on a real, private single-node SLURM:
#   1. scripts/slurm_cluster.sh start (munged + slurmctld + slurmd in a temp state dir),
#   2. sbatch --wait of slurm/lesson_srun.sbatch, slurm/lesson_mpirun.sbatch and
#      slurm/compute_parts_scaling.sbatch, one after the other (small sizes and short sleeps via
#      --export so each takes seconds),
#   3. checks every job's exit code and the result= values in its output
#      (diamond=5, loop=44, flow=90, compute-parts --size 4000000 --parts 4 = 31999992000000;
#      sumnum / array-mean must print a result=),
#   4. always stops the daemons (EXIT trap), and prints job outputs + daemon logs on failure.
#
# <lesson-binary> is the real tessera-lesson; `--fixture` compiles tests/slurm/fake_lesson.c
# (a test-only MPI stand-in) with mpicc instead.  Needs root (the daemons run as root);
# exits 77 (ctest SKIP_RETURN_CODE) when not root or when slurm/munge are not installed.
# TESSERA_SLURM_KEEP_LOGS=DIR keeps the daemon logs and job outputs there.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="$SRC_DIR/scripts/slurm_cluster.sh"
JOB_TIMEOUT="${TESSERA_SLURM_JOB_TIMEOUT:-150}"
# whole-test budget, below ctest's TIMEOUT (300 s) so the EXIT trap always stops the daemons
# itself: ctest's kill on timeout would leave them running
BUDGET="${TESSERA_SLURM_TEST_BUDGET:-240}"

fail() { echo "run_slurm_jobs: FAIL: $*" >&2; exit 1; }
skip() { echo "run_slurm_jobs: SKIP: $*" >&2; exit 77; }

[[ $# -eq 1 ]] || { echo "usage: $0 <lesson-binary | --fixture>" >&2; exit 2; }
[[ "$(id -u)" == "0" ]] || skip "must run as root (starts munged/slurmctld/slurmd)"
for t in munged slurmctld slurmd sbatch srun sinfo scontrol mpicc mpirun; do
  command -v "$t" >/dev/null 2>&1 || skip "'$t' not installed (apt-get install slurm-wlm munge libopenmpi-dev openmpi-bin)"
done

WORK="$(mktemp -d /tmp/tessera-slurm-test.XXXXXX)"
STATE="$WORK/cluster"
T_BEGIN=$SECONDS
STARTED=0

dump_logs() {
  local f
  for f in "$WORK"/out/*.out; do
    [[ -f "$f" ]] || continue
    echo "===== job output $f =====" >&2; cat "$f" >&2
  done
  for f in "$STATE"/log/*; do
    [[ -f "$f" ]] || continue
    echo "===== last 40 lines of $f =====" >&2; tail -n 40 "$f" >&2
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if (( rc != 0 )); then dump_logs; fi
  if [[ -n "${TESSERA_SLURM_KEEP_LOGS:-}" ]]; then
    mkdir -p "$TESSERA_SLURM_KEEP_LOGS"
    cp -r "$WORK/out" "$STATE/log" "$TESSERA_SLURM_KEEP_LOGS/" 2>/dev/null || true
    echo "logs and job outputs copied to $TESSERA_SLURM_KEEP_LOGS"
  fi
  if (( STARTED )); then
    local t0=$SECONDS
    "$CLUSTER" stop --state-dir "$STATE" || echo "run_slurm_jobs: warning: cluster stop failed" >&2
    echo "timing: stop $((SECONDS - t0)) s"
  fi
  echo "timing: total $((SECONDS - T_BEGIN)) s"
  rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the binary ------------------------------------------------------------------------------
if [[ "$1" == "--fixture" ]]; then
  LESSON="$WORK/fake_lesson"
  "${MPICC:-mpicc}" -O2 -Wall -Wextra -Werror "$SRC_DIR/tests/slurm/fake_lesson.c" -o "$LESSON" \
    || fail "could not compile the fixture tests/slurm/fake_lesson.c"
  echo "using the test fixture $LESSON (tests/slurm/fake_lesson.c)"
else
  LESSON="$(readlink -f "$1")"
  [[ -x "$LESSON" ]] || fail "lesson binary '$1' is not an executable file"
  echo "using $LESSON"
fi

# ---- ports: the default pair unless somebody listens there -----------------------------------
port_free() { ! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -Eq ":$1\$"; }
PORT=6817
while ! { port_free "$PORT" && port_free $((PORT + 1)); }; do
  PORT=$((PORT + 10))
  (( PORT < 7000 )) || fail "no free port pair in 6817..7000"
done
export TESSERA_SLURM_CTLD_PORT=$PORT TESSERA_SLURM_SLURMD_PORT=$((PORT + 1))

# ---- start -------------------------------------------------------------------------------------
t0=$SECONDS
STARTED=1
"$CLUSTER" start --state-dir "$STATE" || fail "cluster did not start"
echo "timing: start $((SECONDS - t0)) s"
export SLURM_CONF="$STATE/slurm.conf"
srun --mpi=list 2>&1 | grep -qw pmix || fail "slurm offers no pmix MPI plugin (srun --mpi=list)"

# ---- submit the three jobs one after the other, each with sbatch --wait -----------------------
mkdir -p "$WORK/out"
EXPORTS="ALL,TESSERA_LESSON=$LESSON,TESSERA_LESSON_SLEEP=0.05,TESSERA_LESSON_SIZE=4000000,TESSERA_LESSON_PARTS=4,TESSERA_LESSON_ARGS_SUMNUM=--n 4000000,TESSERA_LESSON_ARGS_ARRAY_MEAN=--size 2000000 --chunks 4"
declare -A RC=()
t_jobs=$SECONDS
for job in lesson_srun lesson_mpirun compute_parts_scaling; do
  t0=$SECONDS
  rc=0
  left=$((BUDGET - (SECONDS - T_BEGIN)))
  (( left > 5 )) || fail "test budget of ${BUDGET}s used up before $job"
  timeout "$(( left < JOB_TIMEOUT ? left : JOB_TIMEOUT ))" sbatch --wait --quiet --chdir="$WORK/out" --output="$WORK/out/$job.out" \
    --time=00:05:00 --export="$EXPORTS" "$SRC_DIR/slurm/$job.sbatch" || rc=$?
  RC[$job]=$rc
  echo "timing: job $job $((SECONDS - t0)) s (exit code $rc)"
done
# a job without a binary must fail early with a clear message, not hang or "pass"
t0=$SECONDS
rc=0
timeout 60 sbatch --wait --quiet --chdir="$WORK/out" --output="$WORK/out/no_binary.out" \
  --time=00:02:00 --export="ALL,TESSERA_LESSON=,TESSERA_BUILD=$WORK/no-such-build" \
  "$SRC_DIR/slurm/lesson_srun.sbatch" || rc=$?
RC[no_binary]=$rc
echo "timing: job no_binary $((SECONDS - t0)) s (exit code $rc, expected non-zero)"
echo "timing: jobs $((SECONDS - t_jobs)) s"

# ---- checkpoint: a job scancelled halfway and resubmitted finishes with the same result -------
# (TESSERA_SLURM_CHECKPOINT_DRIVER: tests/checkpoint/checkpoint_driver, tasks of 20 ms summed by a
# tree), once with the threads scheduler in one task and once with the MPI scheduler on 3 ranks
# (srun --mpi=pmix: rank 0 schedules, two workers compute, every rank writes its shard segments).
CKPT_DRIVER="${TESSERA_SLURM_CHECKPOINT_DRIVER:-}"
declare -A CKPT_REF CKPT_SEGMENTS CKPT_TOTAL
# ckpt_case NAME NTASKS CMD ENV: reference run (no checkpoint), then sbatch, scancel once two
# segments are sealed (about 2 s of work), resubmit with sbatch --wait.
ckpt_case() {
  local name=$1 ntasks=$2 cmd=$3 env=$4 t0=$SECONDS
  local ck="$WORK/out/$name.ckpt.h5"
  local ckenv="$env,TESSERA_SUMMARY=1,TESSERA_CHECKPOINT=$ck"
  local ref rc=0 jobid
  ref="$(timeout 120 sbatch --wait --quiet --chdir="$WORK/out" --output="$WORK/out/${name}_ref.out" \
           --ntasks="$ntasks" --time=00:02:00 --export="$env" --wrap "$cmd" >/dev/null; cat "$WORK/out/${name}_ref.out")"
  CKPT_REF[$name]="$(sed -n 's/^result=\([0-9]*\).*/\1/p' <<<"$ref")"
  CKPT_TOTAL[$name]="$(sed -n 's/.*computed=\([0-9]*\).*/\1/p' <<<"$ref")"
  jobid="$(sbatch --parsable --chdir="$WORK/out" --output="$WORK/out/${name}_first.out" --ntasks="$ntasks" \
           --time=00:02:00 --export="$ckenv" --wrap "$cmd")"
  for _ in $(seq 1 300); do  # at most 30 s
    (( $(ls "$ck.d" 2>/dev/null | grep -c '\.h5$') >= 2 )) && break
    sleep 0.1
  done
  scancel "$jobid"
  for _ in $(seq 1 100); do [[ -z "$(squeue -h -j "$jobid" 2>/dev/null)" ]] && break; sleep 0.2; done
  CKPT_SEGMENTS[$name]="$(ls "$ck.d" 2>/dev/null | grep -c '\.h5$' || true)"
  timeout 120 sbatch --wait --quiet --chdir="$WORK/out" --output="$WORK/out/${name}_resume.out" \
    --ntasks="$ntasks" --time=00:02:00 --export="$ckenv" --wrap "$cmd" || rc=$?
  RC[$name]=$rc
  echo "timing: $name: reference, scancel + resubmit $((SECONDS - t0)) s (exit code $rc)"
}
if [[ -n "$CKPT_DRIVER" ]]; then
  ckpt_case checkpoint 1 "$CKPT_DRIVER" "ALL,TESSERA_SCHEDULER=threads,TESSERA_NUM_THREADS=2"
  # the driver counts the tasks the workers ran in a shared file (one node: one file system)
  ckpt_case checkpoint_mpi 3 "srun --mpi=pmix $CKPT_DRIVER --mpi --count-file $WORK/out/ckpt_mpi.count --n 600" \
    "ALL,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,TESSERA_THREADS_PER_WORKER=2"
fi

# ---- checks -------------------------------------------------------------------------------------
errors=()
# section_result FILE WORKFLOW: the result= value printed between "### workflow W" and "### end W"
section_result() {
  awk -v wf="$2" '
    $0 == "### workflow " wf { inside = 1; next }
    index($0, "### end " wf " ") == 1 { inside = 0 }
    inside && /^result=/ { sub(/^result=/, ""); print }' "$1" | tail -n 1
}
expect() { # FILE WORKFLOW EXPECTED (EXPECTED "*" = any non-empty value)
  local got; got="$(section_result "$1" "$2")"
  if [[ -z "$got" ]]; then
    errors+=("$(basename "$1"): $2 printed no result=")
  elif [[ "$3" != "*" && "$got" != "$3" ]]; then
    errors+=("$(basename "$1"): $2 result=$got, expected $3")
  else
    echo "ok: $(basename "$1") $2 result=$got"
  fi
}

for job in lesson_srun lesson_mpirun; do
  f="$WORK/out/$job.out"
  [[ "${RC[$job]}" == "0" ]] || errors+=("$job: sbatch --wait exit code ${RC[$job]} (124 = timed out)")
  [[ -f "$f" ]] || { errors+=("$job: no output file"); continue; }
  expect "$f" diamond 5
  expect "$f" loop 44
  expect "$f" flow 90
  expect "$f" compute-parts 31999992000000
  expect "$f" sumnum "*"
  expect "$f" array-mean "*"
  grep -q '^all workflows finished$' "$f" || errors+=("$job: did not finish all workflows")
done

f="$WORK/out/compute_parts_scaling.out"
[[ "${RC[compute_parts_scaling]}" == "0" ]] || errors+=("compute_parts_scaling: sbatch --wait exit code ${RC[compute_parts_scaling]}")
if [[ -f "$f" ]]; then
  # table rows: workers ranks result compute_s wall_s rc
  for w in 1 2 4; do
    row="$(awk -v w="$w" 'tbl && $1 == w { print; exit } /^workers +ranks/ { tbl = 1 }' "$f")"
    read -r rw rn rres _ _ rrc <<<"$row" || true
    if [[ "$rw" == "$w" && "$rn" == "$((w + 1))" && "$rres" == "31999992000000" && "$rrc" == "0" ]]; then
      echo "ok: compute_parts_scaling workers=$w: $row"
    else
      errors+=("compute_parts_scaling: bad table row for $w workers: '$row'")
    fi
  done
else
  errors+=("compute_parts_scaling: no output file")
fi

if [[ "${RC[no_binary]}" == "0" || "${RC[no_binary]}" == "124" ]]; then
  errors+=("no_binary: job without a binary exited with ${RC[no_binary]}, expected a quick failure")
elif ! grep -q "TESSERA_BUILD='$WORK/no-such-build' is not a directory" "$WORK/out/no_binary.out" 2>/dev/null; then
  errors+=("no_binary: missing the clear error message about TESSERA_BUILD")
else
  echo "ok: job without a binary failed early: $(grep -m1 error "$WORK/out/no_binary.out")"
fi

# ckpt_check NAME: the first job was cut off, the resubmitted one loaded tasks, computed fewer
# than all of them and gave the reference's result.
ckpt_check() {
  local name=$1 first="$WORK/out/$1_first.out" resume="$WORK/out/$1_resume.out"
  local got loaded computed total=${CKPT_TOTAL[$1]}
  got="$(sed -n 's/^result=\([0-9]*\).*/\1/p' "$resume" 2>/dev/null)"
  loaded="$(sed -n 's/.*run 0: \([0-9]*\) of .*/\1/p' "$resume" 2>/dev/null)"
  computed="$(sed -n 's/.*computed=\([0-9]*\).*/\1/p' "$resume" 2>/dev/null)"
  if [[ -z "${CKPT_REF[$name]}" || -z "$total" ]]; then
    errors+=("$name: the reference job printed no result= computed= line")
  elif grep -q '^result=' "$first" 2>/dev/null; then
    errors+=("$name: the first job finished before scancel (nothing was resumed)")
  elif [[ "${RC[$name]}" != "0" || "$got" != "${CKPT_REF[$name]}" ]]; then
    errors+=("$name: resubmitted job exit ${RC[$name]}, result '$got', expected '${CKPT_REF[$name]}'")
  elif [[ -z "$loaded" ]] || (( loaded == 0 || computed >= total )); then
    errors+=("$name: the resubmitted job loaded '$loaded' tasks and computed '$computed' of $total")
  else
    echo "ok: $name: scancelled after ${CKPT_SEGMENTS[$name]} sealed segments; resubmitted job loaded $loaded tasks, computed $computed of $total, result=$got (same as the job without checkpoint)"
  fi
}
if [[ -n "$CKPT_DRIVER" ]]; then
  ckpt_check checkpoint
  ckpt_check checkpoint_mpi
fi

if (( ${#errors[@]} > 0 )); then
  printf 'run_slurm_jobs: FAIL: %s\n' "${errors[@]}" >&2
  exit 1
fi
echo "----- compute_parts_scaling table -----"
sed -n '/^compute-parts scaling/,$p' "$f"
echo "run_slurm_jobs: all SLURM job checks passed"
