#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for the sweep integration test (adl sweep --slurm).
#   .ci/slurm-cluster.sh start   install slurm-wlm and munge when missing, write the config, start munged,
#                                slurmctld and slurmd, wait until the node is idle (idempotent: a running cluster is kept)
#   .ci/slurm-cluster.sh stop    stop the daemons this script started, by the process ids it recorded
#   .ci/slurm-cluster.sh status  print whether it is up
# Needs root (apt-get, daemons as root/munge). State, config and logs live in $SLURM_CLUSTER_DIR (default
# /tmp/adl-slurm-cluster); the config sits at /etc/slurm/slurm.conf because the Slurm clients read it there.
set -euo pipefail

STATE="${SLURM_CLUSTER_DIR:-/tmp/adl-slurm-cluster}"
CONF=/etc/slurm/slurm.conf
NODE="$(hostname -s)"

log() { echo "slurm-cluster: $*" >&2; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || { log "slurm-wlm and munge are missing and installing them needs root"; exit 1; }
  log "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

configure() {
  mkdir -p "$STATE"/{spool,ctld,log} /etc/slurm /run/munge /var/log/munge /var/lib/munge /etc/munge
  local cpus mem
  cpus=$(nproc)
  # The node offers most of its memory; slurmd refuses a node that claims more than it has.
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  cat > "$CONF" <<CONF
# Written by .ci/slurm-cluster.sh: a one-node cluster for tests.
ClusterName=adltest
SlurmctldHost=$NODE
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmdSpoolDir=$STATE/spool
StateSaveLocation=$STATE/ctld
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmUser=root
MinJobAge=300
MaxArraySize=10001
NodeName=$NODE CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
}

start() {
  install
  if alive munged && alive slurmctld && alive slurmd && sinfo -h >/dev/null 2>&1; then log "already running"; return; fi
  configure
  if ! alive munged; then
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --force 2>>"$STATE/log/munged.log"
    # munged forks into the background and writes its pid where the munge user may write; keep a copy with ours.
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$STATE/munged.pid"
  fi
  alive slurmctld || /usr/sbin/slurmctld -i
  alive slurmd || /usr/sbin/slurmd
  for _ in $(seq 100); do
    state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)
    if [ "$state" = idle ] || [ "$state" = mix ] || [ "$state" = alloc ]; then log "up: node $NODE $state"; return; fi
    sleep 0.3
  done
  log "the node did not become idle (state '${state:-?}'); logs in $STATE/log"
  tail -n 20 "$STATE"/log/*.log >&2 || true
  exit 1
}

stop() {
  for daemon in slurmd slurmctld munged; do
    if alive "$daemon"; then
      pid=$(cat "$STATE/$daemon.pid")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      log "stopped $daemon ($pid)"
    fi
    rm -f "$STATE/$daemon.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if alive munged && alive slurmctld && alive slurmd; then sinfo; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
