#!/usr/bin/env bash
# Runs real sample jobs end to end on a fresh machine: starts Docker,
# builds corral and its static worker, builds the default image offline,
# starts `corral serve` on a temporary data directory (SQLite, defaults, the
# scripted model from examples/demo-model.json as the model provider), runs
# a worker-mode agent job that uses tools in a locked-down container, then
# an exec job, and shows their events.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh
bash scripts/ensure-busybox.sh

echo "==> building corral and the static worker" >&2
cargo build --quiet -p corral-cli
worker="$(bash scripts/build-worker.sh)"
corral="$PWD/target/debug/corral"

echo "==> building the default image (skipped when current)" >&2
"$corral" image build

data_dir="$(mktemp -d /tmp/corral-demo.XXXXXX)"
log="$data_dir/serve.log"
cleanup() {
    if [ -n "${server_pid:-}" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$data_dir" "${project:-}"
}
trap cleanup EXIT

echo "==> starting corral serve (data dir $data_dir)" >&2
"$corral" --data-dir "$data_dir" serve --listen 127.0.0.1:0 --worker-bin "$worker" \
    --llm "scripted:$PWD/examples/demo-model.json" >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
    grep -q "corral is serving" "$log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "corral serve exited" >&2; exit 1; }
    sleep 0.05
done
grep -q "corral is serving" "$log" || { cat "$log" >&2; echo "corral serve did not start" >&2; exit 1; }

project="$(mktemp -d /tmp/corral-demo-project.XXXXXX)"
chown 10001:10001 "$project" 2>/dev/null || chmod 0777 "$project"
echo "==> corral run --mode worker: an agent job; its model is the scripted one, every call proxied" >&2
"$corral" --data-dir "$data_dir" run --mode worker --project "$project" --timeout 2m \
    "Look at the project and leave a greeting note in it."
echo "==> the agent's note, on the host: $project/GREETING.md" >&2
cat "$project/GREETING.md"
worker_job="$("$corral" --data-dir "$data_dir" jobs --json | grep -o '"id":"j-[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)"

echo "==> corral secret set DEMO_TOKEN (sealed at rest, read from stdin)" >&2
printf 'demo-token-%s' "$(date +%s)" | "$corral" --data-dir "$data_dir" secret set DEMO_TOKEN

echo "==> corral run: a sample job in a locked-down container" >&2
"$corral" --data-dir "$data_dir" run --memory 128m --timeout 1m --grant DEMO_TOKEN -- sh -c '
    echo "hello from job $CORRAL_JOB_ID, running as uid $(id -u)"
    echo "network interfaces: $(ls /sys/class/net | tr "\n" " ")"
    if touch /etc/corral-probe 2>/dev/null; then echo "root filesystem is WRITABLE"; else echo "root filesystem is read-only"; fi
    echo scratch > /tmp/scratch && echo "/tmp is writable (tmpfs)"
    echo "the granted token is ${#DEMO_TOKEN} bytes long; printed, it reads: $DEMO_TOKEN"
    echo "this line goes to stderr" >&2
'

echo "==> corral logs $worker_job --json (the agent job's stored events)" >&2
"$corral" --data-dir "$data_dir" logs "$worker_job" --json
echo "==> corral show $worker_job" >&2
"$corral" --data-dir "$data_dir" show "$worker_job"
