#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium and its WebDriver are here,
# for the web UI's browser test. Installs them with apt when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "ensure-chromium: install chromium and chromium-driver (needs root)" >&2; exit 1; }
echo "ensure-chromium: installing chromium and chromium-driver with apt" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null || {
    echo "ensure-chromium: apt-get install chromium chromium-driver failed" >&2
    exit 1
}
