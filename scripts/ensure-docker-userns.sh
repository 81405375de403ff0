#!/usr/bin/env bash
# Makes sure a second Docker engine with user namespace remapping
# (`--userns-remap=default`) answers on this machine, beside the ordinary one
# from scripts/ensure-docker.sh, and prints its socket's path.
#
# Root inside its containers is an unprivileged host uid: Docker creates the
# `dockremap` user and takes its subordinate id range from /etc/subuid and
# /etc/subgid (added here when missing, above every range there, so no
# user's range overlaps it: scripts/subids.sh). It has its own data
# root, exec root, pid file and socket, so both engines run at once and
# neither sees the other's images or containers. Idempotent; copes with a
# stale pid file and socket left by a killed daemon.
#
#   scripts/ensure-docker-userns.sh          # prints /run/corral-userns/docker.sock
set -euo pipefail

base=/run/corral-userns
socket="$base/docker.sock"
pid_file="$base/docker.pid"
data_root=/var/lib/corral-docker-userns
log_file="${CORRAL_DOCKERD_USERNS_LOG:-/var/log/corral-dockerd-userns.log}"
wait_seconds=60

say() { printf 'ensure-docker-userns: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

answers() { curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

if [ -S "$socket" ] && answers; then
    echo "$socket"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "starting a remapping Docker engine needs root"
bash "$(dirname "$0")/ensure-docker.sh"

# dockerd makes the user when it is missing but needs the ranges to exist.
id dockremap >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dockremap
. "$(dirname "$0")/subids.sh"
give_subids dockremap

. "$(dirname "$0")/daemon.sh"

alive() { daemon_alive "$pid_file" dockerd; }
answers_here() { [ -S "$socket" ] && answers; }

start() {
    daemon_clear "$pid_file" "$socket"
    rm -f "$base/exec/containerd/containerd.pid" 2>/dev/null || true
    mkdir -p "$base" "$data_root" "$(dirname "$log_file")"
    say "starting dockerd --userns-remap=default (log: $log_file)"
    # From `/`: a daemon (and what it starts: conmon, containerd) keeps
    # its working directory, and this clone may be deleted under it.
    (cd / && exec nohup setsid dockerd --userns-remap=default --bridge=none --iptables=false \
        --host "unix://$socket" --pidfile "$pid_file" \
        --data-root "$data_root" --exec-root "$base/exec") >>"$log_file" 2>&1 </dev/null &
    daemon_pid=$!
}

daemon_ensure "$wait_seconds" answers_here alive start "the remapping dockerd" "$socket" "$log_file"
echo "$socket"
