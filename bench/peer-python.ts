// The PyTorch side of `npm run bench`'s peer section: find a Python that imports torch, run bench/peer/smcir_step.py
// with it and read the one JSON line it prints. Discovery takes its probe as an argument and parsing is pure, so
// test/bench/peer.test.ts checks both without Python.
import { spawnSync } from 'node:child_process';
import { runChild } from './peer-child.js';

/** Interpreters tried in order: Debian's (python3-torch lives there), then PATH's; SMCIRC_PEER_PYTHON replaces both. */
export const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];

export const TORCH_HINT = 'on Debian: apt-get install python3-torch (then /usr/bin/python3 has it); elsewhere: pip install torch numpy';

export type ProbeResult = { ok: true; torch: string } | { ok: false; why: string };
export type Probe = (python: string) => ProbeResult;

/** Runs `python -c "import torch, numpy"` and reports torch's version, or why it failed (one line). */
export const probePython: Probe = (python) => {
  const r = spawnSync(python, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, why: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message };
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, why: last || `exit status ${r.status}` };
  }
  return { ok: true, torch: r.stdout.trim() };
};

export type TorchPython = { python: string; torch: string } | { skip: string };

/** The first candidate that imports torch, or the line saying why the peer rows are skipped. */
export function findTorchPython(candidates: string[] = defaultCandidates(), probe: Probe = probePython): TorchPython {
  const tried: string[] = [];
  for (const c of [...new Set(candidates)]) {
    const r = probe(c);
    if (r.ok) return { python: c, torch: r.torch };
    tried.push(`${c}: ${r.why}`);
  }
  return { skip: `PyTorch peer rows skipped: no Python with torch (${tried.join('; ') || 'no interpreter to try'}); ${TORCH_HINT}` };
}

export function defaultCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.SMCIRC_PEER_PYTHON ? [env.SMCIRC_PEER_PYTHON] : PYTHON_CANDIDATES;
}

/** One line of smcir_step.py's output. */
export interface PeerFigure {
  peer: string;
  form: 'per-sample' | 'batched';
  size: string;
  batch: number;
  device: string;
  torch: string;
  threads: number;
  parameters: number;
  seconds_per_step_median: number;
  first_step_seconds: number;
  peak_rss_mb: number;
  peak_cuda_mb?: number;
  loss_first_step: number;
  grad_norm_first_step?: number;
  seconds_per_step_min?: number;
  seconds_per_step_max?: number;
  flagged_first_step?: { vision: number; audio: number; both: number };
}

const NUMBERS = ['batch', 'threads', 'parameters', 'seconds_per_step_median', 'first_step_seconds', 'peak_rss_mb', 'loss_first_step'] as const;
const STRINGS = ['peer', 'form', 'size', 'device', 'torch'] as const;

/** The last line of `stdout` that is a JSON object with smcir_step.py's fields; throws naming what is wrong. */
export function parsePeerJson(stdout: string): PeerFigure {
  const line = stdout.trim().split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no JSON line in the peer's output${stdout.trim() ? `: ${stdout.trim().slice(-200)}` : ''}`);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`the peer's last line is not JSON: ${line.slice(0, 200)}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('the peer printed JSON that is not an object');
  const o = v as Record<string, unknown>;
  for (const k of NUMBERS) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new Error(`the peer's JSON has no finite number ${k}`);
  for (const k of STRINGS) if (typeof o[k] !== 'string') throw new Error(`the peer's JSON has no string ${k}`);
  if (o.form !== 'per-sample' && o.form !== 'batched') throw new Error(`the peer's form is ${String(o.form)}`);
  return o as unknown as PeerFigure;
}

export interface PeerRun {
  size: 'tiny' | 'mosi';
  batch: number;
  steps: number;
  form: 'per-sample' | 'batched';
  threads: number;
  weights?: string;
  data?: string;
}

/** smcir_step.py's command line (its documented CLI, plus --data for the batch smcirc trained on). */
export function peerArgs(script: string, r: PeerRun): string[] {
  return [script, '--size', r.size, '--batch', String(r.batch), '--steps', String(r.steps), '--form', r.form, '--device', 'cpu',
    '--threads', String(r.threads), ...(r.weights ? ['--weights', r.weights] : []), ...(r.data ? ['--data', r.data] : [])];
}

/** Runs the peer and parses its line; a failure comes back as an Error naming the exit status and stderr's tail. */
export async function runPeer(python: string, script: string, r: PeerRun): Promise<PeerFigure> {
  const p = await runChild(python, peerArgs(script, r));
  if (p.error) throw new Error(`${python} ${script}: ${p.error.message}`);
  if (p.status !== 0) throw new Error(`${script} --size ${r.size} --form ${r.form} exited with ${p.status ?? p.signal}: ${p.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return parsePeerJson(p.stdout);
}
