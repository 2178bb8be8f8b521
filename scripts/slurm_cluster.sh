#!/usr/bin/env bash
# slurm_cluster.sh -- start/stop a private, single-node SLURM "cluster" on this machine.
#
#   scripts/slurm_cluster.sh start  [--state-dir DIR]   start munged + slurmctld + slurmd
#   scripts/slurm_cluster.sh stop   [--state-dir DIR]   stop exactly the daemons started here
#   scripts/slurm_cluster.sh status [--state-dir DIR]   print state; exit 0 iff the node is up
#   scripts/slurm_cluster.sh env    [--state-dir DIR]   print `export SLURM_CONF=...` for eval
#
# Everything lives under the state dir (default: $TESSERA_SLURM_STATE_DIR or
# /tmp/tessera-slurm): slurm.conf, munge socket, spool/state dirs, logs and pid files.  The
# daemons run as root in the foreground (-D / -F) in the background of this script; their pids
# are recorded and `stop` kills only those pids (after checking /proc/<pid>/exe).  Clients find
# the cluster through SLURM_CONF=<state-dir>/slurm.conf (printed by `env`).
#
# Made for containers (no systemd, no cgroups, odd hostnames): proctrack/linuxproc, task/none,
# munged with --force and a private socket, the node advertises more CPUs than the machine
# has (SlurmdParameters=config_overrides) so a 5-rank job fits on a 2-core box.
#
# Environment knobs: TESSERA_SLURM_CPUS (8), TESSERA_SLURM_CTLD_PORT (6817),
# TESSERA_SLURM_SLURMD_PORT (6818), TESSERA_SLURM_START_TIMEOUT seconds (90),
# TESSERA_SLURM_MIN_JOB_AGE seconds a finished job stays visible (4: keeps sbatch --wait quick).
set -euo pipefail

readonly MARKER=".tessera-slurm-state"
STATE_DIR="${TESSERA_SLURM_STATE_DIR:-/tmp/tessera-slurm}"
CPUS="${TESSERA_SLURM_CPUS:-8}"
CTLD_PORT="${TESSERA_SLURM_CTLD_PORT:-6817}"
SLURMD_PORT="${TESSERA_SLURM_SLURMD_PORT:-6818}"
START_TIMEOUT="${TESSERA_SLURM_START_TIMEOUT:-90}"
MIN_JOB_AGE="${TESSERA_SLURM_MIN_JOB_AGE:-4}"
MUNGE_KEY="/etc/munge/munge.key"

die() { echo "slurm_cluster.sh: error: $*" >&2; exit 1; }
log() { echo "slurm_cluster.sh: $*" >&2; }

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

# ---- argument parsing ---------------------------------------------------------------------
[[ $# -ge 1 ]] || usage 2
CMD="$1"; shift
while [[ $# -gt 0 ]]; do
  case "$1" in
    --state-dir) [[ $# -ge 2 ]] || die "--state-dir needs a value"; STATE_DIR="$2"; shift 2 ;;
    --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac
STATE_DIR="${STATE_DIR%/}"
[[ -n "$STATE_DIR" && "$STATE_DIR" != "/" ]] || die "refusing state dir '/'"

CONF="$STATE_DIR/slurm.conf"
LOG_DIR="$STATE_DIR/log"
RUN_DIR="$STATE_DIR/run"
MUNGE_SOCKET="$RUN_DIR/munge.socket"
export SLURM_CONF="$CONF"
# unix socket paths are limited to 108 bytes
(( ${#MUNGE_SOCKET} < 100 )) || die "state dir path too long for the munge socket ($MUNGE_SOCKET); pick a shorter --state-dir"

# ---- helpers --------------------------------------------------------------------------------
# pid_alive NAME: true when run/NAME.pid names a live process whose executable is NAME.
pid_alive() {
  local name="$1" pidfile="$RUN_DIR/$1.pid" pid exe
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -d "/proc/$pid" ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="$(basename "${exe% (deleted)}")"
  # Debian installs the daemons as <name>-wlm behind alternatives symlinks
  [[ "$exe" == "$name" || "$exe" == "$name-wlm" ]]
}

# daemon_starting NAME: its recorded process exists and is the daemon, or is still the shell
# that forked it (a daemon started with `&` a moment ago may not have exec'd yet).
daemon_starting() {
  pid_alive "$1" && return 0
  local pid exe
  pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ && -d "/proc/$pid" ]] || return 1
  exe="$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null || true)")"
  [[ "$exe" == bash || "$exe" == sh ]]
}

# stop_daemon NAME: SIGTERM the recorded pid, wait up to 10 s, then SIGKILL.
stop_daemon() {
  local name="$1" pid i
  if pid_alive "$name"; then
    pid="$(cat "$RUN_DIR/$name.pid")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [[ -d "/proc/$pid" ]] || break
      # a zombie child of ours does not count as running
      [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" == "Z" ]] && break
      sleep 0.1
    done
    if [[ -d "/proc/$pid" ]] && pid_alive "$name"; then
      log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN_DIR/$name.pid"
}

# After the daemons are gone: SIGKILL what is left of this cluster's jobs (slurmstepd and job
# processes survive slurmd by design).  Only processes whose environment holds
# SLURM_CONF=<our conf> AND that are a slurmstepd or carry SLURM_JOB_ID are touched, never
# this script, its callers or anything matched by name alone.
kill_leftover_jobs() {
  local p pid env exe victims=() ancestors=" " a=$$
  # never this script or its callers (they may themselves run inside some other SLURM job)
  while [[ "$a" =~ ^[0-9]+$ && "$a" != "0" ]]; do
    ancestors+="$a "
    a="$(awk '/^PPid:/ {print $2}' "/proc/$a/status" 2>/dev/null || echo 0)"
  done
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [[ "$ancestors" == *" $pid "* || "$pid" == "$BASHPID" ]] && continue
    env="$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null || true)"
    grep -qxF "SLURM_CONF=$CONF" <<<"$env" || continue
    exe="$(readlink "$p/exe" 2>/dev/null || true)"
    if [[ "$exe" == */slurmstepd* ]] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
      victims+=("$pid")
    fi
  done
  if (( ${#victims[@]} > 0 )); then
    log "killing ${#victims[@]} leftover job process(es) of this cluster: ${victims[*]}"
    kill -KILL "${victims[@]}" 2>/dev/null || true
  fi
}

log_tails() {
  local f
  for f in "$LOG_DIR"/*.log; do
    [[ -f "$f" ]] || continue
    echo "----- last 30 lines of $f -----" >&2
    tail -n 30 "$f" >&2 || true
  done
}

node_state() {
  timeout 10 sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true
}

# Which name/address this machine goes by.  slurmd -N pins the node name, and NodeAddr /
# SlurmctldHost's address are 127.0.0.1, so an unresolvable hostname does not matter.
short_hostname() {
  local h
  h="$(hostname -s 2>/dev/null || hostname 2>/dev/null || true)"
  h="${h%%.*}"
  [[ "$h" =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || h="localhost"
  echo "$h"
}

require_root() {
  [[ "$(id -u)" == "0" ]] || die "'$CMD' must run as root (it starts munged, slurmctld, slurmd as root)"
}

require_tools() {
  local t
  for t in munged slurmctld slurmd sinfo scontrol timeout; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' not found in PATH; install: apt-get install slurm-wlm munge"
  done
}

ensure_munge_key() {
  if [[ ! -s "$MUNGE_KEY" ]]; then
    log "creating munge key $MUNGE_KEY"
    mkdir -p "$(dirname "$MUNGE_KEY")"
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$MUNGE_KEY" --force >/dev/null
    else
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
  fi
  local owner="root:root"
  if id munge >/dev/null 2>&1; then owner="munge:munge"; fi
  chown "$owner" "$(dirname "$MUNGE_KEY")" "$MUNGE_KEY"
  chmod 0700 "$(dirname "$MUNGE_KEY")"
  chmod 0400 "$MUNGE_KEY"
}

write_conf() {
  local host="$1" mpi_default="$2" mem_mb
  mem_mb="$(awk '/^MemTotal:/ {print int($2 / 1024 / 2)}' /proc/meminfo 2>/dev/null || echo 1024)"
  [[ "$mem_mb" =~ ^[0-9]+$ && "$mem_mb" -ge 256 ]] || mem_mb=1024
  cat >"$CONF" <<EOF
# Generated by scripts/slurm_cluster.sh -- a private single-node cluster for tests.
ClusterName=tessera
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${MUNGE_SOCKET}
StateSaveLocation=${STATE_DIR}/ctld
SlurmdSpoolDir=${STATE_DIR}/spool
SlurmctldPidFile=${RUN_DIR}/slurmctld.slurm.pid
SlurmdPidFile=${RUN_DIR}/slurmd.slurm.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# containers: no cgroups, no task affinity
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=${mpi_default}
SchedulerType=sched/backfill
# schedule a submitted job at once (default: main loop at most every 2 s)
SchedulerParameters=sched_min_interval=100000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# advertise ${CPUS} CPUs whatever the machine has, so multi-rank jobs fit on a small box
SlurmdParameters=config_overrides
InactiveLimit=0
KillWait=5
# sbatch --wait sleeps 2, 8, 32 s between polls unless MinJobAge/2 <= 2: then every 2 s
MinJobAge=${MIN_JOB_AGE}
SlurmdTimeout=60
SlurmctldTimeout=60
MessageTimeout=20
NodeName=${host} NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=${CPUS} Sockets=1 CoresPerSocket=${CPUS} ThreadsPerCore=1 RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=60 State=UP OverSubscribe=NO
EOF
  # PMIx client dirs per cluster: /tmp/spmix_appdir_<uid>_<job>.<step> would clash with the
  # leftovers of an earlier cluster (job ids restart at 1) and fail the step launch
  mkdir -p "$STATE_DIR/pmix"
  cat >"$STATE_DIR/mpi.conf" <<EOF
# Generated by scripts/slurm_cluster.sh
PMIxCliTmpDirBase=${STATE_DIR}/pmix
EOF
}

# ---- commands -------------------------------------------------------------------------------
cmd_status() {
  local name up=0
  if [[ ! -f "$STATE_DIR/$MARKER" ]]; then
    echo "no cluster state in $STATE_DIR"
    return 1
  fi
  for name in munged slurmctld slurmd; do
    if pid_alive "$name"; then
      echo "$name: running (pid $(cat "$RUN_DIR/$name.pid"))"
    else
      echo "$name: not running"; up=1
    fi
  done
  local st; st="$(node_state)"
  echo "node state: ${st:-unknown}"
  echo "SLURM_CONF=$CONF"
  [[ $up -eq 0 && -n "$st" && "$st" != *down* && "$st" != *drain* ]]
}

cmd_start() {
  require_root
  require_tools
  if [[ -f "$STATE_DIR/$MARKER" ]] && pid_alive munged && pid_alive slurmctld && pid_alive slurmd; then
    case "$(node_state)" in
      idle*|mixed*|alloc*) log "already running (SLURM_CONF=$CONF)"; return 0 ;;
    esac
  fi
  if [[ -e "$STATE_DIR" && ! -f "$STATE_DIR/$MARKER" ]] && [[ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]]; then
    die "$STATE_DIR exists, is not empty and was not made by this script; pick another --state-dir"
  fi
  # half-started or stale: stop whatever of ours is left, then start fresh
  [[ -f "$STATE_DIR/$MARKER" ]] && cmd_stop --keep-dir

  local host; host="$(short_hostname)"
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$RUN_DIR" "$STATE_DIR/ctld" "$STATE_DIR/spool"
  touch "$STATE_DIR/$MARKER"
  chmod 0755 "$STATE_DIR" "$RUN_DIR"
  # port clash with somebody else's slurm is the most likely failure: say so up front
  if command -v ss >/dev/null 2>&1 && ss -ltn 2>/dev/null | awk '{print $4}' | grep -Eq ":(${CTLD_PORT}|${SLURMD_PORT})\$"; then
    die "port ${CTLD_PORT} or ${SLURMD_PORT} is already in use (another slurm?); set TESSERA_SLURM_CTLD_PORT/TESSERA_SLURM_SLURMD_PORT"
  fi

  ensure_munge_key
  # MpiDefault=pmix when this slurm has the plugin.  srun needs a readable slurm.conf even for
  # --mpi=list (without one it spends a minute looking for a configless controller).
  write_conf "$host" none
  local mpi_list
  mpi_list="$(timeout 20 srun --mpi=list 2>&1 || true)"
  if grep -qw pmix <<<"$mpi_list"; then write_conf "$host" pmix; fi

  log "starting munged (socket $MUNGE_SOCKET)"
  munged -F --force --socket="$MUNGE_SOCKET" --key-file="$MUNGE_KEY" \
    --pid-file="$RUN_DIR/munged.slurm.pid" --log-file="$LOG_DIR/munged.log" \
    --seed-file="$RUN_DIR/munged.seed" </dev/null >>"$LOG_DIR/munged.log" 2>&1 &
  echo $! >"$RUN_DIR/munged.pid"
  local i
  for ((i = 0; i < 100; i++)); do [[ -S "$MUNGE_SOCKET" ]] && break; sleep 0.1; done
  if [[ ! -S "$MUNGE_SOCKET" ]] || ! pid_alive munged; then
    log_tails; cmd_stop --keep-dir; die "munged did not come up (logs in $LOG_DIR)"
  fi
  if command -v munge >/dev/null 2>&1 && command -v unmunge >/dev/null 2>&1; then
    if ! timeout 10 munge -S "$MUNGE_SOCKET" -n </dev/null | timeout 10 unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1; then
      log_tails; cmd_stop --keep-dir; die "munge credential round trip failed (key $MUNGE_KEY)"
    fi
  fi

  log "starting slurmctld and slurmd (node $host, $CPUS CPUs, conf $CONF)"
  slurmctld -D -c -i -f "$CONF" </dev/null >>"$LOG_DIR/slurmctld.stdout" 2>&1 &
  echo $! >"$RUN_DIR/slurmctld.pid"
  slurmd -D -N "$host" -f "$CONF" </dev/null >>"$LOG_DIR/slurmd.stdout" 2>&1 &
  echo $! >"$RUN_DIR/slurmd.pid"

  local st="" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    daemon_starting slurmctld || break
    daemon_starting slurmd || break
    st="$(node_state)"
    case "$st" in idle*|mixed*|alloc*) break ;; esac
    sleep 0.5
  done
  case "$st" in
    idle*|mixed*|alloc*)
      log "cluster up: node $host is $st; export SLURM_CONF=$CONF"
      return 0 ;;
  esac
  local d
  for d in slurmctld slurmd; do daemon_starting "$d" || log "$d exited during start-up"; done
  log "cluster did not come up within ${START_TIMEOUT}s (node state: '${st:-none}')"
  pid_alive slurmctld || log "slurmctld exited"
  pid_alive slurmd || log "slurmd exited"
  for f in "$LOG_DIR"/*.stdout; do
    [[ -s "$f" ]] && { echo "----- $f -----" >&2; tail -n 20 "$f" >&2; }
  done
  log_tails
  cmd_stop --keep-dir
  die "slurm did not start; logs kept in $LOG_DIR"
}

cmd_stop() {
  local keep_dir=0
  [[ "${1:-}" == "--keep-dir" ]] && keep_dir=1
  if [[ ! -f "$STATE_DIR/$MARKER" ]]; then
    log "nothing to stop in $STATE_DIR"
    return 0
  fi
  require_root
  # jobs first (best effort, bounded), then the daemons in reverse start order
  if pid_alive slurmctld && pid_alive slurmd; then
    timeout 10 scancel --quiet -u root >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 50; i++)); do
      [[ -z "$(timeout 5 squeue -h -o %i 2>/dev/null || true)" ]] && break
      sleep 0.2
    done
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
  kill_leftover_jobs
  if [[ $keep_dir -eq 0 ]]; then
    rm -rf -- "$STATE_DIR"
    log "stopped; removed $STATE_DIR"
  else
    rm -f "$MUNGE_SOCKET" "$RUN_DIR"/*.pid
  fi
}

case "$CMD" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF='$CONF'" ;;
  -h|--help|help) usage 0 ;;
  *) die "unknown command '$CMD' (start|stop|status|env)" ;;
esac
