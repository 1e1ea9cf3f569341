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
    if apt-cache policy mesa-vulkan-drivers | grep -q 'bookworm-backports'; then
      apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1
    else
      echo "note: bookworm-backports is not among the apt sources (add it to the Suites: line of your Debian entry);" >&2
      echo "      installing the default mesa-vulkan-drivers, which may be too old for Dawn (--backend reference works)." >&2
      apt-get install -y -q mesa-vulkan-drivers libvulkan1
    fi
  else
    echo "note: no Vulkan driver found; install mesa-vulkan-drivers >= 23 and libvulkan1 (as root: bash scripts/setup.sh)," >&2
    echo "      or use a GPU driver; without either, run smcirc with --backend reference (CPU)." >&2
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "smcirc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Debian bookworm's nodejs package is 18: install Node 20 (e.g. from NodeSource or with nvm), then rerun." >&2
  exit 1
fi

npm ci --no-audit --no-fund
