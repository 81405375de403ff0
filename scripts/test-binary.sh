#!/usr/bin/env bash
# Prints the path of one test executable of the workspace build, building it
# when needed with the one selection every script uses:
# `cargo test --workspace --all-targets`.
#
#   scripts/test-binary.sh PACKAGE TARGET     e.g. corral-orchestrator it
#
# Cargo resolves features per selection: `cargo test -p corral-cli` would
# build some dependencies a second time with other features (about 6 GB
# more under target/), which once filled a CI machine's disk. The engine
# matrix and the SDK's tests run what the main suite built instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -ne 2 ]; then
    echo "usage: scripts/test-binary.sh PACKAGE TARGET" >&2
    exit 2
fi
cargo test --workspace --all-targets --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
package, target = sys.argv[1], sys.argv[2]
found = []
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") != "compiler-artifact" or not message.get("executable"):
        continue
    if message["target"]["name"] != target or not message["profile"]["test"]:
        continue
    # A package id names the package: "path+file:///…/crates/NAME#VERSION"
    # or, from older cargo, "NAME VERSION (…)".
    id_ = message["package_id"]
    name = id_.split(" ")[0] if " " in id_ else id_.rsplit("#", 1)[0].rsplit("/", 1)[-1]
    if name == package or id_.rsplit("#", 1)[-1].split("@")[0] == package:
        found.append(message["executable"])
if len(found) != 1:
    sys.exit(f"test-binary.sh: {len(found)} test executables named {target} in {package}")
print(found[0])
' "$1" "$2"
