#!/usr/bin/env bash
# bench/device.sh — run THERE, on a borrowed GPU machine (one NVIDIA H100/H200, no Node, no network), from the
# repository root, after `bash bench/device-pack.sh` here and with `.device` carried:
#
#   bash bench/device.sh              full size: specs/smcir.smcir at MOSI sizes, batch 64, through Dawn (Vulkan),
#                                     then the PyTorch CUDA step (bench/peer/smcir_step.py, batched and per-sample)
#   bash bench/device.sh --dry-run    the same path at small sizes (specs/smcir-tiny.smcir, batch 8, 2 timed steps;
#                                     PyTorch on the CPU): what to run here first (also SMCIRC_DEVICE_DRY_RUN=1)
#
# Parts, each under its own timeout inside one budget (540 s; the whole script ends well inside 10 minutes):
#   environment    nvidia-smi, the Vulkan ICD files, python3 / torch / CUDA, the Vulkan loader     → env.txt
#   unpack         Node, dist/ + node_modules/ and the Vulkan libraries from .device/ into a work folder
#   doctor         `smcirc doctor`: the WebGPU adapter Dawn finds                                   → doctor.log
#   smcirc_step    dist/bench/device-step.js: compile for the adapter, then the train step timed step by step
#                  (median excluding the first step, which also compiles the pipelines), per-kernel timings → smcirc-step.log
#   torch_batched, torch_per_sample   python3 bench/peer/smcir_step.py --form batched|per-sample   → torch-*.log
#   smcirc_train   `smcirc train … --max-steps N`: the real CLI path, its history-steps.csv      → smcirc-train.log
# and writes $OUT/device-bench.json with every figure, the environment and, for each part that could not run or
# failed, why (a failed part never stops the others), plus device.log (the timeline). OUT defaults to a new
# temporary folder. Exit 0 when the JSON was written, whatever the parts did.
#
# Settings (environment):
#   SMCIRC_DEVICE_BUDGET_S      the whole budget (540; dry run 600: lavapipe with a cold shader cache is slow)
#   SMCIRC_DEVICE_SPEC, _BATCH, _STEPS      spec, batch, timed steps after the first (specs/smcir.smcir, 64, 5)
#   SMCIRC_DEVICE_TORCH_SIZE, _TORCH_BATCH, _TORCH_STEPS, _TORCH_DEVICE      (mosi, 64, 5, cuda; dry run tiny, 8, 2, cpu)
#   SMCIRC_DEVICE_PARTS         comma list of doctor,smcirc_step,torch_batched,torch_per_sample,smcirc_train (all)
#   SMCIRC_DEVICE_PACK          the pack folder (.device); SMCIRC_DEVICE_NODE=system: the Node on PATH and the
#                               repository's own dist/ and node_modules/ instead of the pack
#   SMCIRC_DEVICE_PEER          the PyTorch peer (bench/peer/smcir_step.py)
#   SMCIRC_PYTHON, SMCIRC_PYTHON_CANDIDATES      tried in turn (python3 /usr/bin/python3 /opt/torch/.venv/bin/python3):
#                               the first that imports torch runs the peer
#   SMCIRC_DEVICE_FORCE_CARRIED_LIBS=1           the carried Vulkan loader even where the system has one
#   SMCIRC_DEVICE_ALLOW_SOFTWARE=1               the full-size smcirc parts on a software adapter too
#   SMCIRC_VK_ICD_DIRS, SMCIRC_NVIDIA_LIB_DIRS   where to look for NVIDIA's Vulkan ICD file and libGLX_nvidia.so.0
#   SMCIRC_DEVICE_MAX_PART_S    a cap on every part's timeout (tests)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=device
for a in "$@"; do
  case $a in
    --dry-run) MODE=dry-run ;;
    -h | --help) sed -n '2,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
[[ ${SMCIRC_DEVICE_DRY_RUN:-0} == 1 ]] && MODE=dry-run

if [[ $MODE == dry-run ]]; then
  SPEC=${SMCIRC_DEVICE_SPEC:-specs/smcir-tiny.smcir}; B=${SMCIRC_DEVICE_BATCH:-8}; STEPS=${SMCIRC_DEVICE_STEPS:-2}
  TORCH_DEVICE=${SMCIRC_DEVICE_TORCH_DEVICE:-cpu}; TORCH_STEPS=${SMCIRC_DEVICE_TORCH_STEPS:-2}; BUDGET=${SMCIRC_DEVICE_BUDGET_S:-600}
else
  SPEC=${SMCIRC_DEVICE_SPEC:-specs/smcir.smcir}; B=${SMCIRC_DEVICE_BATCH:-64}; STEPS=${SMCIRC_DEVICE_STEPS:-5}
  TORCH_DEVICE=${SMCIRC_DEVICE_TORCH_DEVICE:-cuda}; TORCH_STEPS=${SMCIRC_DEVICE_TORCH_STEPS:-5}; BUDGET=${SMCIRC_DEVICE_BUDGET_S:-540}
fi
TORCH_SIZE=${SMCIRC_DEVICE_TORCH_SIZE:-$([[ $MODE == dry-run ]] && echo tiny || echo mosi)}
TORCH_BATCH=${SMCIRC_DEVICE_TORCH_BATCH:-$B}
PARTS=",${SMCIRC_DEVICE_PARTS:-doctor,smcirc_step,torch_batched,torch_per_sample,smcirc_train},"
PACK=${SMCIRC_DEVICE_PACK:-$ROOT/.device}
PEER=${SMCIRC_DEVICE_PEER:-$ROOT/bench/peer/smcir_step.py}
for v in B STEPS TORCH_STEPS TORCH_BATCH BUDGET; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "device.sh: $v must be a positive whole number, got '${!v}'" >&2; exit 2; }
done

if [[ -z ${OUT:-} ]]; then OUT=$(mktemp -d "${TMPDIR:-/tmp}/smcirc-device-out.XXXXXX"); fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smcirc-device-work.XXXXXX")
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$WORK/xdg}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
export PYTHONUNBUFFERED=1
: >"$OUT/device.log"

now() { if [[ -n ${EPOCHREALTIME:-} ]]; then printf '%s' "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi; }
T0=$(now)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
elapsed() { awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
remaining() { awk -v a="$T0" -v b="$(now)" -v t="$BUDGET" 'BEGIN { r = t - (b - a); printf "%d", (r < 0 ? 0 : r) }'; }
log() { printf '[%6ss] %s\n' "$(elapsed)" "$*" | tee -a "$OUT/device.log" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
want() { [[ $PARTS == *",$1,"* ]]; }

# ---------- JSON, written by bash alone (the machine may lack Node, Python or jq) ----------
if have iconv; then utf8() { iconv -c -f UTF-8 -t UTF-8 2>/dev/null; }; else utf8() { LC_ALL=C tr -cd '\11\12\15\40-\176'; }; fi
clean() { LC_ALL=C tr -d '\000-\010\013\014\016-\037\177' | utf8; }
jstr() { # a JSON string literal of $1 (control characters removed beforehand by clean)
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}
jstr_or_null() { if [[ -n $1 ]]; then jstr "$1"; else printf null; fi; }
jnum() { if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf '%s' "$1"; else printf null; fi; }
jbool() { if [[ $1 == 1 || $1 == true ]]; then printf true; else printf false; fi; }
tail_text() { [[ -f $1 ]] && tail -n "${2:-12}" "$1" | clean || true; }
# whether the file holds one valid JSON value: Python, else Node, else a shape check
JSON_TOOL=''
json_valid() {
  case $JSON_TOOL in
    python) "$PY_ANY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" >/dev/null 2>&1 ;;
    node) "$NODE" -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$1" >/dev/null 2>&1 ;;
    *) [[ $(head -c1 "$1") == '{' && $(tail -c2 "$1" | tr -d '\n') == *'}' ]] ;;
  esac
}
# the last line of a command's stdout that is a JSON object, as raw JSON (or null), into $2
last_json_line() {
  local line
  line=$(grep -a '^[[:space:]]*{' "$1" 2>/dev/null | tail -n 1 | clean || true)
  if [[ -z $line ]]; then printf null >"$2"; return 1; fi
  printf '%s\n' "$line" >"$2"
  if json_valid "$2"; then return 0; fi
  jstr "$line" >"$2"
  return 1
}

declare -A P_RAN P_OK P_RC P_SECS P_TIMEOUT P_TIMED P_ERR P_LOG P_CMD P_EXTRA
PART_ORDER=(unpack doctor smcirc_step torch_batched torch_per_sample smcirc_train)
ERRORS=()
skip() { # part, why
  P_RAN[$1]=0; P_OK[$1]=0; P_ERR[$1]=$2
  ERRORS+=("$1: $2")
  log "$1: skipped: $2"
}
fail() { # part, why (it ran)
  P_OK[$1]=0; P_ERR[$1]=$2
  ERRORS+=("$1: $2")
  log "$1: failed: $2"
}
# part_timeout CAP RESERVE: the timeout a part gets, at most CAP seconds, leaving RESERVE seconds of the budget to the
# parts after it
part_timeout() {
  local t=$(($(remaining) - $2))
  ((t > $1)) && t=$1
  [[ -n ${SMCIRC_DEVICE_MAX_PART_S:-} ]] && ((t > SMCIRC_DEVICE_MAX_PART_S)) && t=$SMCIRC_DEVICE_MAX_PART_S
  printf '%d' "$t"
}
# run_part NAME TIMEOUT LOGFILE STDOUT CWD -- command...: runs the command in CWD under the timeout; sets P_* and
# returns its exit status (99: not run, too little time left)
run_part() {
  local name=$1 t=$2 logf=$3 stdout=$4 cwd=$5
  shift 6
  P_LOG[$name]=$(basename "$logf")
  P_CMD[$name]=$(printf '%s ' "$@" | clean)
  P_CMD[$name]=${P_CMD[$name]% }
  if ((t < 5)); then
    skip "$name" "not enough time left in the ${BUDGET}s budget ($(remaining)s left, some kept for the parts after it)"
    return 99
  fi
  P_TIMEOUT[$name]=$t
  log "$name: running (timeout ${t}s): ${P_CMD[$name]}"
  local s rc=0
  s=$(now)
  # in the background and waited for, so that a signal to this script is handled at once (see interrupted)
  if have timeout; then
    (cd "$cwd" && exec timeout -k 10 "$t" "$@") >"$stdout" 2>"$logf" </dev/null &
  else
    (cd "$cwd" && exec "$@") >"$stdout" 2>"$logf" </dev/null &
  fi
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=''
  P_RAN[$name]=1
  P_RC[$name]=$rc
  P_SECS[$name]=$(awk -v a="$s" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  P_TIMED[$name]=0
  if ((rc == 124 || rc == 137)); then P_TIMED[$name]=1; fi
  log "$name: exit $rc after ${P_SECS[$name]}s"
  return $rc
}
timed_out_msg() { printf 'timed out after %ss (the part'"'"'s timeout); the end of %s says where it was' "${P_TIMEOUT[$1]}" "${P_LOG[$1]}"; }

# ---------- device-bench.json (written after every part, and once more at the end) ----------
JSON=$OUT/device-bench.json
GPU_NAME='' GPU_DRIVER='' GPU_MEM='' GPU_ERR='' NVIDIA_ICD='' ICD_SOURCE=none LOADER=none PACK_MANIFEST=null
NODE='' APP='' NODE_SOURCE=none NODE_VERSION='' ADAPTER='' PY_INFO=null STEP_RESULT=null
ICD_FILES=() CARRIED_LIBS=()
part_json() {
  local p=$1
  printf '    %s: {"ran": %s, "ok": %s, "rc": %s, "seconds": %s, "timeout_s": %s, "timed_out": %s, "error": %s, "log": %s, "command": %s' \
    "$(jstr "$p")" "$(jbool "${P_RAN[$p]:-0}")" "$(jbool "${P_OK[$p]:-0}")" "$(jnum "${P_RC[$p]:-}")" "$(jnum "${P_SECS[$p]:-}")" \
    "$(jnum "${P_TIMEOUT[$p]:-}")" "$(jbool "${P_TIMED[$p]:-0}")" "$(jstr_or_null "${P_ERR[$p]:-}")" "$(jstr_or_null "${P_LOG[$p]:-}")" \
    "$(jstr_or_null "${P_CMD[$p]:-}")"
  [[ $p == smcirc_step ]] && printf ', "result": %s' "$STEP_RESULT"
  [[ -n ${P_EXTRA[$p]:-} ]] && printf ', %s' "${P_EXTRA[$p]}"
  printf '}'
}
list_json() { local first=1 x; printf '['; for x in "$@"; do ((first)) || printf ', '; first=0; jstr "$x"; done; printf ']'; }
write_json() { # complete: true at the end; false while parts are still to come (a kill keeps what ran)
  local first
  {
  printf '{\n  "schema": "smcirc-device-bench/1",\n  "mode": %s,\n  "complete": %s,\n' "$(jstr $MODE)" "$1"
  printf '  "started_at": %s,\n  "finished_at": %s,\n  "wall_s": %s,\n  "budget_s": %s,\n' "$(jstr "$STARTED_AT")" "$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(elapsed)" "$BUDGET"
  printf '  "config": {"spec": %s, "batch": %s, "steps": %s, "torch": {"script": %s, "size": %s, "batch": %s, "steps": %s, "device": %s}, "parts": %s},\n' \
    "$(jstr "$SPEC")" "$B" "$STEPS" "$(jstr "${PEER#"$ROOT"/}")" "$(jstr "$TORCH_SIZE")" "$TORCH_BATCH" "$TORCH_STEPS" "$(jstr "$TORCH_DEVICE")" "$(jstr "${PARTS:1:${#PARTS}-2}")"
  printf '  "pack": %s,\n' "$PACK_MANIFEST"
  printf '  "environment": {\n'
  printf '    "hostname": %s, "kernel": %s, "os": %s, "cpus": %s, "mem_total_kb": %s,\n' "$(jstr "$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null || echo ?)")" \
    "$(jstr "$(uname -r)")" "$(jstr "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null | head -n 1 | clean)")" \
    "$(jnum "$(nproc 2>/dev/null || true)")" "$(jnum "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo 2>/dev/null || true)")"
  printf '    "gpu": {"name": %s, "driver": %s, "memory": %s, "error": %s},\n' "$(jstr_or_null "$GPU_NAME")" "$(jstr_or_null "$GPU_DRIVER")" "$(jstr_or_null "$GPU_MEM")" "$(jstr_or_null "$GPU_ERR")"
  printf '    "vulkan": {"icd_files": %s, "nvidia_icd": %s, "icd_source": %s, "vk_driver_files": %s, "loader": %s, "carried_libs": %s, "ld_library_path": %s},\n' \
    "$(list_json "${ICD_FILES[@]}")" "$(jstr_or_null "$NVIDIA_ICD")" "$(jstr "$ICD_SOURCE")" "$(jstr_or_null "${VK_DRIVER_FILES:-}")" "$(jstr "$LOADER")" \
    "$(list_json "${CARRIED_LIBS[@]}")" "$(jstr_or_null "${LD_LIBRARY_PATH:-}")"
  printf '    "node": {"path": %s, "version": %s, "source": %s},\n' "$(jstr_or_null "$NODE")" "$(jstr_or_null "$NODE_VERSION")" "$(jstr "$NODE_SOURCE")"
  printf '    "adapter": %s,\n' "$(jstr_or_null "$ADAPTER")"
  printf '    "python": %s\n  },\n' "$PY_INFO"
  printf '  "parts": {\n'
  first=1
  for p in "${PART_ORDER[@]}"; do ((first)) || printf ',\n'; first=0; part_json "$p"; done
  printf '\n  },\n  "errors": %s\n}\n' "$(list_json "${ERRORS[@]}")"
  } >"$JSON.tmp"
  mv "$JSON.tmp" "$JSON"
}
CHILD=''
interrupted() {
  trap '' INT TERM
  if [[ -n $CHILD ]]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  ERRORS+=("interrupted by a signal after $(elapsed)s")
  log "interrupted: writing what ran"
  write_json false
  rm -rf "$WORK"
  exit 130
}
trap interrupted INT TERM

log "smcirc device bench ($MODE): spec $SPEC, batch $B, $STEPS timed steps; torch $TORCH_SIZE batch $TORCH_BATCH on $TORCH_DEVICE; budget ${BUDGET}s; OUT=$OUT; work $WORK"

# ---------- environment ----------
ENV_TXT=$OUT/env.txt
{
  echo "# smcirc bench/device.sh ($MODE), $STARTED_AT"
  echo "## uname"; uname -a
  echo "## os"; cat /etc/os-release 2>/dev/null | head -n 4 || true
  echo "## cpus: $(nproc 2>/dev/null || echo ?)"; grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
  echo "## memory"; grep -E '^(MemTotal|MemAvailable)' /proc/meminfo 2>/dev/null || true
  echo "## glibc"; (ldd --version 2>/dev/null || true) | head -n 1
  echo "## environment (GPU-related)"; env | grep -E '^(NVIDIA_|CUDA_|LD_LIBRARY_PATH|VK_|XDG_RUNTIME_DIR|__GLX|__EGL)' | sort || true
} >"$ENV_TXT" 2>&1

if have nvidia-smi; then
  { echo "## nvidia-smi"; timeout 20 nvidia-smi 2>&1 || echo "(nvidia-smi failed: exit $?)"; } >>"$ENV_TXT"
  q=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1 | clean || true)
  IFS=',' read -r GPU_NAME GPU_DRIVER GPU_MEM <<<"$q" || true
  GPU_NAME=$(echo "$GPU_NAME" | sed 's/^ *//;s/ *$//'); GPU_DRIVER=${GPU_DRIVER// /}; GPU_MEM=$(echo "$GPU_MEM" | sed 's/^ *//;s/ *$//')
  [[ -n $GPU_NAME ]] || GPU_ERR='nvidia-smi printed no GPU'
else
  GPU_ERR='nvidia-smi is not on PATH'
  echo "## nvidia-smi: not on PATH" >>"$ENV_TXT"
fi

# Vulkan: ICD files, and NVIDIA's driver pinned when found (so Dawn cannot pick a software adapter instead)
ICD_DIRS=${SMCIRC_VK_ICD_DIRS:-/etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/etc/vulkan/icd.d /etc/glvnd/icd.d}
for d in $ICD_DIRS; do
  for f in "$d"/*.json; do
    [[ -f $f ]] || continue
    ICD_FILES+=("$f")
    [[ -z $NVIDIA_ICD && $(basename "$f") == *nvidia* ]] && NVIDIA_ICD=$f
  done
done
{ echo "## Vulkan ICD files ($ICD_DIRS)"; for f in "${ICD_FILES[@]}"; do echo "$f:"; head -c 600 "$f"; echo; done; } >>"$ENV_TXT" 2>&1
NV_LIB_DIRS=${SMCIRC_NVIDIA_LIB_DIRS:-/usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /lib/x86_64-linux-gnu}
for d in $NV_LIB_DIRS; do
  if [[ -d $d && $d == /usr/local/nvidia/* && ":${LD_LIBRARY_PATH:-}:" != *":$d:"* ]]; then
    export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d
  fi
done
if [[ -n ${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-} ]]; then
  ICD_SOURCE=given
elif [[ -n $NVIDIA_ICD ]]; then
  ICD_SOURCE=found
  export VK_DRIVER_FILES=$NVIDIA_ICD VK_ICD_FILENAMES=$NVIDIA_ICD
else
  glx=''
  for d in $NV_LIB_DIRS; do [[ -e $d/libGLX_nvidia.so.0 ]] && { glx=$d/libGLX_nvidia.so.0; break; }; done
  if [[ -n $glx ]]; then
    # the driver's library is here but no ICD file names it: write one
    ICD_SOURCE=generated
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$glx" >"$WORK/nvidia_icd.json"
    NVIDIA_ICD=$WORK/nvidia_icd.json
    export VK_DRIVER_FILES=$NVIDIA_ICD VK_ICD_FILENAMES=$NVIDIA_ICD
  fi
fi
log "vulkan: ${#ICD_FILES[@]} ICD file(s); NVIDIA ICD: ${NVIDIA_ICD:-none} ($ICD_SOURCE)"
if [[ -n $NVIDIA_ICD ]] && have ldd; then
  # the driver library the ICD names, and whether everything it links is here (a missing one is the usual failure)
  lib=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$NVIDIA_ICD" | head -n 1)
  if [[ -n $lib && $lib != /* ]]; then
    for d in ${LD_LIBRARY_PATH//:/ } $NV_LIB_DIRS; do [[ -e $d/$lib ]] && { lib=$d/$lib; break; }; done
  fi
  { echo "## ldd ${lib:-?} (the NVIDIA ICD's library)"; [[ -e $lib ]] && timeout 20 ldd "$lib" 2>&1 || echo '(not found)'; } >>"$ENV_TXT" 2>&1
fi

# Python: the first candidate that imports torch (else the first that runs)
PY='' PY_ANY='' TORCH_OK=0 CUDA_OK=0 TORCH_WHY=''
PROBE='import json, sys
d = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import torch
    d["torch"] = torch.__version__
    d["cuda"] = torch.version.cuda
    d["cuda_available"] = bool(torch.cuda.is_available())
    if d["cuda_available"]:
        d["device"] = torch.cuda.get_device_name(0)
        d["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
    d["threads"] = torch.get_num_threads()
except Exception as e:
    d["torch_error"] = repr(e)[:300]
print(json.dumps(d))'
seen_py=' '
for cand in ${SMCIRC_PYTHON:-} ${SMCIRC_PYTHON_CANDIDATES:-python3 /usr/bin/python3 /opt/torch/.venv/bin/python3}; do
  c=$(command -v "$cand" 2>/dev/null) || continue
  [[ $seen_py == *" $c "* ]] && continue
  seen_py+="$c "
  [[ -n $PY_ANY ]] || PY_ANY=$c
  (($(remaining) > BUDGET - 150)) || break # importing torch hangs: give up on the next candidates
  out=$(timeout 90 "$c" -c "$PROBE" 2>/dev/null | tail -n 1 | clean || true)
  [[ $out == '{'* ]] || continue
  if [[ $PY_INFO == null || $out == *'"torch":'* && $TORCH_OK == 0 ]]; then PY_INFO=$out; PY=$c; fi
  if [[ $out == *'"torch":'* ]]; then
    TORCH_OK=1
    [[ $out == *'"cuda_available": true'* ]] && CUDA_OK=1
    break
  fi
done
[[ -n $PY_ANY ]] && JSON_TOOL=python
if [[ $PY_INFO != null ]]; then
  printf '%s\n' "$PY_INFO" >"$WORK/python.json"
  json_valid "$WORK/python.json" || PY_INFO=$(jstr "$PY_INFO")
fi
if [[ -z $PY_ANY ]]; then TORCH_WHY='no python3 on this machine'
elif ((!TORCH_OK)); then TORCH_WHY="python3 cannot import torch ($(printf '%s' "$PY_INFO" | sed -n 's/.*"torch_error": "\([^"]*\)".*/\1/p'))"
fi
{ echo "## python"; echo "${PY:-${PY_ANY:-none}}: $PY_INFO"; } >>"$ENV_TXT"
log "python: ${PY:-${PY_ANY:-none}}; torch: $([[ $TORCH_OK == 1 ]] && echo yes || echo no); cuda: $([[ $CUDA_OK == 1 ]] && echo yes || echo no)"

write_json false

# ---------- unpack: Node, the app (dist + node_modules), the Vulkan libraries ----------
xz_cat() { # decompress an .xz file to stdout: xz, else Python's lzma
  if have xz; then xz -dc "$1"
  elif [[ -n $PY_ANY ]]; then "$PY_ANY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  else echo "neither xz nor python3 can decompress $1" >&2; return 1
  fi
}
unpack() { # (errexit does not apply inside an if: every step says so itself)
  mkdir -p "$WORK/bin" || return 1
  xz_cat "$PACK/node.xz" >"$WORK/bin/node" && chmod +x "$WORK/bin/node" || { echo "node.xz did not unpack"; return 1; }
  xz_cat "$PACK/app.tar.xz" | tar -C "$WORK" -xf - || { echo "app.tar.xz did not unpack"; return 1; }
  [[ -f $WORK/app/bin/smcirc.js && -f $WORK/app/dist/bench/device-step.js ]] || { echo "app.tar.xz holds no app/bin/smcirc.js or app/dist/bench/device-step.js"; return 1; }
  if [[ -f $PACK/libs.tar.xz ]]; then xz_cat "$PACK/libs.tar.xz" | tar -C "$WORK" -xf - || { echo "libs.tar.xz did not unpack"; return 1; }; fi
  "$WORK/bin/node" --version || { echo "the carried node does not run here"; return 1; }
}
s=$(now)
if [[ ${SMCIRC_DEVICE_NODE:-carried} == carried && -f $PACK/node.xz && -f $PACK/app.tar.xz ]]; then
  P_LOG[unpack]=device.log
  P_CMD[unpack]="unpack $PACK into $WORK"
  if out=$(unpack 2>&1); then
    P_RAN[unpack]=1; P_OK[unpack]=1; P_RC[unpack]=0
    NODE=$WORK/bin/node APP=$WORK/app NODE_SOURCE=carried NODE_VERSION=$(printf '%s' "$out" | tail -n 1 | clean)
  else
    P_RAN[unpack]=1; P_RC[unpack]=1
    fail unpack "unpacking $PACK failed: $(printf '%s' "$out" | tail -n 3 | clean)"
  fi
  [[ -f $PACK/manifest.json ]] && cp "$PACK/manifest.json" "$WORK/manifest.json" && json_valid "$WORK/manifest.json" && PACK_MANIFEST=$(cat "$WORK/manifest.json")
else
  if [[ ${SMCIRC_DEVICE_NODE:-carried} == carried ]]; then skip unpack "no pack at $PACK (run bash bench/device-pack.sh here and carry .device)"
  else P_RAN[unpack]=0; P_OK[unpack]=0; log 'unpack: not done (SMCIRC_DEVICE_NODE=system)'; fi
  # fall back to a Node on PATH with the repository's own build, when there is one
  if have node && [[ -f $ROOT/dist/cli/main.js && -f $ROOT/dist/bench/device-step.js && -d $ROOT/node_modules/webgpu ]]; then
    NODE=$(command -v node) APP=$ROOT NODE_SOURCE=system NODE_VERSION=$(node --version 2>/dev/null | clean || true)
    log "using the Node on PATH ($NODE $NODE_VERSION) and the repository's dist/ and node_modules/"
  fi
fi
P_SECS[unpack]=$(awk -v a="$s" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
[[ -z $JSON_TOOL && -n $NODE ]] && JSON_TOOL=node

# the Vulkan loader (and what NVIDIA's driver links): the carried copies of those the system lacks
soname_known() { { have ldconfig && ldconfig -p 2>/dev/null | grep -q "[[:space:]]$1 "; } || [[ -e /usr/lib/x86_64-linux-gnu/$1 || -e /lib/x86_64-linux-gnu/$1 || -e /usr/lib64/$1 ]]; }
if [[ -d $WORK/vklib ]]; then
  mkdir -p "$WORK/lib"
  for f in "$WORK"/vklib/*; do
    l=$(basename "$f")
    if [[ ${SMCIRC_DEVICE_FORCE_CARRIED_LIBS:-0} == 1 ]] || ! soname_known "$l"; then
      ln -sf "$f" "$WORK/lib/$l"
      CARRIED_LIBS+=("$l")
    fi
  done
  if ((${#CARRIED_LIBS[@]})); then
    export LD_LIBRARY_PATH=$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    log "carried libraries on LD_LIBRARY_PATH: ${CARRIED_LIBS[*]}"
  fi
fi
if [[ " ${CARRIED_LIBS[*]} " == *' libvulkan.so.1 '* ]]; then LOADER=carried
elif soname_known libvulkan.so.1; then LOADER=system
fi
{ echo "## Vulkan loader: $LOADER; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}; VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"; have ldconfig && ldconfig -p 2>/dev/null | grep -Ei 'libvulkan|libGLX_nvidia|libGLdispatch|libnvidia-glcore' || true; } >>"$ENV_TXT" 2>&1
{ echo "## node: ${NODE:-none} ${NODE_VERSION} ($NODE_SOURCE)"; } >>"$ENV_TXT"

SPECPATH=$SPEC
[[ $SPECPATH == /* ]] || { if [[ -n $APP && -f $APP/$SPEC ]]; then SPECPATH=$APP/$SPEC; else SPECPATH=$ROOT/$SPEC; fi; }
NO_NODE_WHY=${P_ERR[unpack]:-no Node to run smcirc (no pack, and no built repository with a Node on PATH)}

write_json false

# ---------- doctor ----------
ADAPTER_SOFTWARE=0 NO_GPU_WHY=''
if ! want doctor; then skip doctor 'not in SMCIRC_DEVICE_PARTS'
elif [[ -z $NODE ]]; then skip doctor "$NO_NODE_WHY"
else
  rc=0
  run_part doctor "$(part_timeout 60 240)" "$OUT/doctor.log" "$WORK/doctor.out" "$WORK" -- "$NODE" "$APP/bin/smcirc.js" doctor || rc=$?
  cat "$WORK/doctor.out" >>"$OUT/doctor.log" 2>/dev/null || true
  if ((rc != 99)); then
    ADAPTER=$(sed -n 's/^adapter  *//p' "$WORK/doctor.out" | head -n 1 | clean)
    [[ $ADAPTER == *'(software'* ]] && ADAPTER_SOFTWARE=1
    if ((rc == 0)) && [[ -n $ADAPTER ]]; then P_OK[doctor]=1; log "doctor: adapter $ADAPTER"
    elif ((P_TIMED[doctor])); then fail doctor "$(timed_out_msg doctor)"; NO_GPU_WHY="smcirc doctor timed out"
    else fail doctor "no WebGPU adapter (exit $rc): ${ADAPTER:-$(tail_text "$OUT/doctor.log" 3)}"; NO_GPU_WHY="smcirc doctor found no WebGPU adapter: ${ADAPTER:-see doctor.log}"
    fi
    if ((!P_OK[doctor])) && [[ -f $APP/node_modules/webgpu/index.js ]]; then
      # why: Dawn asked for an adapter with the Vulkan loader's own messages on (into doctor.log)
      log 'doctor: asking Dawn again with VK_LOADER_DEBUG=error,warn,driver (into doctor.log)'
      { echo '## Dawn requestAdapter() with VK_LOADER_DEBUG=error,warn,driver'
        (cd "$WORK" && VK_LOADER_DEBUG=error,warn,driver timeout -k 5 45 "$NODE" --input-type=module -e '
          const { create, globals } = await import(process.argv[1]);
          Object.assign(globalThis, globals);
          const a = await create([]).requestAdapter();
          console.log(a ? `adapter: ${a.info.vendor} / ${a.info.description || a.info.device} / ${a.info.architecture}` : "requestAdapter() gave no adapter");
          process.exit(0);' "$APP/node_modules/webgpu/index.js" 2>&1 | head -c 20000) || true
      } >>"$OUT/doctor.log" 2>&1
    fi
    P_EXTRA[doctor]="\"adapter\": $(jstr_or_null "$ADAPTER"), \"software\": $(jbool $ADAPTER_SOFTWARE)"
  fi
fi
if [[ $MODE == device && $ADAPTER_SOFTWARE == 1 && ${SMCIRC_DEVICE_ALLOW_SOFTWARE:-0} != 1 ]]; then
  NO_GPU_WHY="Dawn found only a software adapter ($ADAPTER): the full-size step would not end in the budget (SMCIRC_DEVICE_ALLOW_SOFTWARE=1 runs it anyway)"
fi

write_json false

# ---------- the smcirc train step through Dawn ----------
if ! want smcirc_step; then skip smcirc_step 'not in SMCIRC_DEVICE_PARTS'
elif [[ -z $NODE ]]; then skip smcirc_step "$NO_NODE_WHY"
elif [[ -n $NO_GPU_WHY ]]; then skip smcirc_step "$NO_GPU_WHY"
else
  # after it: torch batched ≥ 45 s, per-sample ≥ 60 s, the CLI ≥ 60 s, the JSON 10 s
  t=$(part_timeout 240 175)
  rc=0
  # the step script stops timing steps at its own budget, so that it still prints its JSON inside the timeout
  run_part smcirc_step "$t" "$OUT/smcirc-step.log" "$WORK/smcirc_step.out" "$WORK" -- \
    "$NODE" "$APP/dist/bench/device-step.js" "$SPECPATH" --batch "$B" --steps "$STEPS" --budget-s "$((t > 60 ? t - 30 : t / 2 + 1))" --profile-top 15 || rc=$?
  if ((rc != 99)); then
    last_json_line "$WORK/smcirc_step.out" "$WORK/smcirc_step.json" || true
    STEP_RESULT=$(cat "$WORK/smcirc_step.json")
    if ((rc == 0)) && [[ $STEP_RESULT == *'"ok":true'* ]]; then P_OK[smcirc_step]=1
    elif ((P_TIMED[smcirc_step])); then fail smcirc_step "$(timed_out_msg smcirc_step)"
    else
      why=$(printf '%s' "$STEP_RESULT" | sed -n 's/.*"stage":"\([^"]*\)","error":"\([^"]\{0,400\}\).*/\1: \2/p')
      fail smcirc_step "exit $rc: ${why:-$(tail_text "$OUT/smcirc-step.log" 3)}"
    fi
  fi
fi

write_json false

# ---------- the PyTorch peer ----------
run_torch() { # part, form, log, cap, reserve
  local part=$1 form=$2 logf=$3 cap=$4 reserve=$5 rc=0 r
  if ! want "$part"; then skip "$part" 'not in SMCIRC_DEVICE_PARTS'; return; fi
  if [[ ! -f $PEER ]]; then skip "$part" "${PEER#"$ROOT"/} is absent"; return; fi
  if [[ -n $TORCH_WHY ]]; then skip "$part" "$TORCH_WHY"; return; fi
  if [[ $TORCH_DEVICE == cuda* && $CUDA_OK != 1 ]]; then skip "$part" "torch sees no CUDA device ($PY_INFO)"; return; fi
  run_part "$part" "$(part_timeout "$cap" "$reserve")" "$logf" "$WORK/$part.out" "$ROOT" -- \
    "$PY" "$PEER" --size "$TORCH_SIZE" --batch "$TORCH_BATCH" --steps "$TORCH_STEPS" --form "$form" --device "$TORCH_DEVICE" || rc=$?
  ((rc == 99)) && return
  last_json_line "$WORK/$part.out" "$WORK/$part.json" || true
  r=$(cat "$WORK/$part.json")
  P_EXTRA[$part]="\"result\": $r"
  if ((rc == 0)) && [[ $r == '{'* ]]; then P_OK[$part]=1
  elif ((P_TIMED[$part])); then fail "$part" "$(timed_out_msg "$part")"
  elif ((rc == 0)); then fail "$part" "printed no JSON line: $(tail_text "$WORK/$part.out" 2)"
  else fail "$part" "exit $rc: $(tail_text "$logf" 3)"
  fi
}
# after batched: per-sample ≥ 60 s, the CLI ≥ 60 s, the JSON 10 s
run_torch torch_batched batched "$OUT/torch-batched.log" 120 130
write_json false
run_torch torch_per_sample per-sample "$OUT/torch-per-sample.log" 150 70
write_json false

# ---------- the CLI: smcirc train --max-steps ----------
TRAIN_EXTRA=''
if ! want smcirc_train; then skip smcirc_train 'not in SMCIRC_DEVICE_PARTS'
elif [[ -z $NODE ]]; then skip smcirc_train "$NO_NODE_WHY"
elif [[ -n $NO_GPU_WHY ]]; then skip smcirc_train "$NO_GPU_WHY"
else
  RUN=$WORK/train-run
  N=$((STEPS + 1))
  rc=0
  run_part smcirc_train "$(part_timeout 240 10)" "$OUT/smcirc-train.log" "$WORK/smcirc_train.out" "$WORK" -- \
    "$NODE" "$APP/bin/smcirc.js" train "$SPECPATH" --backend gpu --seed 1111 --max-steps "$N" --out "$RUN" \
    --set "train.batch_size=$B" --set "eval.batch_size=$B" --set "data.synthetic_train=$((B * N))" \
    --set "data.synthetic_valid=$B" --set "data.synthetic_test=$B" --set eval.conditions=LVA || rc=$?
  if [[ ${P_RAN[smcirc_train]:-0} == 1 ]]; then
    cat "$WORK/smcirc_train.out" >>"$OUT/smcirc-train.log" 2>/dev/null || true
    CSV=$RUN/seed-1111/history-steps.csv
    if [[ -f $CSV ]]; then
      # samples_per_s is cumulative over the epoch's steps after the first: step k took B(k-1)/sps_k - B(k-2)/sps_{k-1}
      steps_ms=$(awk -F, -v B="$B" 'NR > 1 && $6 != "" { k++; cum = B * k / $6; printf "%s%.3f", (k > 1 ? "," : ""), (cum - prev) * 1000; prev = cum }' "$CSV")
      last_sps=$(awk -F, 'NR > 1 && $6 != "" { s = $6 } END { print s }' "$CSV")
      rows=$(($(wc -l <"$CSV") - 1))
      mean_ms=$(awk -v B="$B" -v s="$last_sps" 'BEGIN { if (s > 0) printf "%.3f", B * 1000 / s }')
      med_ms=$(printf '%s\n' "${steps_ms//,/$'\n'}" | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')
      csv_lines=$(head -n 50 "$CSV" | clean)
      TRAIN_EXTRA="\"history_rows\": $rows, \"step_ms\": [${steps_ms}], \"median_step_ms\": $(jnum "$med_ms"), \"mean_step_ms\": $(jnum "$mean_ms"), \"samples_per_s\": $(jnum "$last_sps"), \"history_steps_csv\": $(jstr "$csv_lines")"
    fi
    P_EXTRA[smcirc_train]="${TRAIN_EXTRA:-\"history_steps_csv\": null}"
    if ((rc == 0)) && [[ -f $CSV ]]; then P_OK[smcirc_train]=1
    elif ((P_TIMED[smcirc_train])); then fail smcirc_train "$(timed_out_msg smcirc_train)"
    else fail smcirc_train "exit $rc: $(tail_text "$OUT/smcirc-train.log" 3)"
    fi
  fi
fi

# ---------- device-bench.json ----------
write_json true

# the summary (medians side by side, ratios) needs a JSON parser: Python's, where there is one
if [[ -n $PY_ANY ]]; then
  if ! "$PY_ANY" "$ROOT/bench/device-summary.py" "$JSON" >>"$OUT/device.log" 2>&1; then log 'summary: bench/device-summary.py failed (see above); the JSON has no summary'; fi
elif [[ -n $NODE ]] && ! json_valid "$JSON"; then
  log 'warning: device-bench.json does not parse'
fi
log "wrote $JSON ($(wc -c <"$JSON") bytes); errors: ${#ERRORS[@]}"
for e in "${ERRORS[@]}"; do log "  $e"; done
rm -rf "$WORK"
echo "$JSON"
