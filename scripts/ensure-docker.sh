#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, starting one if needed.
#
# Idempotent: when `docker info` already works it does nothing. Otherwise it
# installs docker.io from apt when dockerd is missing, clears a stale pid file
# and socket left by a killed daemon, starts `dockerd --bridge=none
# --iptables=false` detached (log in $CORRAL_DOCKERD_LOG), and waits up to
# 60 s for the socket to answer. Exits 1 with a clear message when it cannot.
set -euo pipefail

log_file="${CORRAL_DOCKERD_LOG:-/var/log/corral-dockerd.log}"
socket="/var/run/docker.sock"
pid_file="/var/run/docker.pid"
wait_seconds=60

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

engine_answers() {
    # Ask the daemon directly over the socket: the docker client on PATH may
    # be newer than the engine, and `docker info` can be missing entirely.
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1
    else
        [ -S "$socket" ] && DOCKER_HOST="unix://$socket" docker info >/dev/null 2>&1
    fi
}

if engine_answers; then
    exit 0
fi

[ "$(id -u)" -eq 0 ] || fail "no Docker engine answers and starting one needs root (run as root, or start dockerd yourself)"

if ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd not found: installing docker.io with apt"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq docker.io >/dev/null; }; then
        fail "installing docker.io with apt failed"
    fi
    command -v dockerd >/dev/null 2>&1 || fail "docker.io installed but dockerd is still not on PATH"
fi

. "$(dirname "$0")/daemon.sh"

# Ours: the one this script started or whose pid file is Docker's default,
# or any dockerd started with Docker's defaults (no other socket or pid
# file), which may still be coming up: never start a second one beside it.
alive() {
    daemon_alive "$pid_file" dockerd && return 0
    local pid
    for pid in $(pgrep -x dockerd 2>/dev/null); do
        live_pid "$pid" || continue
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq -- ' (-H|--host|-p|--pidfile)[ =]' || return 0
    done
    return 1
}

start_dockerd() {
    daemon_clear "$pid_file" "$socket"
    # containerd keeps its own pid file; dockerd restarts containerd itself.
    rm -f /var/run/docker/containerd/containerd.pid 2>/dev/null || true
    mkdir -p "$(dirname "$log_file")"
    say "starting dockerd (log: $log_file)"
    # From `/`: a daemon (and what it starts: conmon, containerd) keeps
    # its working directory, and this clone may be deleted under it.
    (cd / && exec nohup setsid dockerd --bridge=none --iptables=false) >>"$log_file" 2>&1 </dev/null &
    daemon_pid=$!
}

# Wait for the engine; start one whenever ours is not alive. Another dockerd
# (the remapping one, a user's rootless one) is not ours.
daemon_ensure "$wait_seconds" engine_answers alive start_dockerd "dockerd" "$socket" "$log_file"
