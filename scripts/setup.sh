#!/usr/bin/env bash
# Sets up smcirc on Debian bookworm: Mesa's lavapipe (software Vulkan for Dawn, from bookworm-backports) when
# no recent one is installed and we are root, then the npm dependencies and the build (npm ci runs tsc).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive

mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23 && dpkg -s libvulkan1 >/dev/null 2>&1
}

if ! mesa_ok; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
      # Add the backports suite to the Suites: line of the existing Debian entry (no new host is named).
      sed -i 's/^\(Suites: bookworm bookworm-updates\)$/\1 bookworm-backports/' "$src"
    fi
    apt-get update -q
    apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1
  else
    echo "note: no Vulkan driver found; install mesa-vulkan-drivers >= 23 and libvulkan1 (as root: bash scripts/setup.sh)," >&2
    echo "      or use a GPU driver; without either, run smcirc with --backend reference (CPU)." >&2
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q nodejs npm; else echo "Node.js 20 or newer is needed" >&2; exit 1; fi
fi

npm ci --no-audit --no-fund
