// GPU routines against the JS reference: LSTM recurrence (forward, backward, both directions), DMFD histograms,
// global-norm clipping + Adam over a parameter arena for several steps, and bit-identical repeat runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel, OptimizerLayout } from '../../compiler/kernels/ir.js';
import { adamKernels, lstmPair } from './fixtures.js';
import { optimizerBlocks } from '../../compiler/kernels/wgsl-optimizer.js';
import { expectClose, noGpuReason, openTestGpu, randn, rng, runOnGpu, runReference, tensorsFor, type Gpu } from './harness.js';

describe.skipIf(!!noGpuReason)('routines on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  it('BiLSTM layer: forward and backward of both directions in one plan', async () => {
    const [B, T, H] = [3, 5, 8];
    const [f1, b1] = lstmPair(B, T, H, false, 'f');
    const [f2, b2] = lstmPair(B, T, H, true, 'r');
    const kernels: Kernel[] = [f1, f2, b1, b2];
    const inputs = {
      xproj: randn(B * T * 8 * H, 21), 'whh.f': randn(4 * H * H, 22, 0.4), 'whh.r': randn(4 * H * H, 23, 0.4),
      'dout.f': randn(B * T * 2 * H, 24), 'dout.r': randn(B * T * 2 * H, 25),
    };
    const outs = ['hc.f', 'hc.r', 'g.f', 'dg.f', 'dg.r'];
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, outs);
    const want = runReference(kernels, inputs);
    for (const o of outs) expectClose(got.get(o), want.get(o), 1e-4, 1e-5, o);
  });

  it('histogram entropy, count-vector MI and joint-histogram MI per sample', async () => {
    const [rows, L, bins] = [6, 200, 30];
    const x = randn(rows * L, 31, 2);
    const y = randn(rows * L, 32);
    x.fill(0, 0, L); // a fully missing sample: entropy 0, one bin
    for (let i = 0; i < L; i++) y[L + i] = x[L + i]! * 0.5 + 0.1; // y a linear function of x in row 1
    const kernels: Kernel[] = [
      { kind: 'hist-entropy', name: 'dmfd.entropy.x', rows, length: L, bins, inputs: [{ name: 'x', size: rows * L }], outputs: [{ name: 'hx', size: rows }, { name: 'cx', size: rows * bins }] },
      { kind: 'hist-entropy', name: 'dmfd.entropy.y', rows, length: L, bins, inputs: [{ name: 'y', size: rows * L }], outputs: [{ name: 'hy', size: rows }, { name: 'cy', size: rows * bins }] },
      { kind: 'count-mi', name: 'dmfd.mi', rows, bins, inputs: [{ name: 'cx', size: rows * bins }, { name: 'cy', size: rows * bins }], outputs: [{ name: 'mi', size: rows }] },
      { kind: 'joint-mi', name: 'dmfd.jmi', rows, length: L, bins, inputs: [{ name: 'x', size: rows * L }, { name: 'y', size: rows * L }], outputs: [{ name: 'jmi', size: rows }, { name: 'jscratch', size: rows * (bins * bins + 2 * bins) }] },
    ];
    const outs = ['hx', 'cx', 'hy', 'mi', 'jmi'];
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, { x, y }, outs);
    const want = runReference(kernels, { x, y });
    expect(Array.from(got.get('cx')!)).toEqual(Array.from(want.get('cx')!)); // counts are exact
    for (const o of outs) expectClose(got.get(o), want.get(o), 1e-4, 1e-5, o);
    expect(got.get('hx')![0]).toBe(0);
  });

  it('global-norm clipping + Adam over an arena with two groups, five steps', async () => {
    // two parameters at 64-element-aligned offsets (gaps stay zero), groups with different lr / weight decay
    const ranges = [{ start: 0, length: 50, group: 0 }, { start: 64, length: 4100, group: 1 }];
    const size = 64 + 4160;
    const layout: OptimizerLayout = { size, blocks: optimizerBlocks(ranges, 1024), groups: [{ lr: 1e-3, weightDecay: 0 }, { lr: 5e-3, weightDecay: 1e-2 }] };
    const kernels = adamKernels(layout, 2);
    const mask = new Float32Array(size);
    for (const r of ranges) mask.fill(1, r.start, r.start + r.length);
    const params = randn(size, 41).map((v, i) => v * mask[i]!);
    const grads = randn(size, 42, 0.3).map((v, i) => v * mask[i]!);
    const tensors = tensorsFor(kernels, { params: 'param', m: 'state', v: 'state', optstate: 'state', partials: 'temp' });
    const got = await runOnGpu(gpu, { tensors, kernels }, { params, grads }, ['params', 'm', 'v', 'optstate'], { steps: 5 });
    const want = runReference(kernels, { params, grads }, 5);
    expectClose(got.get('optstate')!.subarray(0, 5), want.get('optstate')!.subarray(0, 5), 1e-5, 0, 'state');
    expect(got.get('optstate')![1]).toBeLessThan(1); // norm > 2: clipped
    // atol 1e-6: parameters are O(1), so f32 rounding of p − update is ~1e-7 per step, and some end near 0
    for (const o of ['params', 'm', 'v']) expectClose(got.get(o), want.get(o), 1e-4, 1e-6, o);
  });

  it('two runs of the same plan give bit-identical results', async () => {
    const [B, T, H] = [2, 4, 8];
    const [f1, b1] = lstmPair(B, T, H, false, 'f');
    const kernels: Kernel[] = [f1, b1];
    const r = rng(5);
    const inputs = { xproj: randn(B * T * 8 * H, 51), 'whh.f': randn(4 * H * H, 52, 0.4), 'dout.f': randn(B * T * 2 * H, 53 + Math.floor(r() * 0)) };
    const a = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, ['hc.f', 'dg.f']);
    const b = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, ['hc.f', 'dg.f']);
    for (const o of ['hc.f', 'dg.f']) expect(Buffer.from(a.get(o)!.buffer).equals(Buffer.from(b.get(o)!.buffer))).toBe(true);
  });
});
