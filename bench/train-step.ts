// Train-step benchmark: the smcir-tiny step (batch 8) fused vs one kernel per primitive, in one process.
import { numel } from '../compiler/ir/graph.js';
import { checkSpec } from '../compiler/check/index.js';
import { buildTrainStep, initTrainState, trainStepOptionsFromSettings } from '../compiler/train-step.js';
import { initParams } from '../compiler/init.js';
import type { FusionMode } from '../compiler/passes/fusion.js';
import type { GpuContext } from '../runtime/gpu/device.js';
import { GpuTrainStep } from '../runtime/gpu/train-step.js';

export interface StepFigure {
  mode: FusionMode;
  dispatches: number;
  pipelines: number;
  loadMs: number;
  firstStepMs: number;
  msPerStep: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchTrainStep(ctx: GpuContext, spec: string, steps = 10): Promise<StepFigure[]> {
  const r = checkSpec(spec, { withLoss: true, batch: 8, training: false });
  if (!r.ok || !r.graph || !r.settings) throw new Error(`${spec} does not check`);
  const step = buildTrainStep(r.graph, trainStepOptionsFromSettings(r.settings.train, 'loss'));
  const feeds = new Map<string, Float32Array>();
  for (const [name, id] of r.graph.inputs) {
    const n = numel(r.graph.nodes[id]!.shape);
    feeds.set(name, Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + name.length)));
  }
  const state = initTrainState(step, initParams(r.graph.params, 1111));
  const out: StepFigure[] = [];
  for (const mode of ['fused', 'unfused'] as const) {
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
    out.push({ mode, dispatches: gs.gpu.plan.dispatches.length, pipelines: gs.gpu.plan.kernels.length, loadMs, firstStepMs, msPerStep: median(times) });
    gs.destroy();
  }
  return out;
}
