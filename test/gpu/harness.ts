// Test harness for GPU kernel tests: one device per file, skip with a printed reason when there is no adapter
// (fail under SMCIRC_REQUIRE_GPU=1),
// seeded random data, plan + execute helpers, closeness checks against the JS reference.
import { expect } from 'vitest';
import { openGpu, type GpuContext } from '../../runtime/gpu/device.js';
import { gpuSkipReason } from '../helpers/gpu-gate.js';
import { Executor } from '../../runtime/gpu/executor.js';
import { buildDispatchPlan, type KernelProgram, type ProgramTensor } from '../../compiler/kernels/plan.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import type { Kernel } from '../../compiler/kernels/ir.js';
import { evalKernel, type TensorEnv } from '../../compiler/kernels/reference.js';
import type { LowerOptions } from '../../compiler/kernels/lower.js';

export const noGpuReason = await gpuSkipReason('GPU tests');

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

export interface Gpu {
  ctx: GpuContext;
  cfg: KernelConfig;
}

export async function openTestGpu(): Promise<Gpu> {
  const ctx = await openGpu();
  return { ctx, cfg: selectKernelConfig(ctx.adapter) };
}

/** Declares every buffer the kernels touch: names in `inputs` are inputs, `state` ones read-write state, the rest outputs. */
export function tensorsFor(kernels: Kernel[], roles: Record<string, ProgramTensor['role']> = {}): ProgramTensor[] {
  const seen = new Map<string, ProgramTensor>();
  for (const k of kernels) {
    const ins = k.inputs;
    const outs = k.kind === 'expr' ? k.outputs : k.kind === 'matmul' ? [k.output] : k.outputs;
    for (const b of ins) if (!seen.has(b.name)) seen.set(b.name, { name: b.name, size: b.size, role: roles[b.name] ?? 'input' });
    for (const b of outs) if (!seen.has(b.name)) seen.set(b.name, { name: b.name, size: b.size, role: roles[b.name] ?? 'output' });
  }
  return [...seen.values()];
}

/** Runs kernels on the GPU (one plan, one step) and returns the named tensors. */
export async function runOnGpu(
  gpu: Gpu,
  program: KernelProgram,
  inputs: Record<string, Float32Array>,
  read: string[],
  opts: { lower?: LowerOptions; cfg?: KernelConfig; steps?: number } = {},
): Promise<Map<string, Float32Array>> {
  const plan = buildDispatchPlan(program, opts.cfg ?? gpu.cfg, opts.lower);
  const ex = await Executor.load(gpu.ctx, plan);
  try {
    for (const [n, v] of Object.entries(inputs)) ex.write(n, v);
    let out = new Map<string, Float32Array>();
    for (let s = 0; s < (opts.steps ?? 1); s++) out = await ex.step(s === (opts.steps ?? 1) - 1 ? read : []);
    return out;
  } finally {
    ex.destroy();
  }
}

/** Evaluates the kernels with the JS reference. */
export function runReference(kernels: Kernel[], inputs: Record<string, Float32Array>, steps = 1): TensorEnv {
  const env: TensorEnv = new Map(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v)]));
  for (let s = 0; s < steps; s++) for (const k of kernels) evalKernel(k, env);
  return env;
}

/** |a − e| ≤ atol + rtol·|e| elementwise, with the first offender in the message. */
export function expectClose(actual: Float32Array | undefined, expected: Float32Array | undefined, rtol = 1e-4, atol = 1e-5, what = ''): void {
  expect(actual, `${what}: missing actual`).toBeDefined();
  expect(expected, `${what}: missing expected`).toBeDefined();
  expect(actual!.length, `${what}: length`).toBe(expected!.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual!.length; i++) {
    const a = actual![i]!;
    const e = expected![i]!;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual![worst]}, expected ${expected![worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
