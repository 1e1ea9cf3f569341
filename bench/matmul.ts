// Matmul benchmark: naive (one invocation per output) vs the register-tiled template, GFLOP/s in one process.
import type { GpuContext } from '../runtime/gpu/device.js';
import { Executor } from '../runtime/gpu/executor.js';
import type { MatmulKernel } from '../compiler/kernels/ir.js';
import { lowerKernel } from '../compiler/kernels/lower.js';
import { planLowered } from '../compiler/kernels/plan.js';
import type { KernelConfig } from '../compiler/kernels/select.js';
import { variantName, chooseMatmulVariant } from '../compiler/kernels/wgsl-matmul.js';

export interface MatmulFigure {
  shape: string;
  variant: string;
  gflops: number;
  msPerMatmul: number;
}

function matmul(M: number, K: number, N: number): MatmulKernel {
  return {
    kind: 'matmul',
    name: `bench.mm.${M}x${K}x${N}`,
    batch: [1, 1],
    M, N, K,
    inputs: [{ name: 'A', size: M * K }, { name: 'B', size: K * N }],
    a: { input: 0, offset: 0, batchStrides: [0, 0], rowStride: K, colStride: 1 },
    b: { input: 1, offset: 0, batchStrides: [0, 0], rowStride: N, colStride: 1 },
    output: { name: 'C', size: M * N },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Times `reps` dispatches per submit, `runs` submits after one warm-up; returns the median per matmul. */
async function timeOne(ctx: GpuContext, cfg: KernelConfig, k: MatmulKernel, naive: boolean, reps: number, runs: number): Promise<MatmulFigure> {
  const lk = lowerKernel(k, cfg, { naiveMatmul: naive })[0]!;
  const tensors = [
    { name: 'A', size: k.M * k.K, role: 'input' as const },
    { name: 'B', size: k.K * k.N, role: 'input' as const },
    { name: 'C', size: k.M * k.N, role: 'output' as const },
  ];
  const plan = planLowered(tensors, Array.from({ length: reps }, () => lk), cfg.storageOffsetAlignment);
  const ex = await Executor.load(ctx, plan);
  ex.write('A', Float32Array.from({ length: k.M * k.K }, (_, i) => ((i * 7919) % 13) / 13 - 0.5));
  ex.write('B', Float32Array.from({ length: k.K * k.N }, (_, i) => ((i * 104729) % 17) / 17 - 0.5));
  await ex.step(); // warm-up: JIT
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await ex.step();
    times.push((performance.now() - t0) / reps);
  }
  ex.destroy();
  const ms = median(times);
  const flop = 2 * k.M * k.N * k.K;
  return {
    shape: `${k.M}×${k.K}·${k.K}×${k.N}`,
    variant: naive ? 'naive (1 invocation/output)' : `tiled ${variantName(chooseMatmulVariant(k, cfg))}`,
    gflops: flop / (ms * 1e6),
    msPerMatmul: ms,
  };
}

export async function benchMatmul(ctx: GpuContext, cfg: KernelConfig, quick = false): Promise<MatmulFigure[]> {
  const shapes: [number, number, number][] = [[1024, 1024, 1024], [3200, 128, 512], [3200, 512, 128]];
  const out: MatmulFigure[] = [];
  for (const [M, K, N] of shapes) {
    const k = matmul(M, K, N);
    if (!quick) out.push(await timeOne(ctx, cfg, k, true, 1, 3));
    out.push(await timeOne(ctx, cfg, k, false, 4, quick ? 1 : 5));
  }
  return out;
}
