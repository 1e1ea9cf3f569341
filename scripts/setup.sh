#!/usr/bin/env bash
# Sets up smcirc on Debian bookworm: Mesa's lavapipe (software Vulkan for Dawn: mesa-vulkan-drivers >= 23 from
# bookworm-backports, and libvulkan1) when no recent one is installed and we are root, Debian's chromium likewise (for
# the browser test of `smcirc report`, which skips without it and fails in CI), then the npm dependencies and the
# build (npm ci runs tsc); the last two lines say whether chromium is installed and which Vulkan driver state it ended
# with. Command output is captured before it is searched (under pipefail, `cmd | grep -q` fails whenever grep's early
# exit kills cmd with SIGPIPE). The apt source paths can be moved with SMCIRC_APT_SOURCES_DIR and
# SMCIRC_APT_SOURCES_LIST (for tests).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt_updated=
sources_dir=${SMCIRC_APT_SOURCES_DIR:-/etc/apt/sources.list.d}
sources_list=${SMCIRC_APT_SOURCES_LIST:-/etc/apt/sources.list}
how="add bookworm-backports to the Suites: line of your Debian apt entry, apt-get update, then
      apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 (all as root: bash scripts/setup.sh does it)"

installed() { # the installed version of package $1, or nothing
  local s
  s=$(dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null) || true
  awk '$3 == "installed" && v == "" { v = $4 } END { print v }' <<<"$s"
}

mesa_ok() {
  local v
  v=$(installed mesa-vulkan-drivers)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 23 && [ -n "$(installed libvulkan1)" ]
}

backports_candidate() { # the newest mesa-vulkan-drivers version apt offers from bookworm-backports, or nothing
  local policy
  policy=$(apt-cache policy mesa-vulkan-drivers 2>/dev/null) || true
  # Version table: "  [***] VERSION PRIORITY" lines, each followed by "    PRIORITY URI SUITE/COMPONENT ..." lines.
  awk 'NF == 2 && $2 ~ /^-?[0-9]+$/ { v = $1 }
       NF == 3 && $1 == "***" && $3 ~ /^-?[0-9]+$/ { v = $2 }
       c == "" && v != "" && $3 ~ /^bookworm-backports\// { c = v }
       END { print c }' <<<"$policy"
}

has_backports() { # some enabled apt source line already names the suite
  grep -qsE '^[^#]*[[:space:]]bookworm-backports([[:space:]]|$)' \
    "$sources_list" "$sources_dir"/*.list "$sources_dir"/*.sources
}

add_backports() { # append the suite to the Suites: line that lists bookworm (the Debian entry; names no host)
  local src=$sources_dir/debian.sources n line
  if [ -f "$src" ]; then
    n=$(awk 'tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm" && !n) n = NR } END { print n }' "$src")
    if [ -n "$n" ]; then
      sed -i "${n}s/[[:space:]]*\$/ bookworm-backports/" "$src"
      echo "added bookworm-backports to the Suites: line of $src"
      return
    fi
  fi
  line=$(awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i == "bookworm") { $i = "bookworm-backports"; print; exit } }' \
    "$sources_list" 2>/dev/null) || true
  if [ -n "$line" ]; then
    echo "note: $sources_list is in the one-line format; to get a recent Mesa, add this line to it and rerun:" >&2
    echo "      $line" >&2
  else
    echo "note: found no Debian bookworm entry in $sources_dir/debian.sources or $sources_list to add bookworm-backports to." >&2
  fi
}

if mesa_ok; then
  :
elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || ! command -v apt-cache >/dev/null; then
  echo "note: no recent Vulkan driver found (mesa-vulkan-drivers >= 23 and libvulkan1); to get lavapipe," >&2
  echo "      $how." >&2
else
  has_backports || add_backports
  apt-get update -q
  apt_updated=1
  v=$(backports_candidate)
  if [ -n "$v" ] && dpkg --compare-versions "$v" ge 23; then
    apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1
  else
    # The default bookworm Mesa (22) is too old for Dawn, so installing it would not help.
    echo "note: apt offers no mesa-vulkan-drivers >= 23 from bookworm-backports${v:+ (only $v)}; not installing Mesa." >&2
    echo "      To get lavapipe, $how." >&2
  fi
fi

# Chromium drives the browser test of `smcirc report` (report.html opened in headless Chromium); it is optional:
# a failed install is a note, not a failed setup.
if [ -n "$(installed chromium)" ]; then
  :
elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: no chromium; the browser test of \`smcirc report\` skips without it (as root: apt-get install chromium)." >&2
elif { [ -n "$apt_updated" ] || apt-get update -q; } && apt-get install -y -q chromium; then
  :
else
  echo "note: installing chromium failed; the browser test of \`smcirc report\` skips without it." >&2
fi

chromium=$(installed chromium)
mesa=$(installed mesa-vulkan-drivers)
lib=$(installed libvulkan1)
if mesa_ok; then
  case $mesa in *~bpo12*) mesa="$mesa (bookworm-backports)" ;; esac
  vulkan="mesa-vulkan-drivers $mesa: lavapipe ready"
else
  vulkan="mesa-vulkan-drivers ${mesa:-not installed}, libvulkan1 ${lib:-not installed}: no lavapipe;"
  vulkan="$vulkan Dawn needs a GPU Vulkan driver, else only --backend reference will work"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || true
case $node_major in '' | *[!0-9]*) node_major=0 ;; esac
if [ "$node_major" -lt 20 ]; then
  echo "smcirc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "Debian bookworm's nodejs package is 18: install Node 20 (e.g. from NodeSource or with nvm), then rerun." >&2
  exit 1
fi

npm ci --no-audit --no-fund
echo "chromium: ${chromium:-not installed (the browser test of smcirc report skips)}"
echo "vulkan: $vulkan"
