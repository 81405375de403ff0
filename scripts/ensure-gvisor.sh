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
conf=/etc/docker/daemon.json
socket=/var/run/docker.sock
args='["--network=none", "--host-uds=open", "--oci-seccomp", "--platform=ptrace"]'

registered() {
    curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/info 2>/dev/null | grep -q '"runsc"'
}

if registered && grep -qs '"runsc"' "$conf"; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "registering runsc with Docker needs root"
if ! command -v runsc >/dev/null 2>&1; then
    say "installing runsc with apt"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq runsc >/dev/null; } || fail "apt-get install runsc failed"
fi
runsc_path="$(command -v runsc)"
mkdir -p "$(dirname "$conf")"
if [ ! -s "$conf" ]; then
    printf '{\n  "runtimes": {\n    "runsc": {"path": "%s", "runtimeArgs": %s}\n  }\n}\n' "$runsc_path" "$args" > "$conf"
elif ! grep -q '"runsc"' "$conf"; then
    command -v python3 >/dev/null 2>&1 || fail "$conf exists without runsc; add it by hand (path $runsc_path, runtimeArgs $args)"
    python3 - "$conf" "$runsc_path" "$args" <<'PY'
import json, sys
path, runsc, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(path) as f:
    conf = json.load(f)
conf.setdefault("runtimes", {})["runsc"] = {"path": runsc, "runtimeArgs": args}
with open(path, "w") as f:
    json.dump(conf, f, indent=2)
PY
fi
registered && exit 0
# SIGHUP makes dockerd reload its configuration, runtimes included.
pkill -HUP -x dockerd || fail "no dockerd to reload (run scripts/ensure-docker.sh first)"
for _ in $(seq 1 50); do
    registered && exit 0
    sleep 0.2
done
fail "dockerd did not pick up the runsc runtime from $conf"
