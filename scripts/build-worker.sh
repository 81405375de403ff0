#!/usr/bin/env bash
# Builds the static corral-worker that is bind-mounted into every job container.
#
# Usage: scripts/build-worker.sh [--release]
# Prints the binary's path. It is statically linked against glibc
# (-C target-feature=+crt-static) so it runs in any image, even FROM scratch.
# The explicit --target keeps these RUSTFLAGS off build scripts and proc
# macros, and puts the binary under target/x86_64-unknown-linux-gnu/, where
# `corral serve` looks for it.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
args=()
if [ "${1:-}" = "--release" ]; then
    profile=release
    args+=(--release)
fi
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --quiet "${args[@]}" -p corral-worker --target x86_64-unknown-linux-gnu >&2
# Cargo puts it under CARGO_TARGET_DIR when that is set.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$PWD/$target_dir" ;;
esac
echo "$target_dir/x86_64-unknown-linux-gnu/$profile/corral-worker"
