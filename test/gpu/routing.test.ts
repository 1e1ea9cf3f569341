// Sample routing on the GPU: the forward and train-step programs run each generator only on the flagged samples
// (the kernels' extents lowered on the device from the flagged count, one submit). The routed forward gives the
// unrouted one's predictions, DMFD states and regenerated modalities; the routed train step (dropout on) its loss,
// gradient norm and Adam state; and every routed dispatch stopped at the extent its route's count asks for —
// below the full batch's when fewer samples are flagged, zero when none is.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileModel } from '../../compiler/compile.js';
import { initParams, initTrainState } from '../../runtime/abi/init.js';
import { describeModel } from '../../compiler/bundle/model-abi.js';
import { openBackend } from '../../runtime/backends/index.js';
import type { GpuBackend } from '../../runtime/backends/gpu.js';
import type { Tensors } from '../../runtime/backends/backend.js';
import { makeSyntheticDataset } from '../../runtime/data/index.js';
import { batchTensors } from '../../runtime/train/data-source.js';
import { gpuSkipReason } from '../helpers/gpu-gate.js';

const spec = join(import.meta.dirname, '../../specs/smcir.smcir');
const B = 8;
const TINY = ['T_L=6', 'd_L=8', 'T_V=7', 'd_V=3', 'T_A=5', 'd_A=2', 'hidden1=4', 'hidden2=4', 'num_layers=1', 'transformer_layers=1', 'heads=1', 'out_dim=4', 'head_hidden=4', 'eval.dmfd_stats="batch"', `train.batch_size=${B}`, `eval.batch_size=${B}`];
const skip = await gpuSkipReason('GPU sample-routing test');

function batch(zeroVision: [number, number], zeroAudio: [number, number]): Tensors {
  const ds = makeSyntheticDataset({ seed: 3, nTrain: B, nValid: B, nTest: B, textLen: 6, textDim: 8, visionLen: 7, visionDim: 3, audioLen: 5, audioDim: 2 });
  const b = batchTensors(ds.test, B, 'label');
  b.get('vision')!.fill(0, zeroVision[0] * 21, zeroVision[1] * 21);
  b.get('audio')!.fill(0, zeroAudio[0] * 10, zeroAudio[1] * 10);
  return b;
}

describe.skipIf(!!skip)('sample routing on the GPU', () => {
  let routed: GpuBackend;
  let plain: GpuBackend;
  beforeAll(async () => {
    const model = compileModel(spec, { overrides: TINY, route: false });
    const params = initTrainState(describeModel(model).state, initParams(model.forward.params, 1111));
    routed = (await openBackend('gpu', compileModel(spec, { overrides: TINY }))).backend as GpuBackend;
    plain = (await openBackend('gpu', model)).backend as GpuBackend;
    await routed.setState(params);
    await plain.setState(params);
  });
  afterAll(async () => {
    await routed?.dispose();
    await plain?.dispose();
  });

  test('the forward plan routes both generators; the plain one routes nothing', () => {
    const p = routed.fwd.plan;
    expect(p.routing?.routes).toHaveLength(2);
    const shrunk = p.dispatches.filter((d) => d.routed);
    expect(shrunk.length).toBeGreaterThan(20);
    expect(shrunk.some((d) => /lstm/.test(d.label))).toBe(true);
    expect(plain.fwd.plan.dispatches.some((d) => d.routed)).toBe(false);
  });

  for (const [what, zv, za] of [
    ['two vision and one audio missing', [1, 3], [5, 6]],
    ['nothing missing', [0, 0], [0, 0]],
  ] as const) {
    test(`${what}: the same outputs, and the grids follow the flagged count`, async () => {
      const b = batch(zv as [number, number], za as [number, number]);
      const a = await routed.forward(b, new Map());
      const p = await plain.forward(b, new Map());
      expect([...a.get('state_v')!]).toEqual([...p.get('state_v')!]);
      expect([...a.get('state_a')!]).toEqual([...p.get('state_a')!]);
      for (const k of ['pred', 'vision_hat', 'audio_hat']) {
        const [x, y] = [a.get(k)!, p.get(k)!];
        for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), `${k}[${i}]`).toBeLessThan(1e-4 * (1 + Math.abs(y[i]!)));
      }
      const flagged = ['state_v', 'state_a'].map((s) => [...a.get(s)!].filter((v) => v >= 1).length).sort();
      const plan = routed.fwd.plan;
      const routes = plan.routing!.routes;
      const counts = await routed.fwd.executor.read(routes.map((r) => r.count));
      const byRoute = routes.map((r) => counts.get(r.count)![0]!);
      expect([...byRoute].sort()).toEqual(flagged);
      const bounds = await routed.fwd.executor.routedBounds();
      let smaller = 0;
      plan.dispatches.forEach((d, i) => {
        if (!d.routed) return;
        const want = (d.routed.bound.items / B) * byRoute[d.routed.route]!;
        expect(bounds.get(i), d.label).toBe(want);
        if (want < d.routed.bound.items) smaller++;
      });
      expect(smaller).toBeGreaterThan(0);
      if (flagged.every((f) => f === 0)) for (const b of bounds.values()) expect(b).toBe(0);
    });
  }

  test('train steps with dropout: the same loss, gradient norm and Adam state; grids follow the count', async () => {
    const tp = routed.train.plan;
    expect(tp.routing?.routes).toHaveLength(2);
    expect(tp.dispatches.some((d) => /zero_tail/.test(d.label))).toBe(true); // before the weight gradients
    expect(tp.dispatches.some((d) => d.routed && /backward/.test(d.label))).toBe(true); // backward kernels shrink too
    for (let step = 1; step <= 3; step++) {
      const b = batch([1, 3], [5, 6]);
      const a = await routed.trainStep(b, 100 + step);
      const p = await plain.trainStep(b, 100 + step);
      expect(Math.abs(a.loss - p.loss), `step ${step} loss`).toBeLessThan(1e-5 * (1 + Math.abs(p.loss)));
      expect(Math.abs(a.gradNorm - p.gradNorm) / p.gradNorm, `step ${step} grad norm`).toBeLessThan(1e-4);
      if (step === 1) {
        const [sa, sp] = [await routed.getState(), await plain.getState()];
        let compared = 0;
        for (const [k, v] of sp) {
          if (!k.startsWith('adam.m.')) continue;
          const w = sa.get(k)!;
          for (let i = 0; i < v.length; i++) expect(Math.abs(w[i]! - v[i]!), `${k}[${i}]`).toBeLessThan(1e-7 + 1e-3 * Math.abs(v[i]!));
          compared++;
        }
        expect(compared).toBeGreaterThan(50);
        const routes = tp.routing!.routes;
        const counts = await routed.train.executor.read(routes.map((r) => r.count));
        const bounds = await routed.train.executor.routedBounds();
        tp.dispatches.forEach((d, i) => {
          if (!d.routed) return;
          expect(bounds.get(i), d.label).toBe((d.routed.bound.items / B) * counts.get(routes[d.routed.route]!.count)![0]!);
        });
      }
    }
  });
});
