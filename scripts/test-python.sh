#!/usr/bin/env bash
# The Python SDK's checks and tests (scripts/test.sh runs this).
#
# Makes a virtualenv (target/python-sdk-venv, reused while
# sdk/python/requirements-dev.txt is unchanged), installs the SDK into it
# the way users do (`pip install ./sdk/python`), then runs ruff, mypy
# --strict and pytest. pytest starts a real `corral serve` (target/debug/corral
# unless CORRAL_BIN says otherwise) on a temporary data directory with the
# scripted model; it needs Docker, the default image and CORRAL_WORKER_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(realpath -m "${CORRAL_PY_VENV:-target/python-sdk-venv}")"
requirements=sdk/python/requirements-dev.txt
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./sdk/python

if [ -z "${CORRAL_WORKER_BIN:-}" ]; then
    CORRAL_WORKER_BIN="$(bash scripts/build-worker.sh)"
    export CORRAL_WORKER_BIN
fi
if [ -z "${CORRAL_BIN:-}" ]; then
    # The binary the workspace's test build makes (`cargo build -p
    # corral-cli` would build dependencies again with other features).
    cargo test --quiet --workspace --all-targets --no-run
    export CORRAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/corral"
fi
"$CORRAL_BIN" image build >/dev/null

cd sdk/python
"$venv/bin/ruff" format --config pyproject.toml --check src tests scripts ../../examples/python
"$venv/bin/ruff" check --config pyproject.toml src tests scripts ../../examples/python
# tests/_sync repeats tests/_async's module names: checked on its own.
MYPYPATH=tests "$venv/bin/mypy" --strict src/corral tests/*.py tests/_async ../../examples/python
MYPYPATH=tests "$venv/bin/mypy" --strict tests/_sync
# Bounded by the tests' own timeouts; -p no:cacheprovider keeps the tree clean.
"$venv/bin/python" -m pytest -q -p no:cacheprovider
