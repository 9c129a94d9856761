#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the Slurm executor's tests, CI and anyone trying
# the executor on one machine. Needs root (it installs packages and runs the daemons as root).
#
#   eval "$(scripts/slurm-local.sh start [DIR])"   # prints only `export` lines on stdout
#   scripts/slurm-local.sh status [DIR]             # sinfo and squeue; exit 1 if not running
#   eval "$(scripts/slurm-local.sh stop [DIR])"     # prints only `unset` lines on stdout
#
# start: installs Debian's `slurm-wlm` and `munge` with apt if `slurmctld` is missing; creates
#   /etc/munge/munge.key if absent and starts `munged` unless `munge -n | unmunge` already
#   works; writes `slurm.conf` into DIR (default: a new `mktemp -d`) for one node with this
#   machine's CPUs (or $REPRO_SLURM_CPUS, more than it has for a benchmark of the controller) and 90% of its memory, non-default ports ($REPRO_SLURM_PORT, default 16817,
#   for slurmctld and the next one for slurmd), state, spool, logs and pid files all inside DIR;
#   starts slurmctld then slurmd and waits (at most $REPRO_SLURM_WAIT s, default 30) until
#   `sinfo` shows the node idle. It prints `export SLURM_CONF=DIR/slurm.conf` and
#   `export REPRO_SLURM_DIR=DIR`. If the daemons of DIR (without DIR: of $REPRO_SLURM_DIR)
#   already run, it prints the same lines and starts nothing; if another Slurm holds the ports,
#   it refuses.
# stop: DIR defaults to $REPRO_SLURM_DIR. Cancels the jobs still queued or running, stops
#   slurmd and slurmctld by their pid files and waits for them to exit; leaves munged running;
#   removes DIR only if `start` created it (marked by DIR/.created-by-slurm-local).
# status: DIR defaults to $REPRO_SLURM_DIR.
#
# Limits: no accounting (no slurmdbd, so no `sacct`: use `squeue`/`scontrol show job`, which keep
# a finished job for MinJobAge=300 s); no GPUs or other gres; no cgroups (proctrack/linuxproc,
# task/none), so Slurm allocates a job's CPUs and memory but does not confine the job to them.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

say() { echo "slurm-local: $*" >&2; }
die() { say "error: $*"; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

port=${REPRO_SLURM_PORT:-16817}
wait_s=${REPRO_SLURM_WAIT:-30}
marker=.created-by-slurm-local

# The pid in PIDFILE if that process is alive and is NAME, else nothing (status 1).
alive() {
  local pidfile=$1 name=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(<"$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  echo "$pid"
}

# ", by `slurmctld -f CONF`" for each running slurmctld, the likely holders of a port.
holders() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = slurmctld ] || continue
    printf ', by `%s`' "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | sed 's/ $//')"
  done
}

# Whether something listens on TCP port $1 of this machine.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The scratch directory from $1, else $REPRO_SLURM_DIR, as an absolute path.
resolve_dir() {
  local d=${1:-${REPRO_SLURM_DIR:-}}
  [ -n "$d" ] || die "no scratch directory: give DIR or set REPRO_SLURM_DIR (hint: eval \"\$($0 start)\")"
  realpath -m "$d"
}

print_exports() {
  printf 'export SLURM_CONF=%q\n' "$1/slurm.conf"
  printf 'export REPRO_SLURM_DIR=%q\n' "$1"
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
    && command -v munged >/dev/null && command -v sinfo >/dev/null; then
    return
  fi
  [ "$(id -u)" = 0 ] || die "slurmctld is missing and installing it needs root"
  local t
  t=$(now)
  say "installing slurm-wlm and munge with apt-get (DEBIAN_FRONTEND=noninteractive; about 20 s)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    slurm-wlm munge >&2
  say "installed $(slurmctld -V) in $(since "$t") s"
}

ensure_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return
  fi
  local key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    say "creating $key"
    install -d -o munge -g munge -m 700 /etc/munge
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    chown munge:munge "$key"
    chmod 400 "$key"
  fi
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  say "starting munged (as user munge)"
  runuser -u munge -- munged >&2 9>&-
  local i
  for i in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "munged does not answer: \`munge -n | unmunge\` fails (see /var/log/munge/munged.log)"
}

write_conf() {
  local dir=$1 host cpus mem_mb
  host=$(hostname -s)
  cpus=${REPRO_SLURM_CPUS:-$(nproc)}
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh for one node on this machine; see docs/slurm.md.
ClusterName=repro-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Keep a finished job visible to squeue and scontrol for 5 minutes (there is no sacct).
MinJobAge=300
MaxJobCount=100000
MaxArraySize=10001
# Seconds between SIGTERM and SIGKILL when a job is cancelled or runs out of time.
KillWait=5
SlurmctldDebug=info
SlurmdDebug=info
$(if [ "$cpus" -gt "$(nproc)" ]; then echo "# REPRO_SLURM_CPUS declares more CPUs than the machine has (for benchmarks of the controller)."; echo "SlurmdParameters=config_overrides"; fi)
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

# Stops the daemons of DIR (slurmd first), waiting for each to exit.
stop_daemons() {
  local dir=$1 name pid i
  for name in slurmd slurmctld; do
    pid=$(alive "$dir/run/$name.pid" "$name") || continue
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  done
}

show_logs() {
  local dir=$1 f
  for f in "$dir"/log/slurmctld.log "$dir"/log/slurmd.log; do
    [ -f "$f" ] || continue
    echo "--- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
}

start() {
  local t0 dir created=0 i state=""
  t0=$(now)
  [ "$(id -u)" = 0 ] || die "the daemons run as root here: run \`$0 start\` as root"
  local want=${1:-}
  # Without DIR, a running scratch Slurm named by $REPRO_SLURM_DIR is reused.
  if [ -z "$want" ] && [ -n "${REPRO_SLURM_DIR:-}" ] \
    && alive "$REPRO_SLURM_DIR/run/slurmctld.pid" slurmctld >/dev/null; then
    want=$REPRO_SLURM_DIR
  fi
  if [ -n "$want" ]; then
    dir=$(realpath -m "$want")
    if [ ! -d "$dir" ]; then
      mkdir -p "$dir"
      created=1
    fi
  else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/repro-slurm.XXXXXX")
    created=1
  fi
  [ "$created" = 1 ] && touch "$dir/$marker"
  # One start at a time per DIR. fd 9 holds the lock: the daemons are started with `9>&-`, else
  # they would inherit it and hold it for their lifetime.
  exec 9>"$dir/.lock"
  flock 9

  if alive "$dir/run/slurmctld.pid" slurmctld >/dev/null; then
    alive "$dir/run/slurmd.pid" slurmd >/dev/null \
      || die "slurmctld of $dir runs but slurmd does not (hint: $0 stop $dir, then start again)"
    say "already running from $dir; nothing started"
    print_exports "$dir"
    return
  fi

  install_packages
  ensure_munge
  for i in "$port" $((port + 1)); do
    if listening "$i"; then
      [ "$created" = 1 ] && rm -rf "$dir"
      die "port $i is in use$(holders) (hint: $0 stop DIR, or set REPRO_SLURM_PORT to a free pair of ports)"
    fi
  done

  write_conf "$dir"
  export SLURM_CONF=$dir/slurm.conf
  say "starting slurmctld and slurmd from $SLURM_CONF"
  # If the node does not come up, stop what this call started and keep DIR for its logs.
  trap 'stop_daemons "$dir"' ERR
  slurmctld -f "$SLURM_CONF" >&2 9>&-
  for i in $(seq 100); do
    alive "$dir/run/slurmctld.pid" slurmctld >/dev/null && scontrol ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  slurmd -f "$SLURM_CONF" >&2 9>&-
  for i in $(seq $((wait_s * 5))); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    sleep 0.2
  done
  trap - ERR
  if [ "$state" != idle ]; then
    say "error: the node is not idle after ${wait_s} s (sinfo says \`${state:-nothing}\`); logs are in $dir/log"
    show_logs "$dir"
    stop_daemons "$dir"
    exit 1
  fi
  say "node $(hostname -s) idle with ${REPRO_SLURM_CPUS:-$(nproc)} CPUs; started in $(since "$t0") s"
  print_exports "$dir"
}

stop() {
  local dir ids i
  dir=$(resolve_dir "${1:-}")
  [ -f "$dir/slurm.conf" ] || die "no slurm.conf in \`$dir\`"
  export SLURM_CONF=$dir/slurm.conf
  if alive "$dir/run/slurmctld.pid" slurmctld >/dev/null; then
    ids=$(squeue -h -t PD,R,S,CF,CG -o '%F' 2>/dev/null | sort -u || true)
    if [ -n "$ids" ]; then
      say "cancelling jobs $(echo $ids)"
      # shellcheck disable=SC2086
      scancel $ids || true
      for i in $(seq 150); do
        [ -z "$(squeue -h -t R,CG,S -o '%i' 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemons "$dir"
  say "munged is left running"
  if [ -f "$dir/$marker" ]; then
    rm -rf "$dir"
    say "removed $dir"
  fi
  if [ "$dir" = "${REPRO_SLURM_DIR:-}" ]; then
    echo "unset SLURM_CONF REPRO_SLURM_DIR"
  fi
}

status() {
  local dir
  dir=$(resolve_dir "${1:-}")
  export SLURM_CONF=$dir/slurm.conf
  if ! alive "$dir/run/slurmctld.pid" slurmctld >/dev/null; then
    say "not running from $dir"
    exit 1
  fi
  sinfo
  squeue
}

case "${1:-}" in
  start | stop | status)
    cmd=$1
    shift
    "$cmd" "$@"
    ;;
  *)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
