// The smcirc side of the PyTorch comparison (bench/peer.ts), run as a child process per size so its peak RSS is its
// own: the fused train step of one spec (eval mode, dropout off) at one batch, timed as bench/train-step.ts times it
// (median of the steps after one warm-up step), on the weights and batch of bench/peer-inputs.ts, which it also writes
// for bench/peer/smcir_step.py (both sides run identical weights on identical data). Prints one JSON line on stdout.
// On lavapipe the parent sets LP_NUM_THREADS to compare with PyTorch at the same number of CPU threads.
//
//   node dist/bench/peer-smcirc.js <spec> --batch N --steps S --out DIR [--no-route]
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { numel } from '../compiler/ir/graph.js';
import { initTrainState } from '../compiler/train-step.js';
import { GRAD_NORM_OUTPUT, LOSS_OUTPUT } from '../runtime/abi/names.js';
import { openGpu } from '../runtime/gpu/device.js';
import { GpuTrainStep } from '../runtime/dev/graph-on-gpu.js';
import { preparePeerInputs } from './peer-inputs.js';

/** What the child prints (one JSON line). */
export interface SmcircFigure {
  spec: string;
  batch: number;
  steps: number;
  adapter: string;
  /** A software adapter (lavapipe): it runs on the CPU, with `threads` llvmpipe threads (LP_NUM_THREADS, else every core). */
  software: boolean;
  threads?: number;
  parameters: number;
  dispatches: number;
  /** Sample routing on (the default; `--no-route` measures without). */
  routed: boolean;
  msPerStep: number;
  msPerStepMin: number;
  msPerStepMax: number;
  firstStepMs: number;
  loadMs: number;
  lossFirstStep: number;
  gradNormFirstStep: number;
  /** Samples DMFD flagged in the first step (state_v / state_a ≥ 1; `both`: state 2). */
  flagged?: { vision: number; audio: number; both: number };
  /** Bytes of the plan's GPU buffers (on a software adapter they live in host memory, inside the RSS). */
  gpuBufferBytes: number;
  peakRssMb: number;
  weights: string;
  data: string;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureSmcirc(spec: string, batch: number, steps: number, outDir: string, tag: string, route = true): Promise<SmcircFigure> {
  const { graph: g, step, routes, params, feeds, weights, data } = preparePeerInputs(spec, batch, outDir, tag, route);
  const ctx = await openGpu();
  try {
    const t0 = performance.now();
    const gs = await GpuTrainStep.create(ctx, step, { mode: 'fused', routes });
    const loadMs = performance.now() - t0;
    gs.feed(feeds);
    gs.feed(initTrainState(step, params));
    // the first step reads the DMFD states too, where the plan keeps them as outputs
    const states = ['state_v', 'state_a'].filter((o) => o in gs.gpu.program.abi.outputs);
    const t1 = performance.now();
    const first = await gs.gpu.run([LOSS_OUTPUT, GRAD_NORM_OUTPUT, ...states]);
    const firstStepMs = performance.now() - t1;
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await gs.run();
      times.push(performance.now() - t);
    }
    const sv = first.get('state_v');
    const sa = first.get('state_a');
    const count = (a: Float32Array, f: (x: number) => boolean): number => a.reduce((n, x) => n + (f(x) ? 1 : 0), 0);
    const a = ctx.adapter;
    const fig: SmcircFigure = {
      spec, batch, steps,
      adapter: `${a.description || a.device} (${a.vendor}${a.isSoftware ? ', software' : ''})`,
      software: a.isSoftware,
      ...(a.isSoftware ? { threads: Number(process.env.LP_NUM_THREADS) || availableParallelism() } : {}),
      parameters: g.params.reduce((n, p) => n + numel(p.shape), 0),
      dispatches: gs.gpu.plan.dispatches.length,
      routed: routes.length > 0,
      msPerStep: median(times),
      msPerStepMin: Math.min(...times),
      msPerStepMax: Math.max(...times),
      firstStepMs,
      loadMs,
      lossFirstStep: first.get(LOSS_OUTPUT)![0]!,
      gradNormFirstStep: first.get(GRAD_NORM_OUTPUT)![0]!,
      ...(sv && sa ? { flagged: { vision: count(sv, (x) => x >= 1), audio: count(sa, (x) => x >= 1), both: count(sv, (x) => x >= 2) } } : {}),
      gpuBufferBytes: gs.gpu.plan.buffers.reduce((n, b) => n + b.bytes, 0),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      weights,
      data,
    };
    gs.destroy();
    return fig;
  } finally {
    ctx.destroy();
  }
}

function parseArgs(argv: string[]): { spec: string; batch: number; steps: number; out: string; route: boolean } {
  const get = (k: string): string => {
    const i = argv.indexOf(k);
    if (i < 0 || argv[i + 1] === undefined) throw new Error(`peer-smcirc: ${k} is required`);
    return argv[i + 1]!;
  };
  const int = (k: string): number => {
    const n = Number(get(k));
    if (!Number.isInteger(n) || n < 1) throw new Error(`peer-smcirc: ${k} must be a whole number ≥ 1`);
    return n;
  };
  const spec = argv[0];
  if (!spec || spec.startsWith('--')) throw new Error('usage: node dist/bench/peer-smcirc.js <spec> --batch N --steps S --out DIR');
  return { spec, batch: int('--batch'), steps: int('--steps'), out: get('--out'), route: !argv.includes('--no-route') };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs(process.argv.slice(2));
  const tag = `${a.spec.replace(/^.*\//, '').replace(/\.smcir$/, '')}-b${a.batch}`;
  measureSmcirc(a.spec, a.batch, a.steps, a.out, tag, a.route).then(
    (fig) => process.stdout.write(`${JSON.stringify(fig)}\n`),
    (e: unknown) => {
      const err = e as Error & { format?: () => string };
      process.stderr.write(`peer-smcirc: ${typeof err.format === 'function' ? err.format() : err.message}\n`);
      process.exit(1);
    },
  );
}
