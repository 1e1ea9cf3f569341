// GPU expression kernels (elementwise, broadcast/permute/slice maps, reductions) against the JS reference.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { acc, bin, c, coord, gather, load, sel, un, type ExprKernel, type Kernel } from '../../compiler/kernels/ir.js';
import { selectKernelConfig } from '../../compiler/kernels/select.js';
import { expectClose, noGpuReason, openTestGpu, randn, runOnGpu, runReference, tensorsFor, type Gpu } from './harness.js';

describe.skipIf(!!noGpuReason)('expression kernels on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  async function check(kernels: Kernel[], inputs: Record<string, Float32Array>, outs: string[], rtol = 1e-4, cfg = gpu.cfg): Promise<void> {
    const got = await runOnGpu(gpu, { tensors: tensorsFor(kernels), kernels }, inputs, outs, { cfg });
    const want = runReference(kernels, inputs);
    for (const o of outs) expectClose(got.get(o), want.get(o), rtol, 1e-5, o);
  }

  it('fuses broadcast add, multiply and gelu into one vec4 kernel', async () => {
    // y[b, t, d] = gelu(x[b, t, d] * 2 + bias[d]) over [3, 5, 8]
    const k: ExprKernel = {
      kind: 'expr',
      name: 'mlp.bias_gelu',
      shape: [3, 5, 8],
      inputs: [{ name: 'x', size: 120 }, { name: 'bias', size: 8 }],
      outputs: [{ name: 'y', size: 120, expr: un('gelu', bin('add', bin('mul', load(0, [40, 8, 1]), c(2)), load(1, [0, 0, 1]))) }],
    };
    await check([k], { x: randn(120, 1, 3), bias: randn(8, 2) }, ['y']);
  });

  it('reads through permute and slice maps, pads with a guarded load under select, scalar path', async () => {
    // x [4, 6] → p [7, 3]: p[i, j] = i < 6 ? x[j + 1, i] (transpose of a slice, padded by one row) : -1
    const k: ExprKernel = {
      kind: 'expr',
      name: 'permute_slice_pad',
      shape: [7, 3],
      inputs: [{ name: 'x', size: 24 }],
      outputs: [
        { name: 'p', size: 21, expr: sel(bin('lt', coord(0), c(6)), { k: 'load', input: 0, map: { offset: 6, strides: [1, 6], clamp: true } }, c(-1)) },
        { name: 'q', size: 21, expr: bin('add', un('tanh', c(0.3)), bin('mul', un('sigmoid', coord(1)), un('erf', bin('mul', coord(0), c(0.2))))) },
      ],
    };
    await check([k], { x: randn(24, 3, 4) }, ['p', 'q']);
  });

  it('softmax as one kernel: max stage, sum-of-exp stage, full epilogue', async () => {
    const R = 12;
    const xv = load(0, [R, 1]);
    const e = un('exp', bin('sub', xv, acc(0)));
    const k: ExprKernel = {
      kind: 'expr',
      name: 'attn.softmax',
      shape: [5],
      inputs: [{ name: 'x', size: 5 * R }],
      reduce: { size: R, stages: [{ op: 'max', prologue: xv }, { op: 'sum', prologue: e }] },
      outputs: [
        { name: 'y', size: 5 * R, at: 'full', expr: bin('div', e, acc(1)) },
        { name: 'lse', size: 5, expr: bin('add', acc(0), un('log', acc(1))) },
      ],
    };
    await check([k], { x: randn(5 * R, 4, 5) }, ['y', 'lse']);
  });

  it('layernorm as one kernel (mean, variance, normalise with gamma/beta), odd width uses scalar loops', async () => {
    for (const D of [16, 7]) {
      const xv = load(0, [D, 1]);
      const mean = bin('mul', acc(0), c(1 / D));
      const cen = bin('sub', xv, mean);
      const k: ExprKernel = {
        kind: 'expr',
        name: `ln${D}`,
        shape: [6],
        inputs: [{ name: 'x', size: 6 * D }, { name: 'g', size: D }, { name: 'b', size: D }],
        reduce: { size: D, stages: [{ op: 'sum', prologue: xv }, { op: 'sum', prologue: un('square', cen) }] },
        outputs: [
          {
            name: 'y',
            size: 6 * D,
            at: 'full',
            expr: bin('add', bin('mul', bin('mul', cen, un('rsqrt', bin('add', bin('mul', acc(1), c(1 / D)), c(1e-5)))), load(1, [0, 1])), load(2, [0, 1])),
          },
        ],
      };
      await check([k], { x: randn(6 * D, 5 + D, 2), g: randn(D, 6), b: randn(D, 7) }, ['y']);
    }
  });

  it('row sums over a permuted axis, and the workgroup-reduction variant agrees', async () => {
    // s[j] = Σ_i x[i, j] over x [10, 3]; m[j] = max_i x[i, j] (-inf init from bits)
    const k: ExprKernel = {
      kind: 'expr',
      name: 'colsum',
      shape: [3],
      inputs: [{ name: 'x', size: 30 }],
      reduce: { size: 10, stages: [{ op: 'sum', prologue: load(0, [1, 3]) }, { op: 'max', prologue: load(0, [1, 3]) }] },
      outputs: [{ name: 's', size: 3, expr: acc(0) }, { name: 'm', size: 3, expr: bin('max', acc(1), c(-Infinity)) }],
    };
    const x = randn(30, 8);
    await check([k], { x }, ['s', 'm']);
    const wgCfg = { ...selectKernelConfig({ ...gpu.ctx.adapter, isSoftware: false }), maxStorageBuffers: gpu.cfg.maxStorageBuffers };
    const k2: ExprKernel = { ...k, name: 'colsum.wg' };
    await check([k2], { x }, ['s', 'm'], 1e-4, wgCfg);
  });

  it('reduces over two non-adjacent axes into a part of a larger tensor (offset), both variants', async () => {
    // s[j] = Σ_{a,c} x[a, j, c] * 2 over x [3, 5, 8]; written at offset 6 of a 16-element tensor
    const k: ExprKernel = {
      kind: 'expr',
      name: 'sum02',
      shape: [5],
      inputs: [{ name: 'x', size: 120 }],
      reduce: { size: 24, dims: [3, 8], stages: [{ op: 'sum', prologue: bin('mul', load(0, [8, 40, 1]), c(2)) }] },
      outputs: [{ name: 's', size: 16, offset: 6, expr: acc(0) }, { name: 'y', size: 125, offset: 5, at: 'full', expr: bin('sub', load(0, [8, 40, 1]), acc(0)) }],
    };
    const x = randn(120, 10);
    await check([k], { x }, ['s', 'y']);
    const wgCfg = { ...selectKernelConfig({ ...gpu.ctx.adapter, isSoftware: false }), maxStorageBuffers: gpu.cfg.maxStorageBuffers };
    await check([{ ...k, name: 'sum02.wg' }], { x }, ['s', 'y'], 1e-4, wgCfg);
  });

  it('gathers rows (embedding lookup) with clamped indices, and tests NaN by bits', async () => {
    // out[t, d] = table[ids[t], d]; ids includes an out-of-range index (clamped); isnan(0/0-free) = 0
    const k: ExprKernel = {
      kind: 'expr',
      name: 'embed.gather',
      shape: [4, 8],
      inputs: [{ name: 'ids', size: 4 }, { name: 'table', size: 40 }],
      outputs: [
        { name: 'e', size: 32, expr: gather(1, bin('add', bin('mul', load(0, [1, 0]), c(8)), coord(1))) },
        { name: 'n', size: 32, expr: un('isnan', bin('mul', c(NaN), coord(1))) },
      ],
    };
    await check([k], { ids: Float32Array.from([2, 0, 4, 1]), table: randn(40, 9) }, ['e', 'n']);
  });
});
