#!/usr/bin/env bash
# Registers an OCI runtime with the running Docker daemon: adds it to
# /etc/docker/daemon.json (keeping whatever else is there) and has dockerd
# reload its configuration (SIGHUP), then waits until `docker info` lists it.
#   usage: scripts/register-runtime.sh NAME PATH [RUNTIME_ARGS_JSON]
set -euo pipefail
say() { printf 'register-runtime: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
[ $# -ge 2 ] || fail "usage: $0 NAME PATH [RUNTIME_ARGS_JSON]"
name=$1 path=$2 args=${3:-[]}
conf=/etc/docker/daemon.json
socket=/var/run/docker.sock

registered() {
    curl -fsS --max-time 3 --unix-socket "$socket" http://localhost/info 2>/dev/null | grep -q "\"$name\""
}

if registered && grep -qs "\"$name\"" "$conf"; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "registering $name with Docker needs root"
mkdir -p "$(dirname "$conf")"
if ! grep -qs "\"$name\"" "$conf"; then
    command -v python3 >/dev/null 2>&1 || fail "python3 is needed to edit $conf (add $name: $path by hand)"
    python3 - "$conf" "$name" "$path" "$args" <<'PY'
import json, os, sys
conf, name, path, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
data = {}
if os.path.exists(conf) and os.path.getsize(conf) > 0:
    with open(conf) as f:
        data = json.load(f)
entry = {"path": path}
if args:
    entry["runtimeArgs"] = args
data.setdefault("runtimes", {})[name] = entry
with open(conf, "w") as f:
    json.dump(data, f, indent=2)
PY
fi
registered && exit 0
pkill -HUP -x dockerd || fail "no dockerd to reload (run scripts/ensure-docker.sh first)"
for _ in $(seq 1 50); do
    registered && exit 0
    sleep 0.2
done
fail "dockerd did not pick up the $name runtime from $conf"
