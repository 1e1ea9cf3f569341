// GPU matmul template against the JS reference: every load mode (vec4 along k/m/n, scalar), odd shapes,
// batched + broadcast batches, fused epilogues (scale, bias, activation, residual, accumulate), naive baseline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatmulKernel } from '../../compiler/kernels/ir.js';
import { chooseMatmulVariant } from '../../compiler/kernels/wgsl-matmul.js';
import { expectClose, noGpuReason, openTestGpu, randn, runOnGpu, runReference, tensorsFor, type Gpu } from './harness.js';

/** C = A·B with A [b, M, K] (or its transpose stored [b, K, M]) and B [b, K, N] (or stored [b, N, K]). */
function mm(name: string, batch: number, M: number, N: number, K: number, tA: boolean, tB: boolean, extra: Partial<MatmulKernel> = {}): MatmulKernel {
  return {
    kind: 'matmul',
    name,
    batch: [1, batch],
    M, N, K,
    inputs: [{ name: 'A', size: batch * M * K }, { name: 'B', size: batch * K * N }, { name: 'bias', size: Math.max(M, N) }, { name: 'res', size: batch * M * N }],
    a: tA ? { input: 0, offset: 0, batchStrides: [0, M * K], rowStride: 1, colStride: M } : { input: 0, offset: 0, batchStrides: [0, M * K], rowStride: K, colStride: 1 },
    b: tB ? { input: 1, offset: 0, batchStrides: [0, K * N], rowStride: 1, colStride: K } : { input: 1, offset: 0, batchStrides: [0, K * N], rowStride: N, colStride: 1 },
    output: { name: 'C', size: batch * M * N },
    ...extra,
  };
}

describe.skipIf(!!noGpuReason)('matmul template on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  async function check(k: MatmulKernel, opts: { naive?: boolean; initC?: boolean } = {}): Promise<void> {
    const inputs: Record<string, Float32Array> = {
      A: randn(k.inputs[0]!.size, 11), B: randn(k.inputs[1]!.size, 12), bias: randn(k.inputs[2]!.size, 13), res: randn(k.inputs[3]!.size, 14),
    };
    if (opts.initC) inputs.C = randn(k.output.size, 15);
    const got = await runOnGpu(gpu, { tensors: tensorsFor([k]), kernels: [k] }, inputs, ['C'], { lower: { naiveMatmul: opts.naive } });
    const want = runReference([k], inputs);
    expectClose(got.get('C'), want.get('C'), 1e-4, 1e-4, k.name);
  }

  it('picks vec4 loads along the contiguous axis', () => {
    const v = (k: MatmulKernel) => { const x = chooseMatmulVariant(k, gpu.cfg); return `${x.aMode}/${x.bMode}`; };
    expect(v(mm('nn', 1, 8, 8, 8, false, false))).toBe('k4/n4');
    expect(v(mm('tn', 1, 8, 8, 8, true, false))).toBe('m4/n4');
    expect(v(mm('nt', 1, 8, 8, 8, false, true))).toBe('k4/k4');
    expect(v(mm('odd', 1, 7, 9, 5, false, false))).toBe('scalar/scalar');
  });

  it('A·B, batched, with bias + gelu + residual fused (k4/n4)', async () => {
    await check(mm('linear.fwd', 2, 12, 24, 16, false, false, { bias: { input: 2, offset: 0, along: 'n' }, activation: 'gelu', residual: { input: 3, offset: 0 } }));
  });

  it('Aᵀ·B (weight gradient, m4) and A·Bᵀ (x·Wᵀ, k4) with scale and a per-row bias', async () => {
    await check(mm('dW', 1, 16, 20, 28, true, false, { scale: 0.5 }));
    await check(mm('xWt', 3, 9, 16, 12, false, true, { bias: { input: 2, offset: 0, along: 'm' }, activation: 'tanh' }));
  });

  it('odd shapes (scalar loads, K tail, partial tiles), accumulate into C, sigmoid/relu', async () => {
    await check(mm('odd', 2, 7, 9, 5, false, false, { activation: 'sigmoid' }));
    await check(mm('odd.acc', 1, 5, 6, 3, true, true, { accumulate: true, activation: 'relu' }), { initC: true });
    const part = mm('part', 1, 4, 8, 4, false, false, { outputOffset: 12 });
    part.output = { name: 'C', size: 12 + 32 + 4 };
    await check(part);
  });

  it('broadcast batch (stride 0) and the naive one-invocation-per-output baseline', async () => {
    const k = mm('bcast', 3, 8, 12, 8, false, false);
    k.b = { ...k.b, batchStrides: [0, 0] };
    await check(k);
    await check(mm('naive', 2, 6, 10, 7, false, true), { naive: true });
  });
});
