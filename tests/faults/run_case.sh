#!/usr/bin/env bash
# One fault-injection case: run_case.sh <case> <fault_driver> <mpiexec> <work dir>
# Runs the driver under mpiexec with the case's environment and an outer timeout, then checks
#   - the exit status, - a message on stdout/stderr (extended regex), - the wall time bound,
#   - that the case's spill root holds nothing afterwards (and, for some, that it is gone).
# Exit 0: pass; 1: fail (the reason is printed); 77: skipped (e.g. mount not permitted).
set -uo pipefail
case_name=$1 driver=$2 mpiexec=$3 work=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$work"
dir=$(mktemp -d "$work/$case_name.XXXXXX")
spill="$dir/spill"
mkdir -p "$spill"
export TESSERA_SPILL_DIR="$spill" TESSERA_HEARTBEAT_TIMEOUT=2
unset TESSERA_MEMORY_LIMIT TESSERA_SCHEDULER TESSERA_TASK_RETRIES TESSERA_THREADS_PER_WORKER
np=3 mode=$case_name status=0 pattern='' bound=30 launcher=mpi extra=() mpi_flags=() \
  spill_gone=0 cleanup=''
export TESSERA_THREADS_PER_WORKER=1

case $case_name in
  ok)            status=0; pattern='fault driver: ok on 3 ranks' ;;
  exception)     status=1; pattern="task '.*' failed on rank [12]: std::runtime_error: deliberate failure in a task|deliberate failure in a task" ;;
  segfault)      status='[1-9][0-9]*'; pattern='signal 11|Segmentation fault' ;;
  sigkill)       mode=spill-sigkill; export TESSERA_MEMORY_LIMIT=8MiB
                 status='[1-9][0-9]*'; pattern='signal 9|Killed' ;;
  # Under --enable-recovery mpirun does not end the job when a worker dies: rank 0's heartbeat
  # monitor does (removing the dead worker's spill directory first), then the other workers
  # notice that rank 0 is gone.
  sigkill_recovery) mode=spill-sigkill; export TESSERA_MEMORY_LIMIT=8MiB; status='[0-9]+'; bound=20
                 mpi_flags=(--enable-recovery -n 3 "$driver" spill-sigkill)
                 pattern='worker rank [12] stopped answering for [0-9.]+ s; ending the job' ;;
  # mpirun --enable-recovery keeps the job after rank 0 died and reports status 0 or 1: the
  # point is that the workers notice and leave within the heartbeat timeout.
  kill0_recovery) mode=kill0; status='[0-9]+'; bound=15; mpi_flags=(--enable-recovery -n 3 "$driver" kill0)
                 pattern='worker rank [12]: the scheduler \(rank 0\) stopped answering for [0-9.]+ s; exiting' ;;
  sigstop)       status='[1-9][0-9]*'; pattern='worker rank [12] stopped answering for [0-9.]+ s' ;;
  kill0)         status='[1-9][0-9]*'; pattern='signal 9|Killed'; bound=20 ;;
  spill_full)
    np=2
    if ! mount -t tmpfs -o size=4m tmpfs "$spill" 2>/dev/null; then
      echo "SKIP: cannot mount a tmpfs (not root or not permitted)"; rmdir "$spill" "$dir"; exit 77
    fi
    cleanup="umount $spill"
    np=4; mode=spill; export TESSERA_MEMORY_LIMIT=12MiB TESSERA_THREADS_PER_WORKER=2
    status=1
    # The rank that finds the disk full first may be putting a block or creating its file.
    pattern="spill file '.*': put \(H5Dwrite\) of key '[0-9]+' \([0-9.]+ MiB\) failed: no space left on device \(ENOSPC|cannot create spill file '.*': no space left on device \(ENOSPC\): the file system of '.*' has" ;;
  spill_unwritable)
    np=2; mode=spill; export TESSERA_MEMORY_LIMIT=8MiB
    chmod 0500 "$spill"
    # root ignores permissions: a file in place of the root directory fails for everyone.
    if [[ $(id -u) == 0 ]]; then rmdir "$spill"; touch "$spill"; fi
    status=1; pattern="spill directory root '.*' is not writable|cannot create spill directory root|cannot create spill directory" ;;
  hdf5_corrupt)
    np=2; head -c 4096 /dev/urandom > "$dir/corrupt.h5"; mode=hdf5; extra=("$dir/corrupt.h5")
    status=1; pattern="corrupt.h5" ;;
  hdf5_truncated)
    np=2; mode=hdf5; extra=("$dir/truncated.h5")
    "$driver" make-h5 "$dir/truncated.h5" || { echo "could not write the HDF5 file"; exit 1; }
    truncate -s $(($(stat -c %s "$dir/truncated.h5") / 2)) "$dir/truncated.h5"
    status=1; pattern="truncated.h5" ;;
  config_memory_limit)  export TESSERA_MEMORY_LIMIT=garbage; status=2
    pattern="^tessera: configuration error: TESSERA_MEMORY_LIMIT='garbage' is not a memory limit; accepted: " ;;
  config_threads)       export TESSERA_THREADS_PER_WORKER=-3; status=2
    pattern="^tessera: configuration error: TESSERA_THREADS_PER_WORKER='-3' is not valid; accepted: an integer >= 0" ;;
  config_heartbeat)     export TESSERA_HEARTBEAT_TIMEOUT=abc; status=2
    pattern="^tessera: configuration error: TESSERA_HEARTBEAT_TIMEOUT='abc' is not valid; accepted: whole seconds >= 1" ;;
  config_retries)       export TESSERA_TASK_RETRIES=-1; status=2
    pattern="^tessera: configuration error: TESSERA_TASK_RETRIES='-1' is not valid; accepted: an integer >= 0" ;;
  config_retries_abc)   launcher=local; mode=local; export TESSERA_TASK_RETRIES=abc; status=2
    pattern="configuration error: TESSERA_TASK_RETRIES='abc' is not valid" ;;
  config_scheduler)     export TESSERA_SCHEDULER=bogus; status=2
    pattern="^tessera: configuration error: TESSERA_SCHEDULER='bogus' is not valid; accepted: threads, sync, or mpi" ;;
  config_threads_sched) launcher=local; mode=local; export TESSERA_SCHEDULER=threads TESSERA_MEMORY_LIMIT=garbage
    status=2; pattern="configuration error: TESSERA_MEMORY_LIMIT='garbage' is not a memory limit" ;;
  config_sync_sched)    launcher=local; mode=local; export TESSERA_SCHEDULER=sync TESSERA_HEARTBEAT_TIMEOUT=abc
    status=2; pattern="configuration error: TESSERA_HEARTBEAT_TIMEOUT='abc' is not valid" ;;
  config_misspelt)      mode=ok; export TESSERA_MEMORY_LIMT=1GiB; status=0
    pattern="tessera: warning: TESSERA_MEMORY_LIMT is not a tessera variable and is ignored \(did you mean TESSERA_MEMORY_LIMIT\?\)" ;;
  library_single)       mode=library-single; status=3
    pattern="host caught: tessera::Runtime on rank 0 needs MPI_THREAD_MULTIPLE, but MPI was initialized with MPI_THREAD_SINGLE" ;;
  make_mpi)             mode=make-mpi; status=0
    pattern='worker: make_scheduler\("mpi"\) was called on worker rank 1 of 3: only rank 0 runs the driver' ;;
  spill_dir_created)
    np=2; mode=spill; export TESSERA_MEMORY_LIMIT=8MiB TESSERA_SPILL_DIR="$spill/a/b/c"; status=0
    pattern='spill finished'; spill_gone="$spill/a" ;;
  wrong_binary)  # rank 1 runs another tessera program (its own build-id)
    np=2; other=${FAULTS_OTHER_BINARY:?}
    mpi_flags=(-n 1 "$driver" ok : -n 1 "$other"); status=2
    pattern="^tessera: ranks run different executables: rank 0 runs .*; rank 1 runs .*test_mpi_lost_rank" ;;
  *) echo "unknown case $case_name"; exit 1 ;;
esac

t0=$(date +%s.%N)
if [[ $launcher == local ]]; then
  timeout -k 5 "$((bound + 30))" "$driver" "$mode" "${extra[@]}" >"$dir/out" 2>&1
elif ((${#mpi_flags[@]})); then
  timeout -k 5 "$((bound + 30))" "$mpiexec" "${mpi_flags[@]}" >"$dir/out" 2>&1
else
  timeout -k 5 "$((bound + 30))" "$mpiexec" -n "$np" "$driver" "$mode" "${extra[@]}" >"$dir/out" 2>&1
fi
rc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
# Give killed processes a moment to vanish before looking for leftovers.
sleep 0.5
leftovers=$(find "$spill" -mindepth 1 2>/dev/null | head -5)
[[ -n $cleanup ]] && $cleanup
fail=()
[[ $rc =~ ^($status)$ ]] || fail+=("exit status $rc, expected $status")
grep -Eq -- "$pattern" "$dir/out" || fail+=("no line matching /$pattern/")
awk -v s="$secs" -v b="$bound" 'BEGIN { exit !(s <= b) }' || fail+=("took ${secs}s > ${bound}s")
if [[ $spill_gone != 0 ]]; then
  [[ -e $spill_gone ]] && fail+=("created spill root $spill_gone left behind")
elif [[ -n $leftovers ]]; then
  fail+=("left behind: $leftovers")
fi
grep -q "terminate called" "$dir/out" && fail+=("'terminate called' in the output")
echo "case=$case_name ranks=$np status=$rc time=${secs}s leftovers=${leftovers:-none}"
if ((${#fail[@]})); then
  echo "----- output -----"; cat "$dir/out"; echo "------------------"
  printf 'FAIL: %s\n' "${fail[@]}"
  exit 1
fi
grep -E -m3 -- "$pattern" "$dir/out" | sed 's/^/matched: /'
rm -rf "$dir"
echo PASS
