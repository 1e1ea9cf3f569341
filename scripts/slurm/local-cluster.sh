#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (munge + slurmctld + slurmd as root, no systemd, no accounting), all of its
# state in one folder: `up <dir>` starts it and prints `export SLURM_CONF=<dir>/slurm.conf`; `down <dir>` cancels its
# jobs and stops the daemons by their PID files. Used by test/sweep/slurm.test.ts and CI. Needs Debian's
# slurmctld slurmd slurm-client munge (`apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge`).
set -euo pipefail

usage() { echo "usage: $0 up|down <dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
export SLURM_CONF="$dir/slurm.conf"
export PATH="$PATH:/usr/sbin:/sbin"   # the daemons live there; a non-login root shell may lack them

# A free TCP port on this machine (nothing answers on 127.0.0.1 and `ss` lists no listener).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q . && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Running (a zombie that no init reaps has exited).
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/^.*) //' "/proc/$1/stat" | grep -q '^Z'; }

stop_pidfile() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  if [ -s "$dir/slurmctld.pid" ] && alive "$(cat "$dir/slurmctld.pid")"; then
    scancel --full --quiet --signal=KILL --partition=local 2>/dev/null || true
    scancel --quiet --partition=local 2>/dev/null || true
  fi
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"
}

up() {
  for b in munged mungekey slurmctld slurmd sbatch squeue sinfo scancel; do
    command -v "$b" >/dev/null || { echo "$b not found: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge" >&2; exit 3; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "must run as root (SlurmUser=root)" >&2; exit 3; }
  down
  chmod 755 "$dir"
  rm -rf "$dir/state" "$dir/spool"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  rm -f "$dir/munge.key"
  mungekey --create --keyfile="$dir/munge.key"
  chmod 600 "$dir/munge.key"
  munged --force --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"

  local node ctl_port d_port host
  node=$(slurmd -C | sed -n 's/^\(NodeName=.*\)$/\1/p' | head -1)
  [ -n "$node" ] || { echo "slurmd -C printed no node line" >&2; exit 1; }
  host=$(printf '%s\n' "$node" | sed 's/^NodeName=\([^ ]*\).*/\1/')
  ctl_port=$(free_port)
  d_port=$(free_port)
  while [ "$d_port" = "$ctl_port" ]; do d_port=$(free_port); done
  cat > "$SLURM_CONF" <<EOF
ClusterName=smcirc-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
MinJobAge=300
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -i || fail "slurmctld did not start"
  slurmd || fail "slurmd did not start"
  # ready when the node is idle (slurmd registered with the controller)
  for _ in $(seq 1 100); do
    if [ "$(sinfo -h -N -o %t 2>/dev/null | head -1)" = "idle" ]; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.1
  done
  fail "the node did not become idle; sinfo says: $(sinfo -h -N -o '%t %E' 2>&1 | head -1)"
}

fail() {
  echo "$1" >&2
  for f in "$dir"/log/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  down
  exit 1
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
