// GPU routines against the JS reference: LSTM recurrence (forward, backward, both directions), DMFD histograms,
// global-norm clipping + Adam over a parameter arena for several steps, and bit-identical repeat runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel, OptimizerLayout } from '../../compiler/kernels/ir.js';
import { adamKernels, arenaSize, lstmKernels, lstmPair, packWhh } from './fixtures.js';
import type { KernelConfig } from '../../compiler/kernels/select.js';
import { optimizerLayout } from '../../compiler/kernels/wgsl-optimizer.js';
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
    const [wf, wr] = [randn(4 * H * H, 22, 0.4), randn(4 * H * H, 23, 0.4)];
    const inputs = {
      xproj: randn(B * T * 8 * H, 21), 'whh.f.0': wf, 'whh.r.0': wr, 'whhp.f': packWhh([wf], H), 'whhp.r': packWhh([wr], H),
      'dout.f': randn(B * T * 2 * H, 24), 'dout.r': randn(B * T * 2 * H, 25),
    };
    const outs = ['hc.f', 'hc.r', 'g.f', 'dg.f', 'dg.r'];
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, outs);
    const want = runReference(kernels, inputs);
    for (const o of outs) expectClose(got.get(o), want.get(o), 1e-4, 1e-5, o);
  });

  // Both directions as two lanes of one dispatch (workgroup_id.z), under every kernel variant: the software one
  // (the backward's dh from the packed W_hh), the hardware one (W_hh row by row, up to 256 invocations), the
  // global-memory fallback, and a width that leaves invocations several units (H > workgroup). The lanes' weights, inputs
  // and output gradients differ, so a lane reading the other's data or running the wrong way fails; the two-lane
  // result must equal the one-direction kernels' too.
  it('both directions in one dispatch match the reference and the one-direction kernels, in every variant', async () => {
    const soft = gpu.cfg;
    const variants: [string, KernelConfig][] = [
      ['adapter', soft],
      ...(soft.lstm.backward === 'packed' ? [] : [['software', { ...soft, lstm: { workgroup: 64, granule: 8, backward: 'packed' } }] as [string, KernelConfig]]),
      ['hardware', { ...soft, lstm: { workgroup: 256, granule: 32, backward: 'rows' } }],
      ['global memory, packed', { ...soft, lstm: { workgroup: 16, granule: 8, backward: 'packed' }, maxWorkgroupStorage: 16 }],
      ['global memory, rows', { ...soft, lstm: { workgroup: 16, granule: 8, backward: 'rows' }, maxWorkgroupStorage: 16 }],
    ];
    for (const [B, T, H] of [[3, 5, 8], [2, 3, 80]] as const) {
      const [fwd, bwd] = lstmKernels(B, T, H, [false, true], 'bi');
      const [f1, b1] = lstmPair(B, T, H, false, 'f');
      const [f2, b2] = lstmPair(B, T, H, true, 'r');
      const [w0, w1] = [randn(4 * H * H, 32, 0.4), randn(4 * H * H, 33, 0.3).map((x) => x - 0.05)];
      const dout = randn(B * T * 4 * H, 34);
      // one-direction dOut [B, T, 2H] from the packed [h_0 | h_1 | c_0 | c_1]
      const part = (l: number): Float32Array => {
        const o = new Float32Array(B * T * 2 * H);
        for (let i = 0; i < B * T; i++) for (let j = 0; j < H; j++) {
          o[i * 2 * H + j] = dout[i * 4 * H + l * H + j]!;
          o[i * 2 * H + H + j] = dout[i * 4 * H + (2 + l) * H + j]!;
        }
        return o;
      };
      const inputs = {
        xproj: randn(B * T * 8 * H, 31).map((x, i) => (i % (8 * H) < 4 * H ? x : 2 * x + 0.3)),
        'whh.bi.0': w0, 'whh.bi.1': w1, 'whhp.bi': packWhh([w0, w1], H), 'dout.bi': dout,
        'whh.f.0': w0, 'whh.r.0': w1, 'whhp.f': packWhh([w0], H), 'whhp.r': packWhh([w1], H), 'dout.f': part(0), 'dout.r': part(1),
      };
      const kernels: Kernel[] = [fwd, bwd, f1, f2, b1, b2];
      const want = runReference(kernels, inputs);
      // the reference's two lanes are the reference's two directions
      for (let l = 0; l < 2; l++) {
        const one = want.get(l ? 'dg.r' : 'dg.f')!;
        expect(Array.from(want.get('dg.bi')!.subarray(l * one.length, (l + 1) * one.length))).toEqual(Array.from(one));
      }
      for (const [name, cfg] of variants) {
        const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, ['hc.bi', 'g.bi', 'dg.bi', 'hc.f', 'hc.r', 'dg.f', 'dg.r'], { cfg });
        const what = `${name} B ${B} T ${T} H ${H}`;
        for (const o of ['hc.bi', 'g.bi', 'dg.bi', 'dg.f', 'dg.r']) expectClose(got.get(o), want.get(o), 1e-4, 1e-5, `${what}: ${o}`);
        // lane l of the merged dispatch = the one-direction kernel (same arithmetic, same order: bit for bit)
        const hc = got.get('hc.bi')!;
        for (let i = 0; i < B * T; i++) for (let j = 0; j < H; j++) {
          for (const [l, one] of [[0, got.get('hc.f')!], [1, got.get('hc.r')!]] as const) {
            if (hc[i * 4 * H + l * H + j] !== one[i * 2 * H + j] || hc[i * 4 * H + (2 + l) * H + j] !== one[i * 2 * H + H + j]) {
              expect.fail(`${what}: lane ${l} differs from its one-direction kernel at step ${i} unit ${j}`);
            }
          }
        }
        const dg = got.get('dg.bi')!;
        expect(Buffer.from(dg.buffer).equals(Buffer.from(new Float32Array([...got.get('dg.f')!, ...got.get('dg.r')!]).buffer)), `${what}: dgates by lane`).toBe(true);
      }
    }
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

  it('global-norm clipping + Adam over an arena with two groups and an unused parameter, five steps', async () => {
    // parameters at 64-element-aligned offsets (gaps stay zero), groups with different lr / weight decay; the
    // third parameter's gradient is all zero: it is skipped (value, m, v and step count unchanged)
    const ranges = [{ start: 0, length: 50, group: 0 }, { start: 64, length: 4100, group: 1 }, { start: 4224, length: 30, group: 1 }];
    const size = 4288;
    const layout: OptimizerLayout = optimizerLayout(size, ranges, [{ lr: 1e-3, weightDecay: 0 }, { lr: 5e-3, weightDecay: 1e-2 }], 1024);
    const kernels = adamKernels(layout, 2);
    const mask = new Float32Array(size);
    for (const r of ranges) mask.fill(1, r.start, r.start + r.length);
    const arena = new Float32Array(arenaSize(layout));
    arena.set(randn(size, 41).map((v, i) => v * mask[i]!));
    const grads = randn(size, 42, 0.3).map((v, i) => (i < 4224 ? v * mask[i]! : 0));
    const tensors = tensorsFor(kernels, { arena: 'state', partials: 'temp', coefs: 'temp' });
    const got = await runOnGpu(gpu, { tensors, kernels }, { arena, grads }, ['arena', 'coefs'], { steps: 5 });
    const want = runReference(kernels, { arena, grads }, 5);
    expect(got.get('coefs')![0]).toBeLessThan(1); // norm > 2: clipped
    expectClose(got.get('coefs'), want.get('coefs'), 1e-5, 0, 'coefficients');
    const a = got.get('arena')!;
    expect(Array.from(a.subarray(3 * size, 3 * size + 3))).toEqual([5, 5, 0]);
    expectClose(a.subarray(3 * size + 3, 3 * size + 4), want.get('arena')!.subarray(3 * size + 3, 3 * size + 4), 1e-5, 0, 'norm');
    for (const r of [ranges[2]!]) expect(Array.from(a.subarray(r.start, r.start + r.length))).toEqual(Array.from(arena.subarray(r.start, r.start + r.length)));
    // atol 1e-6: parameters are O(1), so f32 rounding of p − update is ~1e-7 per step, and some end near 0
    expectClose(a.subarray(0, 3 * size), want.get('arena')!.subarray(0, 3 * size), 1e-4, 1e-6, 'params, m, v');
  });

  it('two runs of the same plan give bit-identical results', async () => {
    const [B, T, H] = [2, 4, 8];
    const [f1, b1] = lstmPair(B, T, H, false, 'f');
    const kernels: Kernel[] = [f1, b1];
    const r = rng(5);
    const w = randn(4 * H * H, 52, 0.4);
    const inputs = { xproj: randn(B * T * 8 * H, 51), 'whh.f.0': w, 'whhp.f': packWhh([w], H), 'dout.f': randn(B * T * 2 * H, 53 + Math.floor(r() * 0)) };
    const a = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, ['hc.f', 'dg.f']);
    const b = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, ['hc.f', 'dg.f']);
    for (const o of ['hc.f', 'dg.f']) expect(Buffer.from(a.get(o)!.buffer).equals(Buffer.from(b.get(o)!.buffer))).toBe(true);
  });
});
