#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the study's sharding tests (and for trying the emitted scripts).
#   scripts/slurm-local.sh install   Debian's slurm-wlm and munge (root)
#   scripts/slurm-local.sh start     munged, slurmctld and slurmd on localhost, with this machine's CPUs
#   scripts/slurm-local.sh stop      stops what start started
# Runs as root: the daemons, and the jobs, run as root here. State lives under /tmp/mspgt-slurm.
set -euo pipefail
D=/tmp/mspgt-slurm

case "${1:-}" in
install)
  dpkg -s slurm-wlm munge >/dev/null 2>&1 && exit 0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
  ;;
start)
  mkdir -p "$D"/{state,spool,log,run} /etc/munge /run/munge /var/lib/munge /var/log/munge /etc/slurm
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || munged --force 2>/dev/null
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=mspgt
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
  for _ in $(seq 1 60); do
    sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc' && { echo "slurm: one node ($host, $cpus CPUs) up"; exit 0; }
    sleep 1
  done
  echo "slurm: the node did not come up; see $D/log" >&2
  exit 1
  ;;
stop)
  scancel --user=root 2>/dev/null || true
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  pkill -x munged 2>/dev/null || true
  ;;
*)
  echo "usage: $0 install|start|stop" >&2
  exit 2
  ;;
esac
