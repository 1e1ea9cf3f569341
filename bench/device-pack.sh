#!/usr/bin/env bash
# bench/device-pack.sh — run HERE (the development machine), before borrowing a GPU machine: builds the gitignored
# folder .device/ with everything bench/device.sh needs there that git does not carry, compressed:
#
#   .device/node.xz          this machine's Node binary (the GPU machine probably has no Node)
#   .device/app.tar.xz       app/: package.json, bin/, specs/, dist/ (built JS, no source maps) and a pruned
#                            node_modules/ holding only what `smcirc train` / `doctor` / dist/bench/device-step.js
#                            load (chevrotain, commander, pickleparser, ts-morph, webgpu with linux-x64 Dawn only)
#                            and their dependencies
#   .device/libs.tar.xz      vklib/: Debian's Vulkan loader libvulkan.so.1 (package libvulkan1) and libGLdispatch.so.0
#                            (libglvnd0, which NVIDIA's Vulkan driver links), plus the X11/xcb libraries a driver may
#                            link; device.sh puts on LD_LIBRARY_PATH only those the GPU machine lacks
#   .device/manifest.json    what was packed: git commit, Node version, packages, sizes
#
# Then carry `.device` (one path, at most 64 MiB) and run `bash bench/device.sh` there.
# usage: bash bench/device-pack.sh [--no-build] [--out DIR]     (DIR default: .device in the repository root)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=$ROOT/.device
BUILD=1
while (($#)); do
  case $1 in
    --no-build) BUILD=0 ;;
    --out) OUTDIR=${2:?--out needs a folder}; shift ;;
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device-pack: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
LIMIT=$((64 * 1024 * 1024))
say() { printf 'device-pack: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v node >/dev/null || die 'node is not on PATH'
command -v xz >/dev/null || die 'xz is not installed (apt-get install xz-utils)'
NODE_BIN=$(readlink -f "$(command -v node)")
[[ $(uname -m) == x86_64 ]] || die "this machine is $(uname -m); the GPU machine is x86-64: pack on an x86-64 machine"
cd "$ROOT"

if ((BUILD)); then
  say 'building dist/ (tsc -p tsconfig.json)'
  npx tsc -p tsconfig.json || die 'the build failed: fix it, or pack the dist/ you have with --no-build'
fi
[[ -f dist/cli/main.js && -f dist/bench/device-step.js ]] || die 'dist/ is not built (npm run build)'
[[ -f node_modules/webgpu/dist/linux-x64/dawn.node ]] || die 'node_modules/webgpu has no linux-x64 Dawn (npm ci)'

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/smcirc-device-pack.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
APP=$STAGE/app
mkdir -p "$APP/node_modules" "$STAGE/vklib" "$OUTDIR"

# --- app: package.json, bin, specs, dist without source maps
cp package.json "$APP/"
cp -r bin specs "$APP/"
tar -C "$ROOT" --exclude='*.map' -cf - dist | tar -C "$APP" -xf -

# --- node_modules: the dependency closure of the packages the train path loads (traced with a module-load hook:
# commander, chevrotain (+ @chevrotain/*, lodash-es), pickleparser, ts-morph (loaded by the compiler's glue module,
# + @ts-morph/common, code-block-writer), webgpu (+ debug, ms)); vega/vega-lite (reports) and dev tools stay out
ROOTS=(commander chevrotain pickleparser ts-morph webgpu)
mapfile -t PKGS < <(node --input-type=module -e '
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
const root = process.cwd();
const seen = new Set();
// resolve like Node: <from>/node_modules/<name>, then each parent folder up to the repository root
function find(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, "node_modules", name);
    if (existsSync(join(p, "package.json"))) return p;
    if (d === root || d === dirname(d)) return undefined;
  }
}
function walk(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    if (dep === "@webgpu/types" || dep.startsWith("@types/")) continue; // type declarations only
    const p = find(dep, dir);
    if (p) walk(p);
    else if (!(pkg.optionalDependencies ?? {})[dep]) throw new Error(`${dep} (needed by ${relative(root, dir)}) is not installed`);
  }
}
for (const r of process.argv.slice(1)) {
  const p = find(r, root);
  if (!p) throw new Error(`${r} is not installed (npm ci)`);
  walk(p);
}
for (const d of [...seen].sort()) console.log(relative(root, d));
' "${ROOTS[@]}")
((${#PKGS[@]} >= ${#ROOTS[@]})) || die 'could not list the runtime packages'
for p in "${PKGS[@]}"; do
  mkdir -p "$APP/$p"
  # the package without its nested node_modules (nested packages it needs are in the list themselves), docs, maps
  # and, for webgpu, every Dawn build but linux-x64 and its build scripts
  tar -C "$ROOT/$p" --exclude=./node_modules --exclude='*.map' --exclude='*.md' --exclude='*.markdown' \
    --exclude=./dist/darwin-universal --exclude=./dist/linux-arm64 --exclude=./dist/win32-x64 --exclude=./dist/win32-arm64 \
    $([[ $p == node_modules/webgpu ]] && echo --exclude=./build) -cf - . | tar -C "$APP/$p" -xf -
done
[[ -f $APP/node_modules/webgpu/dist/linux-x64/dawn.node ]] || die 'Dawn did not make it into the pack'
say "packages: ${#PKGS[@]} (${PKGS[*]#node_modules/})"

# --- Vulkan loader and the libraries NVIDIA's Vulkan driver may link, from this Debian system
LIBS=(libvulkan.so.1 libGLdispatch.so.0 libX11.so.6 libXext.so.6 libxcb.so.1 libXau.so.6 libXdmcp.so.6 libbsd.so.0 libmd.so.0)
packed_libs=()
for l in "${LIBS[@]}"; do
  src=''
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do [[ -e $d/$l ]] && { src=$d/$l; break; }; done
  if [[ -z $src ]]; then
    [[ $l == libvulkan.so.1 ]] && die 'libvulkan.so.1 is not installed here (apt-get install libvulkan1)'
    say "note: $l is not installed here; not packed"
    continue
  fi
  cp -L "$src" "$STAGE/vklib/$l"
  packed_libs+=("$l")
done

# --- compress (xz -9: the GPU machine unpacks with xz, or with Python's lzma where xz is missing)
say "compressing Node ($NODE_BIN, $(($(stat -c %s "$NODE_BIN") / 1048576)) MiB)"
xz -9 -T0 -c "$NODE_BIN" >"$OUTDIR/node.xz.tmp" && mv "$OUTDIR/node.xz.tmp" "$OUTDIR/node.xz"
say 'compressing the app and the libraries'
tar -C "$STAGE" --owner=0 --group=0 -cf - app | xz -9 -T0 -c >"$OUTDIR/app.tar.xz.tmp" && mv "$OUTDIR/app.tar.xz.tmp" "$OUTDIR/app.tar.xz"
tar -C "$STAGE" --owner=0 --group=0 -cf - vklib | xz -9 -c >"$OUTDIR/libs.tar.xz.tmp" && mv "$OUTDIR/libs.tar.xz.tmp" "$OUTDIR/libs.tar.xz"

# --- manifest
commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l | tr -d ' ')
size() { stat -c %s "$1"; }
node --input-type=module -e '
const [commit, dirty, nodeVersion, nodeSha, libs, pkgs, ...sizes] = process.argv.slice(1);
const [node, app, lib] = sizes.map(Number);
console.log(JSON.stringify({
  packed_at: new Date().toISOString(), git_commit: commit, git_uncommitted_files: Number(dirty),
  node_version: nodeVersion, node_sha256: nodeSha, libs: libs.split(" ").filter(Boolean),
  packages: pkgs.split(" ").filter(Boolean).map((p) => p.replace(/^node_modules\//, "")),
  bytes: { "node.xz": node, "app.tar.xz": app, "libs.tar.xz": lib },
}, null, 1));
' "$commit" "$dirty" "$(node --version)" "$(sha256sum "$NODE_BIN" | cut -d' ' -f1)" "${packed_libs[*]}" "${PKGS[*]}" \
  "$(size "$OUTDIR/node.xz")" "$(size "$OUTDIR/app.tar.xz")" "$(size "$OUTDIR/libs.tar.xz")" >"$OUTDIR/manifest.json"

total=0
for f in node.xz app.tar.xz libs.tar.xz manifest.json; do
  s=$(size "$OUTDIR/$f")
  total=$((total + s))
  printf '  %-14s %8.2f MiB\n' "$f" "$(awk -v s="$s" 'BEGIN { print s / 1048576 }')" >&2
done
printf 'device-pack: %s holds %.2f MiB (limit for carried paths: 64 MiB)\n' "$OUTDIR" "$(awk -v s="$total" 'BEGIN { print s / 1048576 }')"
((total < LIMIT)) || die "the pack is over 64 MiB"
case $OUTDIR in
  "$ROOT"/*) say "carry: [\"${OUTDIR#"$ROOT"/}\"]; run there: bash bench/device.sh" ;;
  *) say "note: $OUTDIR is outside the repository: only a path inside it can be carried" ;;
esac
