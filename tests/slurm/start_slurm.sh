#!/usr/bin/env bash
# Bring up a one-node SLURM "cluster" on this machine, for tests/test_slurm.py and CI.
#
#   tests/slurm/start_slurm.sh          # start (idempotent: a running cluster is left alone)
#   tests/slurm/stop_slurm.sh           # stop only the daemons this script started
#
# Made for a Debian 12 container run as root without systemd or cgroups: munged, slurmctld and
# slurmd are started directly, with proctrack/linuxproc and task/none. Debian's packages are
# installed when missing (`apt-get install -y slurm-wlm munge`). No slurmdbd: job states come
# from `squeue`, so run Snakemake with `--slurm-status-command squeue` (MinJobAge is long enough
# for that) and without `slurm_account` (nothing could validate it).
#
# Everything this script writes lives under $TEARFLOW_SLURM_DIR (default /tmp/tearflow-slurm):
#   etc/slurm.conf     the configuration (also linked to /etc/slurm/slurm.conf if that is free,
#                      so sbatch/squeue/sinfo find it without SLURM_CONF)
#   log/               slurmctld.log, slurmd.log, munged.log
#   pids/              <daemon>.pid for every daemon THIS script started (stop_slurm.sh reads them)
#   jobcomp.log        one line per finished job (JobId, JobName, JobState, ...), for tests
#   env.sh             `source` it to get SLURM_CONF in a shell
#
# Settings (environment): TEARFLOW_SLURM_DIR, TEARFLOW_SLURM_CPUS (default: nproc),
# TEARFLOW_SLURM_MEM_MB (default: 80% of MemTotal, at most 23000), TEARFLOW_SLURM_PARTITION
# (default: main), TEARFLOW_SLURM_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

STATE="${TEARFLOW_SLURM_DIR:-/tmp/tearflow-slurm}"
PARTITION="${TEARFLOW_SLURM_PARTITION:-main}"
TIMEOUT="${TEARFLOW_SLURM_TIMEOUT:-60}"
NODE="$(hostname -s)"
CONF="$STATE/etc/slurm.conf"
export SLURM_CONF="$CONF"

say() { echo "start_slurm: $*"; }
die() {
    echo "start_slurm: ERROR: $*" >&2
    diagnostics >&2
    exit 1
}

diagnostics() {
    echo "---- diagnostics (state folder $STATE) ----"
    for pidfile in "$STATE"/pids/*.pid; do
        [ -e "$pidfile" ] || continue
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            echo "$(basename "$pidfile" .pid): running (pid $pid)"
        else
            echo "$(basename "$pidfile" .pid): NOT running (pid file says $pid)"
        fi
    done
    echo "munge round trip: $( (munge -n | unmunge >/dev/null) 2>&1 && echo ok || echo FAILED)"
    echo "sinfo:"; sinfo -N -l 2>&1 | sed 's/^/  /' || true
    echo "sinfo -R (reasons):"; sinfo -R 2>&1 | sed 's/^/  /' || true
    for log in "$STATE"/log/*.log; do
        [ -e "$log" ] || continue
        echo "last lines of $log:"
        tail -n 15 "$log" | sed 's/^/  /'
    done
}

# The node's state as sinfo reports it ("idle", "mixed", "down*", ...), empty if no answer.
node_state() {
    sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1 || true
}

node_usable() {
    case "$(node_state)" in
        idle | mixed | allocated | completing) return 0 ;;
        *) return 1 ;;
    esac
}

# pid recorded in pids/<name>.pid, if that process is alive.
our_pid() {
    local pidfile="$STATE/pids/$1.pid"
    [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"
}

[ "$(id -u)" -eq 0 ] || { echo "start_slurm: ERROR: run as root (slurmd must run as root)" >&2; exit 1; }

# ---------------------------------------------------------------- packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing Debian packages slurm-wlm munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq \
        || { echo "start_slurm: ERROR: apt-get update failed" >&2; exit 1; }
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null \
        || { echo "start_slurm: ERROR: apt-get install -y slurm-wlm munge failed" >&2; exit 1; }
fi

mkdir -p "$STATE"/{etc,log,pids,spool/ctld,spool/d}

# ---------------------------------------------------------------- already up?
if [ -n "$(our_pid slurmctld || true)" ] && [ -n "$(our_pid slurmd || true)" ] && node_usable; then
    say "already running: node $NODE is $(node_state) (state folder $STATE)"
    exit 0
fi

# ---------------------------------------------------------------- munge
if (munge -n | unmunge >/dev/null) 2>/dev/null; then
    say "munged already answers; using it"
else
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/log/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    touch "$STATE/log/munged.log"
    chown munge:munge "$STATE/log/munged.log"
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --log-file="$STATE/log/munged.log" \
        --pid-file=/run/munge/munged.pid \
        || die "munged did not start"
    for _ in $(seq 1 50); do
        [ -s /run/munge/munged.pid ] && break
        sleep 0.1
    done
    cp /run/munge/munged.pid "$STATE/pids/munged.pid"
    (munge -n | unmunge >/dev/null) 2>/dev/null || die "munged runs but munge -n | unmunge fails"
fi

# ---------------------------------------------------------------- configuration
CPUS="${TEARFLOW_SLURM_CPUS:-$(nproc)}"
if [ -z "${TEARFLOW_SLURM_MEM_MB:-}" ]; then
    mem_total_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
    TEARFLOW_SLURM_MEM_MB=$((mem_total_mb * 8 / 10))
    [ "$TEARFLOW_SLURM_MEM_MB" -le 23000 ] || TEARFLOW_SLURM_MEM_MB=23000
fi

cat >"$CONF.new" <<EOF
# Written by tests/slurm/start_slurm.sh: a one-node test cluster, no accounting database.
ClusterName=tearflow
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes (the Snakemake plugin reads their state there).
MinJobAge=600
KillWait=10
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/pids/slurmctld.pid
SlurmdPidFile=$STATE/pids/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$TEARFLOW_SLURM_MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
mv "$CONF.new" "$CONF"
printf 'export SLURM_CONF=%q\n' "$CONF" >"$STATE/env.sh"

# Let client commands (sbatch, squeue, sinfo from Snakemake and tests) find the file.
if [ ! -e /etc/slurm/slurm.conf ] \
    || { [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$CONF" ]; }; then
    mkdir -p /etc/slurm
    ln -sfn "$CONF" /etc/slurm/slurm.conf
    echo /etc/slurm/slurm.conf >"$STATE/created_link"
else
    say "note: /etc/slurm/slurm.conf exists and is not ours; export SLURM_CONF=$CONF (or: source $STATE/env.sh)"
fi

# ---------------------------------------------------------------- daemons
if [ -z "$(our_pid slurmctld || true)" ]; then
    say "starting slurmctld"
    rm -f "$STATE/pids/slurmctld.pid"
    /usr/sbin/slurmctld -f "$CONF" || die "slurmctld did not start"
fi
if [ -z "$(our_pid slurmd || true)" ]; then
    say "starting slurmd (node $NODE)"
    rm -f "$STATE/pids/slurmd.pid"
    /usr/sbin/slurmd -f "$CONF" -N "$NODE" || die "slurmd did not start"
fi

# ---------------------------------------------------------------- wait for the node
say "waiting up to ${TIMEOUT}s for node $NODE to be idle"
deadline=$((SECONDS + TIMEOUT))
resumed=0
until node_usable; do
    state="$(node_state)"
    if [ "$resumed" -eq 0 ] && [[ "$state" == down* || "$state" == drain* ]]; then
        # A node left DOWN/DRAINED by an earlier run is brought back once.
        scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
        resumed=1
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "node $NODE not idle after ${TIMEOUT}s (state: '${state:-no answer}')"
    for daemon in slurmctld slurmd; do
        [ -n "$(our_pid "$daemon" || true)" ] || [ ! -e "$STATE/pids/$daemon.pid" ] \
            || die "$daemon exited (see $STATE/log/$daemon.log)"
    done
    sleep 1
done

# A job as root must run end to end (catches auth/spool/permission problems early).
if ! out="$(timeout 60 srun -N 1 -n 1 -t 1 --job-name=tearflow-smoke true 2>&1)"; then
    die "test job 'srun true' failed: $out"
fi
say "SLURM is up: partition '$PARTITION', node $NODE ($CPUS CPUs, ${TEARFLOW_SLURM_MEM_MB} MB); config $CONF"
