// bench/device.sh's decisions and the JSON it writes, on stand-in machines: a fake pack (a stand-in `node` compressed
// with xz, an app folder, a Vulkan library the machine lacks), stand-in nvidia-smi and python3 (torch probe and the
// PyTorch peer; every other python3 call reaches the real one, for lzma, JSON checks and the summary), and a PATH of
// those plus a folder of symlinks to plain tools, so that neither the real Node nor a real GPU is reached. Then one real
// dry run on lavapipe (the repository's build, the Node on PATH), which skips without an adapter.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { gpuSkipReason } from '../helpers/gpu-gate.js';
import { execCapture, type Captured } from '../helpers/exec.js';

const ROOT = join(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'bench/device.sh');
const TOOLS = ['bash', 'timeout', 'tar', 'awk', 'sed', 'grep', 'tail', 'head', 'cat', 'cut', 'sort', 'wc', 'tr', 'date', 'mktemp', 'mkdir', 'rm', 'ln', 'chmod', 'cp', 'mv', 'basename', 'dirname', 'tee', 'uname', 'nproc', 'env', 'iconv', 'sleep'];

function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/sbin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
const BASH = which('bash')!;
const REAL_PYTHON = ['/usr/bin/python3', which('python3')].find((p) => p && existsSync(p));
const XZ = which('xz');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const exec = (cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Captured> =>
  execCapture(cmd, args, { env: o.env, cwd: o.cwd ?? ROOT });

const script = (body: string) => `#!${BASH}\n${body}\n`;
function writeExec(path: string, body: string): void {
  writeFileSync(path, script(body));
  chmodSync(path, 0o755);
}

// The stand-in node: `--version`, `smcirc.js doctor|train`, `device-step.js`; FAKE_* choose what each does.
const NODE_STANDIN = `
case $1 in
  --version) echo v20.20.2; exit 0 ;;
  */bin/smcirc.js)
    shift
    case $1 in
      doctor)
        echo 'node                20.20.2'
        case \${FAKE_DOCTOR:-nvidia} in
          nvidia) echo 'adapter             nvidia / NVIDIA H200 / hopper'; exit 0 ;;
          software) echo 'adapter             mesa / llvmpipe: Mesa 25.0.7 / software (software: correctness, not speed)'; exit 0 ;;
          none) echo 'adapter             none: no Vulkan driver'; exit 1 ;;
        esac ;;
      train)
        echo "train $*" >> "$FAKE_LOG"
        while (($#)); do [[ $1 == --out ]] && out=$2; shift; done
        mkdir -p "$out/seed-1111"
        printf 'epoch,step,loss,grad_norm,lr,samples_per_s\\n1,1,1.2,0.5,2e-05,\\n1,2,1.1,0.5,2e-05,6400\\n1,3,1.0,0.5,2e-05,3200\\n' > "$out/seed-1111/history-steps.csv"
        echo "$out"; exit 0 ;;
    esac ;;
  */dist/bench/device-step.js)
    echo "step $*" >> "$FAKE_LOG"
    echo 'device-step: compiling' >&2
    case \${FAKE_STEP:-ok} in
      ok) echo '{"ok":true,"tool":"smcirc bench/device-step","adapter":{"described":"nvidia / NVIDIA H200 / hopper","software":false},"dispatches":{"train":900},"first_step_ms":800,"steps_timed":5,"step_ms":[12,12.5,13,12.5,12.5],"median_step_ms":12.5,"min_step_ms":12,"samples_per_s":5120,"compile_s":4.2,"load_s":20.5,"profile":{"source":"timestamp","kernels_summed_ms":9.5,"top":[]}}' ;;
      fail) echo '{"ok":false,"stage":"open the GPU and load the programs","error":"error SMC4001: no adapter"}'; exit 1 ;;
    esac
    exit 0 ;;
esac
echo "stand-in node: unexpected arguments: $*" >&2
exit 3`;

// The stand-in python3: the torch probe and the peer are faked; everything else is the real Python.
const pythonStandIn = (real: string) => `
for a in "$@"; do
  case $a in
    *smcir_step.py)
      echo "peer $*" >> "$FAKE_LOG"
      case " $* " in
        *' --form batched '*) [[ \${FAKE_BATCHED:-ok} == ok ]] || { echo 'RuntimeError: CUDA out of memory' >&2; exit 1; }
          echo 'peer: warming up' >&2
          echo '{"peer": "pytorch eager", "form": "batched", "seconds_per_step_median": 0.01, "first_step_seconds": 0.9}' ;;
        *) [[ \${FAKE_PER_SAMPLE:-ok} == hang ]] && exec sleep 600
          echo '{"peer": "pytorch eager", "form": "per-sample", "seconds_per_step_median": 0.05}' ;;
      esac
      exit 0 ;;
  esac
done
if [[ $1 == -c && $2 == *'import torch'* ]]; then
  echo '{"python": "3.12.3", "executable": "/opt/torch/.venv/bin/python3", "torch": "2.11.0+cu130", "cuda": "13.0", "cuda_available": '\${FAKE_CUDA:-true}', "device": "NVIDIA H200", "threads": 16}'
  exit 0
fi
exec ${real} "$@"`;

interface Machine {
  dir: string;
  env: NodeJS.ProcessEnv;
  out: string;
  /** Makes the fake .device with the real xz, as bench/device-pack.sh does. */
  makePack(): Promise<void>;
  run(args?: string[]): Promise<{ code: number; stdout: string; stderr: string; json: Record<string, any>; log: string[] }>;
}

/** A temp machine. `pack`: a fake .device (node stand-in, app, a library this machine lacks); `python`: the stand-in
 *  python3 on PATH; `xz`: xz on PATH (else the pack unpacks with Python's lzma); `nvidia`: nvidia-smi and an NVIDIA ICD. */
function machine(o: { pack?: boolean; python?: boolean; xz?: boolean; nvidia?: boolean; env?: NodeJS.ProcessEnv }): Machine {
  const dir = mkdtempSync(join(tmpdir(), 'smcirc-device-'));
  temps.push(dir);
  const [bin, tools, pack, stage, icd, out] = ['bin', 'tools', 'pack', 'stage', 'icd', 'out'].map((d) => join(dir, d));
  for (const d of [bin, tools, pack, join(stage, 'app/bin'), join(stage, 'app/dist/bench'), join(stage, 'app/specs'), join(stage, 'vklib'), icd, out]) mkdirSync(d, { recursive: true });
  for (const t of TOOLS) {
    const p = which(t);
    if (p) symlinkSync(p, join(tools, t));
  }
  if (o.xz !== false && XZ) symlinkSync(XZ, join(tools, 'xz'));
  const fakeLog = join(dir, 'calls.log');
  writeFileSync(fakeLog, '');
  if (o.pack) {
    writeExec(join(stage, 'node'), NODE_STANDIN);
    writeFileSync(join(stage, 'app/bin/smcirc.js'), '// stand-in\n');
    writeFileSync(join(stage, 'app/dist/bench/device-step.js'), '// stand-in\n');
    writeFileSync(join(stage, 'app/specs/smcir.smcir'), '# stand-in\n');
    writeFileSync(join(stage, 'vklib/libvulkan.so.1'), 'stand-in');
    writeFileSync(join(stage, 'vklib/libsmcirc-test-absent.so.7'), 'stand-in');
    writeFileSync(join(pack, 'manifest.json'), JSON.stringify({ git_commit: 'abc123', node_version: 'v20.20.2' }));
  }
  if (o.python) writeExec(join(bin, 'python3'), pythonStandIn(REAL_PYTHON!));
  if (o.nvidia) {
    writeExec(join(bin, 'nvidia-smi'), `case " $* " in *' --query-gpu='*) echo 'NVIDIA H200, 580.159.04, 143771 MiB' ;; *) echo '| NVIDIA H200  On |' ;; esac`);
    writeFileSync(join(icd, 'nvidia_icd.json'), '{"file_format_version": "1.0.0", "ICD": {"library_path": "libGLX_nvidia.so.0"}}');
  }
  const env: NodeJS.ProcessEnv = {
    PATH: [bin, tools].join(delimiter),
    HOME: dir,
    TMPDIR: dir,
    LC_ALL: 'C.UTF-8',
    OUT: out,
    FAKE_LOG: fakeLog,
    SMCIRC_DEVICE_PACK: pack,
    SMCIRC_VK_ICD_DIRS: icd,
    SMCIRC_NVIDIA_LIB_DIRS: join(dir, 'no-driver-libs'),
    SMCIRC_DEVICE_PEER: join(dir, 'smcir_step.py'),
    ...o.env,
  };
  writeFileSync(join(dir, 'smcir_step.py'), '# the stand-in python3 answers for it\n');
  const m: Machine = {
    dir,
    env,
    out,
    async makePack() {
      const mk = await exec(BASH, ['-c', `set -e; xz -c '${join(stage, 'node')}' > '${join(pack, 'node.xz')}'; tar -C '${stage}' -cf - app | xz -c > '${join(pack, 'app.tar.xz')}'; tar -C '${stage}' -cf - vklib | xz -c > '${join(pack, 'libs.tar.xz')}'`], { env: process.env });
      expect(mk.code, mk.stderr).toBe(0);
    },
    async run(args = []) {
      if (o.pack) await m.makePack();
      const r = await exec(BASH, [SCRIPT, ...args], { env: m.env });
      const file = join(out, 'device-bench.json');
      expect(existsSync(file), `${r.stdout}\n${r.stderr}`).toBe(true);
      return { ...r, json: JSON.parse(readFileSync(file, 'utf8')), log: readFileSync(fakeLog, 'utf8').split('\n').filter(Boolean) };
    },
  };
  return m;
}

const hasXz = !!XZ && !!REAL_PYTHON;

describe.skipIf(!hasXz)('bench/device.sh on stand-in machines', () => {
  test('an NVIDIA machine without Node: unpacks the carried Node (Python lzma, no xz), pins the NVIDIA ICD, runs every part, sums up', async () => {
    const m = machine({ pack: true, python: true, xz: false, nvidia: true });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(m.out, 'device-bench.json'));
    const j = r.json;
    expect(j.schema).toBe('smcirc-device-bench/1');
    expect(j.mode).toBe('device');
    expect(j.complete).toBe(true);
    expect(j.config).toMatchObject({ spec: 'specs/smcir.smcir', batch: 64, steps: 5, torch: { size: 'mosi', batch: 64, steps: 5, device: 'cuda' } });
    expect(j.pack).toEqual({ git_commit: 'abc123', node_version: 'v20.20.2' });
    expect(j.environment.gpu).toMatchObject({ name: 'NVIDIA H200', driver: '580.159.04', memory: '143771 MiB', error: null });
    expect(j.environment.node).toMatchObject({ version: 'v20.20.2', source: 'carried' });
    expect(j.environment.vulkan).toMatchObject({ nvidia_icd: join(m.dir, 'icd/nvidia_icd.json'), icd_source: 'found', vk_driver_files: join(m.dir, 'icd/nvidia_icd.json') });
    // only the library this machine lacks goes on LD_LIBRARY_PATH; its libvulkan.so.1 stays the system's
    const systemLoader = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64'].some((d) => existsSync(join(d, 'libvulkan.so.1')));
    expect(j.environment.vulkan.carried_libs).toEqual(systemLoader ? ['libsmcirc-test-absent.so.7'] : ['libsmcirc-test-absent.so.7', 'libvulkan.so.1']);
    expect(j.environment.vulkan.loader).toBe(systemLoader ? 'system' : 'carried');
    expect(j.environment.python).toMatchObject({ torch: '2.11.0+cu130', cuda_available: true });
    expect(j.environment.adapter).toBe('nvidia / NVIDIA H200 / hopper');
    for (const p of ['unpack', 'doctor', 'smcirc_step', 'torch_batched', 'torch_per_sample', 'smcirc_train']) {
      expect(j.parts[p], p).toMatchObject({ ran: true, ok: true, error: null, timed_out: false });
    }
    expect(j.errors).toEqual([]);
    expect(j.parts.smcirc_step.result).toMatchObject({ ok: true, median_step_ms: 12.5, first_step_ms: 800 });
    expect(j.parts.torch_batched.result).toMatchObject({ form: 'batched', seconds_per_step_median: 0.01 });
    // history-steps.csv: cumulative samples/s after the first step → 10 ms, then 30 ms
    expect(j.parts.smcirc_train).toMatchObject({ history_rows: 3, step_ms: [10, 30], median_step_ms: 20, mean_step_ms: 20, samples_per_s: 3200 });
    expect(j.summary).toMatchObject({
      gpu: 'NVIDIA H200', smcirc_median_step_ms: 12.5, smcirc_load_s: 20.5, torch_batched_median_step_ms: 10, torch_per_sample_median_step_ms: 50,
      smcirc_over_torch_batched: 1.25, smcirc_over_torch_per_sample: 0.25, smcirc_cli_median_step_ms: 20, parts_not_ok: [],
    });
    // the commands: full size, batch 64, 5 timed steps; the CLI run trains the first step plus 5
    const step = r.log.find((l) => l.startsWith('step '))!;
    expect(step).toMatch(/\/app\/specs\/smcir\.smcir --batch 64 --steps 5 --budget-s \d+ --profile-top 15$/);
    const train = r.log.find((l) => l.startsWith('train '))!;
    expect(train).toContain('--backend gpu --seed 1111 --max-steps 6');
    expect(train).toContain('--set train.batch_size=64 --set eval.batch_size=64 --set data.synthetic_train=384');
    expect(r.log.filter((l) => l.startsWith('peer ')).map((l) => l.replace(/^peer \S+ /, ''))).toEqual([
      '--size mosi --batch 64 --steps 5 --form batched --device cuda',
      '--size mosi --batch 64 --steps 5 --form per-sample --device cuda',
    ]);
    // what comes back: at most 8 files, one folder level, plain names
    const files = readdirSync(m.out).sort();
    expect(files).toEqual(['device-bench.json', 'device.log', 'doctor.log', 'env.txt', 'smcirc-step.log', 'smcirc-train.log', 'torch-batched.log', 'torch-per-sample.log']);
    expect(readFileSync(join(m.out, 'env.txt'), 'utf8')).toContain('NVIDIA H200');
    expect(readFileSync(join(m.out, 'smcirc-step.log'), 'utf8')).toContain('device-step: compiling');
    // the work folder is removed
    expect(readdirSync(m.dir).filter((f) => f.startsWith('smcirc-device-work'))).toEqual([]);
  });

  test('a failing or hanging part is recorded and the rest still run; a software adapter skips the full-size smcirc parts', async () => {
    const m = machine({ pack: true, python: true, nvidia: true, env: { FAKE_DOCTOR: 'software', FAKE_BATCHED: 'oom', FAKE_PER_SAMPLE: 'hang', SMCIRC_DEVICE_MAX_PART_S: '5' } });
    const t0 = Date.now();
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(40_000);
    const p = r.json.parts;
    expect(p.doctor).toMatchObject({ ok: true, adapter: expect.stringContaining('llvmpipe'), software: true });
    for (const s of ['smcirc_step', 'smcirc_train']) {
      expect(p[s], s).toMatchObject({ ran: false, ok: false, error: expect.stringContaining('only a software adapter') });
    }
    expect(p.torch_batched).toMatchObject({ ran: true, ok: false, rc: 1, timed_out: false, error: expect.stringContaining('CUDA out of memory'), result: null });
    expect(p.torch_per_sample).toMatchObject({ ran: true, ok: false, rc: 124, timed_out: true, timeout_s: 5, error: expect.stringContaining('timed out after 5s') });
    expect(r.json.errors).toHaveLength(4);
    expect(r.json.summary).toMatchObject({ smcirc_median_step_ms: null, torch_batched_median_step_ms: null, parts_ok: ['unpack', 'doctor'] });
    expect(r.log.some((l) => l.startsWith('step ') || l.startsWith('train '))).toBe(false);
  });

  test('the dry run with the software adapter: small sizes, PyTorch on the CPU, the smcirc parts run', async () => {
    const m = machine({ pack: true, python: true, env: { FAKE_DOCTOR: 'software', FAKE_CUDA: 'false' } });
    const r = await m.run(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ mode: 'dry-run', config: { spec: 'specs/smcir-tiny.smcir', batch: 8, steps: 2, torch: { size: 'tiny', batch: 8, steps: 2, device: 'cpu' } } });
    expect(r.json.environment.gpu.error).toBe('nvidia-smi is not on PATH');
    expect(r.json.environment.vulkan).toMatchObject({ nvidia_icd: null, icd_source: 'none', vk_driver_files: null });
    expect(r.json.parts.torch_batched.ok).toBe(true);
    // the stand-in app has no smcir-tiny.smcir: the repository's spec is used
    expect(r.log.find((l) => l.startsWith('step '))).toContain(`${ROOT}/specs/smcir-tiny.smcir --batch 8 --steps 2`);
    expect(r.log.find((l) => l.startsWith('train '))).toContain('--max-steps 3');
  });

  test('no pack, no Node, no Python, no GPU: every part says why, and the JSON (written by bash alone) parses', async () => {
    const odd = 'we"ird\\path\tx';
    const m = machine({ env: { SMCIRC_DEVICE_PEER: join(tmpdir(), odd, 'smcir_step.py'), SMCIRC_PYTHON_CANDIDATES: 'python3' } });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    const j = r.json;
    expect(j.complete).toBe(true);
    expect(j.parts.unpack).toMatchObject({ ran: false, error: expect.stringContaining('bench/device-pack.sh') });
    for (const s of ['doctor', 'smcirc_step', 'smcirc_train']) expect(j.parts[s].error, s).toContain('no pack at');
    // the peer is looked for first: its odd path comes back intact
    expect(j.parts.torch_batched.error).toBe(`${join(tmpdir(), odd, 'smcir_step.py')} is absent`);
    expect(j.environment).toMatchObject({ python: null, node: { path: null, source: 'none' }, gpu: { error: 'nvidia-smi is not on PATH' } });
    expect(j.summary).toBeUndefined();
    expect(j.errors.length).toBe(6);
  });

  test('a run stopped by a signal ends its part at once and leaves the JSON of the parts so far (complete: false)', async () => {
    const m = machine({ pack: true, python: true, nvidia: true, env: { FAKE_PER_SAMPLE: 'hang', SMCIRC_DEVICE_PARTS: 'doctor,torch_per_sample' } });
    await m.makePack();
    const child = spawn(BASH, [SCRIPT], { cwd: ROOT, env: m.env, stdio: 'ignore' });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const log = join(m.out, 'device.log');
    const t0 = Date.now();
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('torch_per_sample: running'))) {
      expect(Date.now() - t0, 'the per-sample part did not start').toBeLessThan(30_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const t1 = Date.now();
    child.kill('SIGTERM');
    expect(await closed).toBe(130);
    expect(Date.now() - t1).toBeLessThan(10_000); // not the hanging peer's 600 s, nor its part's timeout
    const j = JSON.parse(readFileSync(join(m.out, 'device-bench.json'), 'utf8'));
    expect(j.complete).toBe(false);
    expect(j.parts.doctor.ok).toBe(true);
    expect(j.errors.at(-1)).toMatch(/^interrupted by a signal after \d/);
  });
});

const gpuReason = await gpuSkipReason('the bench/device.sh dry run');
const built = existsSync(join(ROOT, 'dist/bench/device-step.js'));

describe.skipIf(!!gpuReason || !built)('bench/device.sh --dry-run on this machine', () => {
  test('the smcirc parts through Dawn at small sizes (the Node on PATH, the repository build)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-device-dry-'));
    temps.push(dir);
    const out = join(dir, 'out');
    const env: NodeJS.ProcessEnv = {
      ...process.env, OUT: out, TMPDIR: dir, SMCIRC_DEVICE_NODE: 'system', SMCIRC_DEVICE_PARTS: 'doctor,smcirc_step,smcirc_train',
      SMCIRC_DEVICE_PACK: join(dir, 'no-pack'), SMCIRC_DEVICE_BUDGET_S: '290',
    };
    const r = await exec(BASH, [SCRIPT, '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(join(out, 'device-bench.json'), 'utf8'));
    expect(j).toMatchObject({ mode: 'dry-run', complete: true, config: { spec: 'specs/smcir-tiny.smcir', batch: 8, steps: 2 } });
    expect(j.environment.node.source).toBe('system');
    expect(j.parts.doctor, readFileSync(join(out, 'device.log'), 'utf8')).toMatchObject({ ok: true });
    const step = j.parts.smcirc_step;
    expect(step.ok, JSON.stringify(step)).toBe(true);
    expect(step.result).toMatchObject({ ok: true, batch: 8, steps_timed: 2, losses_finite: true, adapter: { described: expect.any(String) } });
    expect(step.result.median_step_ms).toBeGreaterThan(0);
    expect(step.result.first_step_ms).toBeGreaterThan(0);
    expect(step.result.dispatches.train).toBeGreaterThan(100);
    expect(step.result.profile.top.length).toBeGreaterThan(0);
    expect(j.parts.smcirc_train).toMatchObject({ ok: true, history_rows: 3 });
    expect(j.parts.smcirc_train.step_ms).toHaveLength(2);
    expect(j.parts.smcirc_train.median_step_ms).toBeGreaterThan(0);
    for (const p of ['torch_batched', 'torch_per_sample']) expect(j.parts[p]).toMatchObject({ ran: false, error: 'not in SMCIRC_DEVICE_PARTS' });
    if (REAL_PYTHON) expect(j.summary.smcirc_median_step_ms).toBe(step.result.median_step_ms);
  }, 300_000); // about 25 s; lavapipe with a cold shader cache compiles every pipeline first
});
