#!/usr/bin/env bash
# Stop the SLURM test cluster started by tests/slurm/start_slurm.sh: only the daemons whose pid
# files that script wrote under $TEARFLOW_SLURM_DIR/pids (default /tmp/tearflow-slurm/pids), and
# the /etc/slurm/slurm.conf link it created. A munged that was already running is left alone.
# `--purge` also deletes the state folder (configuration, logs, spool, jobcomp.log).
set -uo pipefail

STATE="${TEARFLOW_SLURM_DIR:-/tmp/tearflow-slurm}"
say() { echo "stop_slurm: $*"; }

if [ ! -d "$STATE/pids" ]; then
    say "nothing to stop (no $STATE/pids)"
    exit 0
fi

# slurmd first, then slurmctld, then munged (the others need munge to shut down cleanly).
for daemon in slurmd slurmctld munged; do
    pidfile="$STATE/pids/$daemon.pid"
    [ -s "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping $daemon (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$daemon (pid $pid) ignored TERM for 10s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    else
        say "$daemon (pid $pid) was not running"
    fi
    rm -f "$pidfile"
done

if [ -s "$STATE/created_link" ]; then
    link="$(cat "$STATE/created_link")"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$STATE/etc/slurm.conf" ]; then
        rm -f "$link"
    fi
    rm -f "$STATE/created_link"
fi

if [ "${1:-}" = "--purge" ]; then
    say "removing $STATE"
    rm -rf "$STATE"
fi
say "stopped"
