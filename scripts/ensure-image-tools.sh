#!/usr/bin/env bash
# Makes sure the tools the Debian and Claude Code images are built with are
# here: debootstrap (the Debian root) and npm (the pinned claude binary),
# and curl, whose host binary the egress tests' image is made of.
# Installs them with apt when missing (needs root).
set -euo pipefail
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "ensure-image-tools: install ${missing[*]} (needs root)" >&2; exit 1; }
echo "ensure-image-tools: installing ${missing[*]} with apt" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || {
    echo "ensure-image-tools: apt-get install ${missing[*]} failed" >&2
    exit 1
}
