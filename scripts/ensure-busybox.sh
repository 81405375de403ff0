#!/usr/bin/env bash
# Makes sure Debian's static busybox is at /bin/busybox: the default image is
# built from it, offline. Installs busybox-static with apt when missing.
set -euo pipefail
busybox=/bin/busybox
is_static() { [ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; }
if is_static; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "ensure-busybox: $busybox is missing or dynamic; install busybox-static (needs root)" >&2; exit 1; }
echo "ensure-busybox: installing busybox-static with apt" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq busybox-static >/dev/null || { echo "ensure-busybox: apt-get install busybox-static failed" >&2; exit 1; }
is_static || { echo "ensure-busybox: $busybox is still not a static binary" >&2; exit 1; }
