// Train-step benchmark: the smcir-tiny step (batch 8) fused vs one kernel per primitive, in one process. Fused runs
// clipping + Adam as the `adam_update` routine; the baseline is one kernel per primitive everywhere, the optimizer
// included (optimizer: 'primitives'); unfused with the routine is shown too.
import { numel } from '../compiler/ir/graph.js';
import { checkSpec } from '../compiler/check/index.js';
import { buildTrainStep, initTrainState, trainStepOptionsFromSettings, type TrainStepOptions } from '../compiler/train-step.js';
import { initParams } from '../runtime/abi/init.js';
import type { FusionMode } from '../compiler/passes/fusion.js';
import type { GpuContext } from '../runtime/gpu/device.js';
import { GpuTrainStep } from '../runtime/dev/graph-on-gpu.js';

export interface StepFigure {
  mode: FusionMode;
  optimizer: NonNullable<TrainStepOptions['optimizer']>;
  dispatches: number;
  pipelines: number;
  /** State copies after each step (state not updated in place). */
  copies: number;
  loadMs: number;
  firstStepMs: number;
  msPerStep: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchTrainStep(ctx: GpuContext, spec: string, steps = 10): Promise<StepFigure[]> {
  const r = checkSpec(spec, { withLoss: true, batch: 8, training: false });
  if (!r.ok || !r.graph || !r.settings) throw new Error(`${spec} does not check`);
  const opts = trainStepOptionsFromSettings(r.settings.train, 'loss');
  const built = { routine: buildTrainStep(r.graph, opts), primitives: buildTrainStep(r.graph, { ...opts, optimizer: 'primitives' }) };
  const feeds = new Map<string, Float32Array>();
  for (const [name, id] of r.graph.inputs) {
    const n = numel(r.graph.nodes[id]!.shape);
    feeds.set(name, Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + name.length)));
  }
  const params = initParams(r.graph.params, 1111);
  const out: StepFigure[] = [];
  const rows = [['fused', 'routine'], ['unfused', 'primitives'], ['unfused', 'routine']] as const;
  for (const [mode, optimizer] of rows) {
    const step = built[optimizer];
    const state = initTrainState(step, params);
    const t0 = performance.now();
    const gs = await GpuTrainStep.create(ctx, step, { mode });
    const loadMs = performance.now() - t0;
    gs.feed(feeds);
    gs.feed(state);
    const t1 = performance.now();
    await gs.run();
    const firstStepMs = performance.now() - t1;
    const times: number[] = [];
    for (let s = 0; s < steps; s++) {
      const t = performance.now();
      await gs.run();
      times.push(performance.now() - t);
    }
    out.push({ mode, optimizer, dispatches: gs.gpu.plan.dispatches.length, pipelines: gs.gpu.plan.kernels.length, copies: gs.gpu.lowered.program.copies?.length ?? 0, loadMs, firstStepMs, msPerStep: median(times) });
    gs.destroy();
  }
  return out;
}
