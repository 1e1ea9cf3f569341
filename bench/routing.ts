// Sample-routing benchmark: the same spec compiled with and without routing (`--no-route`), on one batch in which
// some samples lose vision or audio so that DMFD flags them; median train-step and forward times, and how many
// samples each route ran on (read back from the device).
import { compileModel } from '../compiler/compile.js';
import { describeModel } from '../compiler/bundle/model-abi.js';
import { initParams, initTrainState } from '../runtime/abi/init.js';
import type { GpuBackend } from '../runtime/backends/gpu.js';
import { openBackend } from '../runtime/backends/index.js';
import type { Tensors } from '../runtime/backends/backend.js';

export interface RoutingFigure {
  routed: boolean;
  /** Samples each route ran on (vision, audio order of the plan), of the batch. */
  counts: number[];
  trainMs: number;
  forwardMs: number;
  dispatches: { train: number; routed: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A deterministic batch for the spec's inputs; the first `missing` samples lose vision, the next ones audio. */
function batchFor(inputs: Map<string, number[]>, B: number, missing: number): Tensors {
  const out: Tensors = new Map();
  for (const [name, shape] of inputs) {
    const per = shape.reduce((a, b) => a * b, 1);
    const v = Float32Array.from({ length: B * per }, (_, i) => Math.sin(i * 0.37 + name.length) * (name === 'label' ? 3 : 1));
    if (name === 'vision') v.fill(0, 0, missing * per);
    if (name === 'audio') v.fill(0, missing * per, 2 * missing * per);
    out.set(name, v);
  }
  return out;
}

export async function benchRouting(spec: string, overrides: string[], missing: number, steps: number): Promise<RoutingFigure[]> {
  const out: RoutingFigure[] = [];
  for (const routed of [false, true]) {
    const model = compileModel(spec, { overrides: [...overrides, 'eval.dmfd_stats="batch"'], route: routed });
    const B = model.settings.train.batch_size;
    const batch = batchFor(model.inputs, B, missing);
    const { backend: b } = await openBackend('gpu', model);
    const backend = b as GpuBackend;
    await backend.setState(initTrainState(describeModel(model).state, initParams(model.forward.params, 1111)));
    await backend.trainStep(batch, 1); // compiles the pipelines
    await backend.forward(batch, new Map());
    const train: number[] = [];
    const fwd: number[] = [];
    for (let s = 0; s < steps; s++) {
      let t = performance.now();
      await backend.trainStep(batch, 2 + s);
      train.push(performance.now() - t);
      t = performance.now();
      await backend.forward(batch, new Map());
      fwd.push(performance.now() - t);
    }
    const plan = backend.train.plan;
    const routes = plan.routing?.routes ?? [];
    const counts = [...(await backend.train.executor.read(routes.map((r) => r.count))).values()].map((v) => v[0]!);
    out.push({
      routed, counts, trainMs: median(train), forwardMs: median(fwd),
      dispatches: { train: plan.dispatches.length, routed: plan.dispatches.filter((d) => d.routed).length },
    });
    await backend.dispose();
  }
  return out;
}
