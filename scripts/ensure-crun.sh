#!/usr/bin/env bash
# Makes crun usable as the OCI runtime of job containers (`corral serve
# --oci-runtime crun`): installs Debian's crun when missing, mounts the
# hugetlb cgroup v1 controller crun expects on a hybrid cgroup layout that
# lacks it, and registers crun with Docker as the runtime `crun`.
set -euo pipefail
say() { printf 'ensure-crun: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
cd "$(dirname "$0")/.."

if ! command -v crun >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || fail "installing crun needs root"
    say "installing crun with apt"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq crun >/dev/null; } || fail "apt-get install crun failed"
fi
# cgroup v1 hierarchies live as directories under a tmpfs /sys/fs/cgroup;
# crun fails a container start when hugetlb is missing there.
if [ -d /sys/fs/cgroup/memory ] && ! mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null; then
    if grep -qw hugetlb /proc/cgroups; then
        mkdir -p /sys/fs/cgroup/hugetlb
        mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb \
            || fail "cannot mount the hugetlb cgroup controller (crun needs it on cgroup v1)"
    fi
fi
bash scripts/register-runtime.sh crun "$(command -v crun)"
