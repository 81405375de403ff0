#!/usr/bin/env bash
# The lints CI runs besides fmt and clippy: cargo-deny (licenses, bans,
# sources), typos and cargo-machete. Installs each pinned tool when it is
# missing or another version:
#
# - typos from its official wheel on PyPI (a prebuilt binary, seconds),
#   taken only with its pinned hash, into a virtualenv of its own, else
#   built from crates.io;
# - cargo-deny and cargo-machete from crates.io as debug builds: a release
#   build of cargo-deny takes several minutes on two cores, its debug build
#   about one and a half, and the debug check still takes under a minute.
#
#   scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

deny_version=0.20.2
machete_version=0.9.2
typos_version=1.52.0
# sha256 of typos-1.52.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
typos_wheel_sha256=418fd85f7fc11dec14e5482e747f6e916af56da96207cde0cdd69540a4b389f6
tools="${CORRAL_LINT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/corral-lint-tools}"
mkdir -p "$tools"

# Whether `$1 --version` ends in exactly version $2.
says_version() {
    [ "$("$1" --version 2>/dev/null | awk '{ print $NF }')" = "$2" ]
}

# `cargo install --debug --locked NAME VERSION` into $tools, unless the
# binary there already says VERSION.
cargo_tool() {
    local crate="$1" binary="$2" version="$3"
    if ! says_version "$tools/bin/$binary" "$version"; then
        echo "lint.sh: building $crate $version (debug)"
        cargo install --debug --locked --quiet --root "$tools" "$crate" --version "$version"
    fi
}

cargo_tool cargo-deny cargo-deny "$deny_version"
cargo_tool cargo-machete cargo-machete "$machete_version"

typos="$tools/typos-venv/bin/typos"
if ! says_version "$typos" "$typos_version"; then
    rm -rf "$tools/typos-venv"
    # The wheel is taken only with the hash it was pinned with.
    printf 'typos==%s --hash=sha256:%s\n' "$typos_version" "$typos_wheel_sha256" \
        >"$tools/typos-requirements.txt"
    if python3 -m venv "$tools/typos-venv" &&
        "$tools/typos-venv/bin/pip" install --quiet --disable-pip-version-check \
            --only-binary :all: --require-hashes -r "$tools/typos-requirements.txt"; then
        echo "lint.sh: typos $typos_version from its wheel"
    else
        echo "lint.sh: no typos wheel; building typos-cli $typos_version (debug)"
        cargo_tool typos-cli typos "$typos_version"
        typos="$tools/bin/typos"
    fi
fi

"$tools/bin/cargo-deny" check licenses bans sources
"$typos"
# cargo-machete is run as a cargo subcommand would be.
"$tools/bin/cargo-machete"
