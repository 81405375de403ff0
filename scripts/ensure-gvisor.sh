#!/usr/bin/env bash
# Makes gVisor usable as a job isolation level: installs Debian's runsc when
# missing, registers it in /etc/docker/daemon.json as the runtime `runsc`
# with the arguments corral needs, and has the running daemon reload it.
#   --network=none   jobs have no network anyway
#   --host-uds=open  the job's Unix socket at /run/corral must be openable
#   --oci-seccomp    Docker's seccomp profile applies inside the sandbox too
#   --platform=ptrace  the platform that works without KVM
set -euo pipefail
say() { printf 'ensure-gvisor: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
args='["--network=none", "--host-uds=open", "--oci-seccomp", "--platform=ptrace"]'

if ! command -v runsc >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || fail "installing runsc needs root"
    say "installing runsc with apt"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq runsc >/dev/null; } || fail "apt-get install runsc failed"
fi
bash "$(dirname "$0")/register-runtime.sh" runsc "$(command -v runsc)" "$args"
