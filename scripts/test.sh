#!/usr/bin/env bash
# Runs corral's whole test suite against real Docker: unit tests, the
# orchestrator's integration tests and the CLI's end-to-end tests.
#
# It starts Docker when none answers, installs busybox-static, debootstrap
# and npm when missing (the Claude Code image is built on first use),
# registers gVisor (runsc) with Docker, installs Chromium for the UI test,
# builds the static worker once, runs the tests with bounded parallelism,
# then the Python SDK's (scripts/test-python.sh) and the engine matrix on
# rootful Podman and on Docker with userns-remap (scripts/test-engines.sh),
# and fails if any
# container carrying a corral label is left afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh
bash scripts/ensure-busybox.sh
bash scripts/ensure-image-tools.sh
bash scripts/ensure-gvisor.sh
bash scripts/ensure-crun.sh
bash scripts/ensure-chromium.sh
# Podman for the engine matrix below (and the unit test of its seccomp
# profile), and a second, remapping Docker engine for the same matrix.
bash scripts/ensure-podman.sh >/dev/null
bash scripts/ensure-docker-userns.sh >/dev/null

CORRAL_WORKER_BIN="$(bash scripts/build-worker.sh)"
export CORRAL_WORKER_BIN

# Docker tests mostly wait on containers; four at once keeps two cores busy
# without starving the engine.
threads="${CORRAL_TEST_THREADS:-4}"
status=0
# Each stage says when it began, so a slow run shows where its time went.
stage() { printf '\ntest.sh: %s (%s)\n' "$*" "$(date -u +%T)" >&2; }
stage "cargo test, the whole workspace"
cargo test --workspace --all-targets -- --test-threads="$threads" || status=$?

# The Python SDK against a real server (ruff, mypy --strict, pytest).
stage "the Python SDK"
bash scripts/test-python.sh || status=$?

# The engine matrix: the profile, verify, life and hostile tests again on
# rootful Podman and on Docker with userns-remap.
stage "the engine matrix"
bash scripts/test-engines.sh || status=$?

stage "done"
leftover="$(docker ps -aq --filter label=corral.job 2>/dev/null || true)"
if [ -n "$leftover" ]; then
    echo "test.sh: containers with a corral.job label were left behind:" >&2
    docker ps -a --filter label=corral.job >&2
    docker rm -f $leftover >/dev/null 2>&1 || true
    status=1
fi
exit "$status"
