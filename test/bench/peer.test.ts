// The PyTorch peer of `npm run bench` (bench/peer*.ts, bench/peer/smcir_step.py): finding a Python with torch and
// skipping without one, reading the peer's JSON line, the ratio table and the same-model check — and, where a Python
// with torch exists, that the peer's first step computes smcirc's loss and gradient norm from smcirc's weights and batch
// (tiny; both forms). Nothing here is timed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCandidates, findTorchPython, parsePeerJson, peerArgs, runPeer, type PeerFigure, type Probe } from '../../bench/peer-python.js';
import { baselineFor, formatPeerTable, formatRatio, formatSameModel, relDiff, type PeerSizeResult } from '../../bench/peer-table.js';
import { peerOptionsFromArgv } from '../../bench/peer.js';
import { preparePeerInputs } from '../../bench/peer-inputs.js';
import type { SmcircFigure } from '../../bench/peer-smcirc.js';
import { initTrainState } from '../../compiler/train-step.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('finding a Python with torch', () => {
  const probe = (ok: Record<string, string>, why: Record<string, string> = {}): Probe => (py) => (py in ok ? { ok: true, torch: ok[py]! } : { ok: false, why: why[py] ?? 'not found' });

  it('takes the first candidate that imports torch: Debian\'s before PATH\'s', () => {
    expect(defaultCandidates({})).toEqual(['/usr/bin/python3', 'python3']);
    expect(findTorchPython(defaultCandidates({}), probe({ '/usr/bin/python3': '1.13.0', python3: '2.5.0' }))).toEqual({ python: '/usr/bin/python3', torch: '1.13.0' });
    expect(findTorchPython(defaultCandidates({}), probe({ python3: '2.5.0' }))).toEqual({ python: 'python3', torch: '2.5.0' });
  });

  it('SMCIRC_PEER_PYTHON replaces the candidates', () => {
    expect(defaultCandidates({ SMCIRC_PEER_PYTHON: '/opt/venv/bin/python' })).toEqual(['/opt/venv/bin/python']);
  });

  it('without one: one line saying the rows are skipped, why for each candidate, and how to get torch', () => {
    const r = findTorchPython(['/usr/bin/python3', 'python3'], probe({}, { python3: "ModuleNotFoundError: No module named 'torch'" }));
    expect('skip' in r).toBe(true);
    const line = (r as { skip: string }).skip;
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^PyTorch peer rows skipped/);
    expect(line).toContain('/usr/bin/python3: not found');
    expect(line).toContain("python3: ModuleNotFoundError: No module named 'torch'");
    expect(line).toContain('python3-torch');
  });
});

const PEER: PeerFigure = {
  peer: 'pytorch eager', form: 'per-sample', size: 'tiny', batch: 8, device: 'cpu', torch: '1.13.0', threads: 2, parameters: 25435,
  seconds_per_step_median: 0.06, first_step_seconds: 1.2, peak_rss_mb: 307.5, loss_first_step: 1.1496295, grad_norm_first_step: 0.5023022,
  seconds_per_step_min: 0.05, seconds_per_step_max: 0.08, flagged_first_step: { vision: 3, audio: 2, both: 0 },
};
const SMCIRC: SmcircFigure = {
  spec: 'specs/smcir-tiny.smcir', batch: 8, steps: 10, adapter: 'llvmpipe: Mesa 25 (mesa, software)', software: true, threads: 2, parameters: 25435, dispatches: 542,
  msPerStep: 20, msPerStepMin: 15, msPerStepMax: 30, firstStepMs: 70, loadMs: 1300, lossFirstStep: 1.1496295, gradNormFirstStep: 0.5023022,
  flagged: { vision: 3, audio: 2, both: 0 }, gpuBufferBytes: 1106256, peakRssMb: 415.6, weights: 'w', data: 'd',
};

describe("reading the peer's JSON line", () => {
  it('takes the last JSON object line, after any warnings', () => {
    const got = parsePeerJson(`UserWarning: something\n${JSON.stringify({ ...PEER, threads: 1 })}\n`);
    expect(got.threads).toBe(1);
    expect(got.loss_first_step).toBe(PEER.loss_first_step);
  });

  it('names what is missing or wrong', () => {
    expect(() => parsePeerJson('')).toThrow(/no JSON line/);
    expect(() => parsePeerJson('{not json')).toThrow(/not JSON/);
    const { seconds_per_step_median: _, ...noTime } = PEER;
    expect(() => parsePeerJson(JSON.stringify(noTime))).toThrow(/seconds_per_step_median/);
    expect(() => parsePeerJson(JSON.stringify({ ...PEER, loss_first_step: null }))).toThrow(/loss_first_step/);
    expect(() => parsePeerJson(JSON.stringify({ ...PEER, form: 'looped' }))).toThrow(/form/);
  });

  it("builds smcir_step.py's documented command line", () => {
    expect(peerArgs('s.py', { size: 'mosi', batch: 4, steps: 3, form: 'batched', threads: 2, weights: 'w.safetensors', data: 'd.safetensors' }))
      .toEqual(['s.py', '--size', 'mosi', '--batch', '4', '--steps', '3', '--form', 'batched', '--device', 'cpu', '--threads', '2', '--weights', 'w.safetensors', '--data', 'd.safetensors']);
    expect(peerArgs('s.py', { size: 'tiny', batch: 8, steps: 1, form: 'per-sample', threads: 1 })).not.toContain('--weights');
  });
});

describe('the ratio table', () => {
  it('ratio = peer time / smcirc time: above 1 when smcirc is faster', () => {
    expect(formatRatio(60, 20)).toBe('3.00×');
    expect(formatRatio(2000, 20)).toBe('100.0×');
    expect(formatRatio(10, 20)).toBe('0.50×');
    expect(formatRatio(1, 200)).toBe('0.0050×');
    expect(formatRatio(10, 0)).toBe('—');
  });

  it('grouped by CPU thread count: smcirc at that count, then each PyTorch run with its ratio; failures stay visible', () => {
    const results: PeerSizeResult[] = [{
      label: 'smcir-tiny', batch: 8, smcirc: [SMCIRC, { ...SMCIRC, threads: 1, msPerStep: 40, msPerStepMin: 35, msPerStepMax: 45 }],
      peers: [PEER, { ...PEER, threads: 1, seconds_per_step_median: 0.01 }, { ...PEER, form: 'batched' }, { error: 'exited with 1: boom | x', form: 'batched', threads: 1 }],
    }];
    const lines = formatPeerTable(results);
    expect(lines).toHaveLength(2 + 6);
    expect(lines[2]).toMatch(/^\| smcir-tiny \| 8 \| smcirc \(llvmpipe, fused, 542 dispatches\) \| 2 \| \*\*20\.0\*\* \| 15\.0–30\.0 \| 1 \| 416 \| 1 \| 1\.149630 \|$/);
    expect(lines[3]).toContain('per-sample (released code) | 2 | 60.0 | 50.0–80.0 | 3.00× | 308 | — |');
    expect(lines[4]).toContain('batched (smcirc\'s form) | 2 | 60.0 |');
    expect(lines[5]).toContain('smcirc (llvmpipe, fused, 542 dispatches) | 1 | **40.0** |');
    expect(lines[6]).toContain('per-sample (released code) | 1 | 10.0 |');
    expect(lines[6]).toContain('| 0.25× |'); // against smcirc at 1 thread, not at 2
    expect(lines[7]).toContain('failed (exited with 1: boom / x)');
    for (const l of lines) expect(l.split('|').length).toBe(lines[0]!.split('|').length);
  });

  it('the baseline: the smcirc row at the same thread count on lavapipe; a hardware adapter for every count', () => {
    const hw = { ...SMCIRC, software: false, threads: undefined };
    expect(baselineFor([SMCIRC], 2)).toBe(SMCIRC);
    expect(baselineFor([SMCIRC], 1)).toBeUndefined();
    expect(baselineFor([{ error: 'x', threads: 2 }, hw], 1)).toBe(hw);
    expect(formatPeerTable([{ label: 'm', batch: 4, smcirc: [hw], peers: [PEER] }])[2]).toContain('fused, 542 dispatches) | — |');
  });

  it('without smcirc figures the peers have no ratio', () => {
    const lines = formatPeerTable([{ label: 'smcir (MOSI)', batch: 4, smcirc: [{ error: 'no adapter', threads: 2 }], peers: [PEER] }]);
    expect(lines[2]).toContain('smcirc: failed (no adapter)');
    expect(lines[3]).toContain('| — |');
  });

  it('the same-model check: loss and gradient norm within f32 tolerance, DMFD flags shown', () => {
    const same = formatSameModel([{ label: 'smcir-tiny', batch: 8, smcirc: [SMCIRC], peers: [{ ...PEER, loss_first_step: 1.1496296 }] }]);
    expect(same[0]).toMatch(/the same model$/);
    expect(same[0]).toContain('3/2/0 vs 3/2/0');
    const off = formatSameModel([{ label: 'smcir-tiny', batch: 8, smcirc: [SMCIRC], peers: [{ ...PEER, loss_first_step: 1.2 }] }]);
    expect(off[0]).toMatch(/DIFFERENT/);
    expect(formatSameModel([{ label: 'm', batch: 4, smcirc: [{ error: 'x', threads: 1 }], peers: [PEER] }])[0]).toMatch(/not made \(smcirc failed\)/);
    expect(relDiff(2, 1)).toBe(0.5);
    expect(relDiff(0, 0)).toBe(0);
  });
});

describe('bench options', () => {
  it('--peer alone, sizes and thread counts; by default every core and then 1', () => {
    expect(peerOptionsFromArgv([], 2)).toEqual({ only: false, skip: false, quick: false, sizes: ['tiny', 'mosi'], threads: [2, 1] });
    expect(peerOptionsFromArgv(['--peer', '--quick', '--peer-sizes=tiny', '--peer-threads=4'], 2)).toEqual({ only: true, skip: false, quick: true, sizes: ['tiny'], threads: [4] });
    expect(peerOptionsFromArgv(['--no-peer'], 1).threads).toEqual([1]);
    expect(() => peerOptionsFromArgv(['--peer-sizes=huge'])).toThrow(/unknown size huge/);
    expect(() => peerOptionsFromArgv(['--peer-sizes=toString'])).toThrow(/unknown size toString/);
    expect(() => peerOptionsFromArgv(['--peer-threads=0'])).toThrow(/--peer-threads/);
  });
});

describe('the PyTorch peer computes smcirc\'s step (needs a Python with torch)', () => {
  const py = findTorchPython();
  const reason = 'skip' in py ? py.skip : undefined;
  if (reason) console.warn(`test/bench/peer.test.ts: ${reason}`);

  it.skipIf(reason !== undefined)('smcir-tiny at batch 8: first-step loss, gradient norm and DMFD flags of both forms are the interpreter\'s', async () => {
    if ('skip' in py) return;
    const tmp = mkdtempSync(join(tmpdir(), 'smcirc-peer-test-'));
    try {
      const inp = preparePeerInputs(join(ROOT, 'specs/smcir-tiny.smcir'), 8, tmp, 'tiny-b8');
      const ref = runTrainStep(inp.step, initTrainState(inp.step, inp.params), inp.feeds, { dtype: 'f32' });
      const flagged = (name: string, min: number): number => Array.from(ref.outputs.get(name)!).filter((x) => x >= min).length;
      for (const form of ['per-sample', 'batched'] as const) {
        const p = await runPeer(py.python, join(ROOT, 'bench/peer/smcir_step.py'), { size: 'tiny', batch: 8, steps: 1, form, threads: 1, weights: inp.weights, data: inp.data });
        expect(p.parameters).toBe(inp.graph.params.reduce((n, q) => n + q.shape.reduce((a, b) => a * b, 1), 0));
        expect(relDiff(p.loss_first_step, ref.loss)).toBeLessThan(1e-5);
        expect(relDiff(p.grad_norm_first_step!, ref.gradNorm)).toBeLessThan(1e-4);
        expect(p.flagged_first_step).toEqual({ vision: flagged('state_v', 1), audio: flagged('state_a', 1), both: flagged('state_v', 2) });
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
