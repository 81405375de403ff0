#!/usr/bin/env bash
# Makes sure Podman's Docker-compatible API answers on a Unix socket, starting
# `podman system service` if needed; prints the socket's path on stdout (give
# it to corral as `--docker-host`).
#
#   scripts/ensure-podman.sh              rootful: /run/podman/podman.sock
#   scripts/ensure-podman.sh --user NAME  rootless, as user NAME (made when
#                                         missing, with subordinate ids and
#                                         uidmap): /run/user/UID/podman/podman.sock
#
# Idempotent: when the socket already answers it only prints it. Otherwise it
# installs podman and catatonit (the init Podman runs as PID 1 for `Init`)
# from apt when missing, clears a stale pid file and socket left by a killed
# service, starts the service detached (log in $CORRAL_PODMAN_LOG), and waits
# up to 60 s for the socket to answer. Exits 1 with a clear message when it
# cannot.
#
# On a host whose hard limits on open files or processes are below what
# rootful Podman asks for by default (1048576), containers fail to start
# (crun: setrlimit ... Operation not permitted); the script then writes
# /etc/containers/containers.conf.d/50-corral-ulimits.conf setting Podman's
# default ulimits to the host's hard limits, and says so.
set -euo pipefail

log_file="${CORRAL_PODMAN_LOG:-/var/log/corral-podman.log}"
socket="/run/podman/podman.sock"
pid_file="/run/podman/corral-podman.pid"
user=""
if [ "${1:-}" = "--user" ]; then
    user="${2:?--user needs a user name}"
    [[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || { echo "ensure-podman: --user: not a user name: $user" >&2; exit 1; }
fi
wait_seconds=60
podman_default_limit=1048576

say() { printf 'ensure-podman: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

service_answers() {
    curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1
}

if [ -z "$user" ] && service_answers; then
    echo "$socket"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || fail "starting Podman's service needs root (run as root; --user NAME for rootless)"

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
[ -x /usr/libexec/podman/catatonit ] || command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
command -v curl >/dev/null 2>&1 || missing+=(curl)
[ -z "$user" ] || command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        fail "installing ${missing[*]} with apt failed"
    fi
fi

# Rootless: the user, its subordinate ids (above every range held, see
# scripts/subids.sh), its runtime directory, and the service run as it.
as_user=()
if [ -n "$user" ]; then
    . "$(dirname "$0")/subids.sh"
    rootless_user "$user"
    runtime_dir="$rootless_runtime_dir"
    socket="$runtime_dir/podman/podman.sock"
    # Root writes it: never inside the user's own directory.
    pid_file="/run/corral-podman-$user.pid"
    log_file="${CORRAL_PODMAN_LOG:-/var/log/corral-podman-$user.log}"
    # Nothing of root's environment (tokens, keys) reaches the user's processes.
    as_user=(runuser -u "$user" -- env -i "HOME=$rootless_home" "XDG_RUNTIME_DIR=$runtime_dir"
        "USER=$user" "LOGNAME=$user" "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    if service_answers; then
        echo "$socket"
        exit 0
    fi
fi

# Podman's own default ulimits, lowered to this host's hard limits when they
# are below them (else no container starts here).
# Podman lowers its own limit on processes to kernel.pid_max, and crun
# cannot raise a container's above the service's.
files=$(ulimit -Hn)
processes=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo "$podman_default_limit")
if [ "$processes" = unlimited ] || [ "$processes" -gt "$pid_max" ]; then
    processes=$pid_max
fi
conf=/etc/containers/containers.conf.d/50-corral-ulimits.conf
low() { [ "$1" != unlimited ] && [ "$1" -lt "$podman_default_limit" ]; }
if { low "$files" || low "$processes"; } && [ ! -e "$conf" ]; then
    [ "$files" = unlimited ] && files=$podman_default_limit
    mkdir -p "$(dirname "$conf")"
    printf '# Written by corral'"'"'s scripts/ensure-podman.sh: this host'"'"'s hard limits.\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
        "$files" "$files" "$processes" "$processes" >"$conf"
    say "this host's hard limits (files $files, processes $processes) are below Podman's defaults: wrote $conf"
fi

. "$(dirname "$0")/daemon.sh"

# The service runs as podman, or under runuser for a rootless one.
live_service() { daemon_alive "$pid_file" podman runuser; }

start_service() {
    daemon_clear "$pid_file" "$socket"
    mkdir -p "$(dirname "$log_file")"
    "${as_user[@]}" mkdir -p "$(dirname "$socket")"
    say "starting podman system service${user:+ as $user (rootless)} (log: $log_file)"
    # From `/`: a daemon (and what it starts: conmon, containerd) keeps
    # its working directory, and this clone may be deleted under it.
    (cd / && exec nohup setsid "${as_user[@]}" podman system service --time=0 "unix://$socket") >>"$log_file" 2>&1 </dev/null &
    daemon_pid=$!
    echo "$daemon_pid" >"$pid_file"
}

daemon_ensure "$wait_seconds" service_answers live_service start_service \
    "podman system service" "$socket" "$log_file"
echo "$socket"
