#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for testing the Snakemake SLURM profile (profiles/slurm).
# Debian 12 packages (munge, slurmctld, slurmd, slurm-client), run as root, no systemd needed.
#
#   bash scripts/slurm_local.sh install [none|slurmdbd]  apt-get install the packages if missing (timed)
#   bash scripts/slurm_local.sh up [none|slurmdbd]       install if missing, configure, start the daemons, wait for
#                                                        the node to be idle; does nothing if it is already up
#   bash scripts/slurm_local.sh status                   exit 0 when the daemons this script started are running
#   bash scripts/slurm_local.sh smoke                    srun / sbatch / squeue / fake-GPU checks
#   bash scripts/slurm_local.sh down                     stop exactly the daemons 'up' started (PIDs in $PIDFILE)
#                                                        and remove the config files 'up' wrote
#
# Mode none (default): no accounting database. `sacct` does not work, so Snakemake's SLURM executor must be run
# with `--slurm-status-command squeue` (MinJobAge=300 keeps finished jobs visible to squeue for 5 minutes).
# Mode slurmdbd: adds MariaDB + slurmdbd and registers cluster, account and user, so sacct works too.
#
# The node advertises one fake GPU (gres gpu, File=/dev/null): `sbatch --gpus=1` jobs are scheduled and see
# CUDA_VISIBLE_DEVICES=0, but there is no CUDA device, so the training job falls back to the CPU (device auto).
# It also advertises at least 32 GB of memory (SlurmdParameters=config_overrides): nothing enforces memory here
# (no cgroups), and the workflow's real per-rule requests must be schedulable on a small CI machine.
# Environment: SLURM_LOCAL_ACCOUNT (default ci), SLURM_LOCAL_FORCE=1 to overwrite a slurm.conf not written here.
# Logs: /var/log/slurm/*.log. Written config: /etc/slurm/slurm.conf, gres.conf (and slurmdbd.conf).
set -euo pipefail

CMD=${1:-up}
MODE=${2:-none}
ACCOUNT=${SLURM_LOCAL_ACCOUNT:-ci}
PIDFILE=/run/slurm-local.pids
MARKER="# written by ttur scripts/slurm_local.sh"
HOST=$(hostname -s)

now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
die() { echo "slurm_local.sh: $*" >&2; exit 1; }
wait_for() { # wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
  local n=$(($1 * 5))
  shift
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "slurm_local.sh: timeout waiting for: $*" >&2
  return 1
}

require_root() { [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts system daemons)"; }
check_mode() { case "$MODE" in none | slurmdbd) ;; *) die "unknown mode '$MODE'; use none or slurmdbd" ;; esac; }

packages() {
  local pkgs="munge slurmctld slurmd slurm-client"
  [ "$MODE" = slurmdbd ] && pkgs="$pkgs slurmdbd mariadb-server"
  echo "$pkgs"
}

install_pkgs() {
  local pkgs t0
  pkgs=$(packages)
  # shellcheck disable=SC2086
  if dpkg -s $pkgs >/dev/null 2>&1; then
    echo "packages already installed: $pkgs"
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install $pkgs with your package manager"
  t0=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  echo "installed $pkgs in $(seconds_since "$t0") s"
}

# Every PID recorded in $PIDFILE is alive and slurmctld answers.
is_up() {
  [ -s "$PIDFILE" ] || return 1
  local name pid
  while read -r name pid; do
    kill -0 "$pid" 2>/dev/null || return 1
  done <"$PIDFILE"
  scontrol ping >/dev/null 2>&1
}

write_conf() {
  local cpus mem
  cpus=$(nproc)
  mem=$(($(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 1024))
  [ "$mem" -lt 32000 ] && mem=32000
  if [ -e /etc/slurm/slurm.conf ] && ! grep -qF "$MARKER" /etc/slurm/slurm.conf && [ "${SLURM_LOCAL_FORCE:-0}" != 1 ]; then
    die "/etc/slurm/slurm.conf exists and was not written by this script; set SLURM_LOCAL_FORCE=1 to overwrite it"
  fi
  mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
  chown slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm /run/slurm
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/* # fresh cluster state: job ids restart at 1
  cat >/etc/slurm/slurm.conf <<EOF
$MARKER (mode $MODE)
ClusterName=localci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# no cgroups: plain /proc process tracking, no task binding, no accounting sampling
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
ReturnToService=2
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# the node's advertised memory is taken from this file, not measured (memory is not enforced here)
SlurmdParameters=config_overrides
# finished jobs stay visible to squeue for 300 s; Snakemake's SLURM executor only trusts 'squeue' status when
# MinJobAge >= 3 * init_seconds_before_status_checks
MinJobAge=300
InactiveLimit=0
KillWait=5
Waittime=0
GresTypes=gpu
EOF
  if [ "$MODE" = slurmdbd ]; then
    cat >>/etc/slurm/slurm.conf <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
AccountingStorageTRES=gres/gpu
JobCompType=jobcomp/none
EOF
  else
    cat >>/etc/slurm/slurm.conf <<EOF
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
EOF
  fi
  cat >>/etc/slurm/slurm.conf <<EOF
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # Fake GPU: gres/gpu needs a File= (without it slurmd reports 0 GPUs and the node is drained as invalid).
  cat >/etc/slurm/gres.conf <<EOF
$MARKER
NodeName=${HOST} Name=gpu Count=1 File=/dev/null
EOF
  if [ "$MODE" = slurmdbd ]; then
    cat >/etc/slurm/slurmdbd.conf <<EOF
$MARKER
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmlocal
EOF
    chown slurm:slurm /etc/slurm/slurmdbd.conf
    chmod 600 /etc/slurm/slurmdbd.conf
  fi
}

record() { echo "$1 $2" >>"$PIDFILE"; }

# Start a daemon that writes PIDFILE_OF_DAEMON, wait for it, record its PID.
start_daemon() { # start_daemon NAME PID_FILE CMD...
  local name=$1 pidfile=$2
  shift 2
  rm -f "$pidfile"
  "$@"
  wait_for 30 test -s "$pidfile" || die "$name did not start; see /var/log/slurm/$name.log"
  record "$name" "$(cat "$pidfile")"
}

start_all() {
  for daemon in slurmctld slurmd slurmdbd; do
    if pgrep -x "$daemon" >/dev/null; then
      die "a $daemon not started by this script is running (pid $(pgrep -x "$daemon" | tr '\n' ' ')); stop it first"
    fi
  done
  : >"$PIDFILE"
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "reusing the munged that is already running (it is not stopped by 'down')"
  else
    if [ ! -s /etc/munge/munge.key ]; then
      mungekey --create --keyfile /etc/munge/munge.key
      chown munge:munge /etc/munge/munge.key
      chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge
    chown munge:munge /run/munge
    start_daemon munged /run/munge/munged.pid runuser -u munge -- /usr/sbin/munged
    wait_for 10 bash -c 'munge -n | unmunge' || die "munge does not work; see /var/log/munge/munged.log"
  fi
  if [ "$MODE" = slurmdbd ]; then
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
      >/var/log/slurm/mariadb.log 2>&1 &
    record mariadbd $!
    wait_for 30 mariadb -e 'select 1' || die "MariaDB did not start; see /var/log/slurm/mariadb.log"
    mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
                CREATE OR REPLACE USER 'slurm'@'localhost' IDENTIFIED BY 'slurmlocal';
                GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    start_daemon slurmdbd /run/slurm/slurmdbd.pid /usr/sbin/slurmdbd
    wait_for 30 sacctmgr -n show cluster || die "slurmdbd does not answer; see /var/log/slurm/slurmdbd.log"
    # "Nothing new added" exits 1 on a second run: idempotent
    sacctmgr -i add cluster localci >/dev/null || true
    sacctmgr -i add account "$ACCOUNT" Description=local Organization=local >/dev/null || true
    sacctmgr -i add user "$(id -un)" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null || true
  fi
  start_daemon slurmctld /run/slurm/slurmctld.pid /usr/sbin/slurmctld
  wait_for 30 scontrol ping || die "slurmctld does not answer; see /var/log/slurm/slurmctld.log"
  start_daemon slurmd /run/slurm/slurmd.pid /usr/sbin/slurmd
  wait_for 60 bash -c "sinfo -h -N -o %T | grep -qx idle" || {
    sinfo -N -o '%N %T %E' >&2
    die "the node did not become idle; see /var/log/slurm/slurmd.log"
  }
  sinfo -N -o '%N %T cpus=%c mem=%m gres=%G'
}

# Remove the config files 'up' wrote. While a slurm.conf points at a controller that is not running, every SLURM
# client call waits ~9 s for it, and Snakemake's SLURM executor calls `scontrol show config` whenever Snakemake
# starts (even without --executor slurm): every snakemake command on the machine would take 9 s longer.
remove_conf() {
  local file
  for file in /etc/slurm/slurm.conf /etc/slurm/gres.conf /etc/slurm/slurmdbd.conf; do
    if [ -f "$file" ] && grep -qF "$MARKER" "$file"; then
      rm -f "$file"
      echo "removed $file"
    fi
  done
}

stop_all() {
  [ -f "$PIDFILE" ] || {
    echo "nothing to stop: $PIDFILE does not exist"
    return 0
  }
  local name pid
  # reverse start order: slurmd, slurmctld, slurmdbd, mariadbd, munged
  tac "$PIDFILE" | while read -r name pid; do
    if ! kill "$pid" 2>/dev/null; then
      echo "$name ($pid) was not running"
      continue
    fi
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $name ($pid)"
  done
  rm -f "$PIDFILE"
}

smoke() {
  local account="" job
  scontrol show config | grep -q 'accounting_storage/slurmdbd' && account="-A $ACCOUNT"
  # shellcheck disable=SC2086
  srun $account hostname
  # shellcheck disable=SC2086
  srun $account --gpus=1 bash -c 'echo "gpu job: CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"'
  # shellcheck disable=SC2086
  job=$(sbatch $account --parsable -J smoke -o /dev/null --wrap 'sleep 1')
  wait_for 60 bash -c "squeue -h -j $job -t all -o %T | grep -qx COMPLETED"
  squeue -h -j "$job" -t all -o '%i %j %T'
}

case "$CMD" in
install)
  require_root
  check_mode
  install_pkgs
  ;;
up)
  require_root
  check_mode
  if is_up; then
    grep -qF "$MARKER (mode $MODE)" /etc/slurm/slurm.conf || die "already up in another mode; run 'down' first"
    echo "already up (daemons in $PIDFILE)"
    exit 0
  fi
  [ -s "$PIDFILE" ] && stop_all # a half-dead earlier start: stop what is left of it
  t0=$(now_ms)
  install_pkgs
  t1=$(now_ms)
  write_conf
  start_all
  echo "install $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }') s," \
    "configure+start $(seconds_since "$t1") s"
  ;;
status)
  if is_up; then
    cat "$PIDFILE"
    sinfo -N -o '%N %T cpus=%c mem=%m gres=%G'
  else
    echo "not up"
    exit 1
  fi
  ;;
smoke) smoke ;;
down)
  require_root
  stop_all
  remove_conf
  ;;
*)
  echo "usage: $0 install|up [none|slurmdbd] | status | smoke | down" >&2
  exit 2
  ;;
esac
