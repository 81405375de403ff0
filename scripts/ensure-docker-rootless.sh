#!/usr/bin/env bash
# Makes sure a rootless Docker engine (dockerd-rootless.sh under rootlesskit)
# answers for user NAME, starting it if needed, and prints its socket's path
# (give it to corral as `--docker-host`).
#
#   scripts/ensure-docker-rootless.sh --user NAME   # /run/user/UID/docker.sock
#
# The user is made when missing, with subordinate ids above every range held
# (scripts/subids.sh) and a runtime directory. rootlesskit, slirp4netns and
# uidmap (and docker.io) come from apt when missing; no rootful engine is
# started for it.
# The engine runs with --bridge=none --iptables=false like the main one: no
# container gets an address, and every job uses NetworkMode none anyway.
# Idempotent; copes with a stale pid file and socket left by a killed engine.
#
# On a cgroup v1 host rootless Docker runs with the cgroup driver `none` and
# sets no limit, and says so in its `info`; corral then refuses to connect
# (corral-docker `remap::limits_refusal`). On cgroup v2 it needs the memory,
# pids and cpu controllers delegated to the user.
set -euo pipefail

user=""
if [ "${1:-}" = "--user" ]; then
    user="${2:?--user needs a user name}"
fi
[[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || { echo "ensure-docker-rootless: --user NAME: a user name is needed${user:+, not $user}" >&2; exit 1; }
wait_seconds=60
contrib=/usr/share/docker.io/contrib

say() { printf 'ensure-docker-rootless: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "starting a rootless engine for another user needs root"
[ "$user" != dockremap ] || fail "--user dockremap: that is the remapping engine's user, whose ids it holds"
if id "$user" >/dev/null 2>&1 && [ "$(id -u "$user")" -lt 1000 ]; then
    fail "--user $user: a system account (uid below 1000); name an ordinary user"
fi

missing=()
[ -x "$contrib/dockerd-rootless.sh" ] || missing+=(docker.io)
command -v rootlesskit >/dev/null 2>&1 || missing+=(rootlesskit)
command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
command -v newuidmap >/dev/null 2>&1 || missing+=(uidmap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        fail "installing ${missing[*]} with apt failed"
    fi
fi
[ -x "$contrib/dockerd-rootless.sh" ] || fail "$contrib/dockerd-rootless.sh is missing (Debian's docker.io ships it)"

. "$(dirname "$0")/subids.sh"
rootless_user "$user"
socket="$rootless_runtime_dir/docker.sock"
# dockerd writes its pid here in rootless mode.
pid_file="$rootless_runtime_dir/docker.pid"
log_file="${CORRAL_DOCKERD_ROOTLESS_LOG:-/var/log/corral-dockerd-rootless-$user.log}"

answers() { curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

if answers; then
    echo "$socket"
    exit 0
fi

. "$(dirname "$0")/daemon.sh"

# runuser (what this script starts) waits on rootlesskit, which runs dockerd.
alive() { daemon_alive "$pid_file" dockerd runuser; }

start() {
    daemon_clear "$pid_file" "$socket"
    # Its containerd's pid file, left by a kill, makes the next start time
    # out; removed as the user, since the user owns the path.
    runuser -u "$user" -- rm -f "$rootless_runtime_dir/docker/containerd/containerd.pid" 2>/dev/null || true
    mkdir -p "$(dirname "$log_file")"
    say "starting rootless dockerd as $user (log: $log_file)"
    # Nothing of root's environment (tokens, keys) reaches the user's processes.
    # From `/`: a daemon (and what it starts: conmon, containerd) keeps
    # its working directory, and this clone may be deleted under it.
    (cd / && exec nohup setsid runuser -u "$user" -- env -i "HOME=$rootless_home" "XDG_RUNTIME_DIR=$rootless_runtime_dir" \
        "USER=$user" "LOGNAME=$user" "PATH=$contrib:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$contrib/dockerd-rootless.sh" --host "unix://$socket" --bridge=none --iptables=false) >>"$log_file" 2>&1 </dev/null &
    daemon_pid=$!
}

daemon_ensure "$wait_seconds" answers alive start "rootless dockerd" "$socket" "$log_file"
echo "$socket"
