#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60), on
# the stable toolchain: `-s none` builds without a sanitizer, and nothing
# else cargo-fuzz passes to rustc needs nightly (`-Cpasses=sancov-module`
# and the `-Cllvm-args=-sanitizer-coverage-*` flags are stable codegen
# options). libFuzzer itself is C++, built by libfuzzer-sys with the
# system's C++ compiler.
#
# Each target starts from its seed corpus in fuzz/corpus/TARGET (kept in
# the repository, never written to: new inputs go to a scratch directory).
# A crash, a panic, a leak past the redactor or a timeout fails the run;
# the input is left in fuzz/artifacts/TARGET/ and printed in hex, to become
# a regression test. Prints each target's executions per second.
#
# Targets run CORRAL_FUZZ_JOBS at a time (default: one a core, at most 4);
# each libFuzzer process uses one core.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh --build-only     the tools and the build, no run (CI
#                                    builds in the background meanwhile)
#   scripts/fuzz.sh --tools-only     a C++ compiler and cargo-fuzz, no build
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=false
tools_only=false
if [ "${1:-}" = "--build-only" ] || [ "${1:-}" = "--tools-only" ]; then
    [ "$1" = "--build-only" ] && build_only=true || tools_only=true
    shift
    seconds=0
else
    seconds="${1:-60}"
    shift || true
fi
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...] | --build-only [TARGET...] | --tools-only" >&2
    exit 2
    ;;
esac

if ! command -v c++ >/dev/null 2>&1; then
    echo "installing a C++ compiler for libFuzzer"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q g++ >/dev/null
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install --locked --quiet cargo-fuzz --version 0.13.2
fi
if "$tools_only"; then
    exit 0
fi

cd fuzz
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    listed="$(cargo fuzz list)"
    mapfile -t targets <<<"$listed"
fi
if [ "${#targets[@]}" -eq 0 ] || [ -z "${targets[0]}" ]; then
    echo "fuzz.sh: no fuzz target" >&2
    exit 1
fi
# Sixteen codegen units instead of cargo-fuzz's one: the build (every
# dependency instrumented, in release) takes a fraction of the time, for
# somewhat slower runs. The same flags for build and run, or run rebuilds.
flags=(-s none --codegen-units 16)
# One build of every target (the dependencies are shared), then each run
# starts at once.
if [ "$#" -gt 0 ]; then
    for target in "${targets[@]}"; do
        cargo fuzz build "${flags[@]}" "$target"
    done
else
    cargo fuzz build "${flags[@]}"
fi
if "$build_only"; then
    exit 0
fi

jobs="${CORRAL_FUZZ_JOBS:-$(nproc)}"
case "$jobs" in
'' | *[!0-9]* | 0) jobs=1 ;;
esac
[ "$jobs" -le 4 ] || jobs=4

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# fuzz_one TARGET: runs it, leaving its log, summary line and exit status
# in $scratch.
fuzz_one() {
    local target="$1" log="$scratch/$1.log" status=0
    mkdir -p "$scratch/$target" "artifacts/$target"
    cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    local runs took rate
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    printf '%-12s %10s runs %6s exec/s %4ss' "$target" "${runs:-?}" "${rate:-?}" "${took:-?}" \
        >"$scratch/$target.summary"
    echo "$status" >"$scratch/$target.status"
}

running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    echo "==> fuzz $target for ${seconds}s"
    fuzz_one "$target" &
    running=$((running + 1))
done
wait || true

failed=()
summary=()
for target in "${targets[@]}"; do
    summary+=("$(cat "$scratch/$target.summary" 2>/dev/null || echo "$target: no summary")")
    # Fails closed: a status file missing or empty is a failure.
    if [ "$(cat "$scratch/$target.status" 2>/dev/null)" != 0 ]; then
        failed+=("$target")
        echo "--- $target failed; the end of its log:"
        tail -n 40 "$scratch/$target.log"
        for input in "artifacts/$target"/*; do
            [ -f "$input" ] || continue
            echo "--- $input (hex):"
            od -An -tx1 -v "$input" | head -n 64
        done
    fi
done

echo
echo "fuzz summary (${seconds}s per target, $jobs at a time, stable toolchain, no sanitizer):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
