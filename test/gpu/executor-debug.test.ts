// Executor debug switches: WGSL dump folder, per-kernel timings (timestamp queries or wall time), and the
// fatal-error path that names the kernel.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, c, load, type ExprKernel } from '../../compiler/kernels/ir.js';
import { buildDispatchPlan } from '../../compiler/kernels/plan.js';
import { Executor } from '../../runtime/gpu/executor.js';
import { GpuError } from '../../runtime/gpu/errors.js';
import { noGpuReason, openTestGpu, tensorsFor, type Gpu } from './harness.js';

const k1: ExprKernel = {
  kind: 'expr', name: 'dbg.double', shape: [64],
  inputs: [{ name: 'x', size: 64 }], outputs: [{ name: 'y', size: 64, expr: bin('mul', load(0, [1]), c(2)) }],
};
const k2: ExprKernel = {
  kind: 'expr', name: 'dbg.inc', shape: [64],
  inputs: [{ name: 'y', size: 64 }], outputs: [{ name: 'z', size: 64, expr: bin('add', load(0, [1]), c(1)) }],
};

describe.skipIf(!!noGpuReason)('executor debug switches', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  it('dumps every kernel as WGSL and times each dispatch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-wgsl-'));
    const plan = buildDispatchPlan({ tensors: tensorsFor([k1, k2]), kernels: [k1, k2] }, gpu.cfg);
    const ex = await Executor.load(gpu.ctx, plan, { dumpWgslDir: dir });
    try {
      const files = readdirSync(dir).sort();
      expect(files).toEqual(['000-dbg.double.wgsl', '001-dbg.inc.wgsl']);
      expect(readFileSync(join(dir, files[0]!), 'utf8')).toContain('kernel dbg.double');
      ex.write('x', Float32Array.from({ length: 64 }, (_, i) => i));
      const t = await ex.profile();
      expect(t.map((x) => x.label)).toEqual(['dbg.double', 'dbg.inc']);
      expect(t.every((x) => x.ms >= 0 && x.source === (gpu.ctx.hasTimestamps ? 'timestamp' : 'wall'))).toBe(true);
      const out = await ex.read(['z']);
      expect(out.get('z')![5]).toBe(11);
    } finally {
      ex.destroy();
    }
  });

  it('a WGSL compile error is a GpuError naming the kernel', async () => {
    const plan = buildDispatchPlan({ tensors: tensorsFor([k1]), kernels: [k1] }, gpu.cfg);
    plan.kernels[0]!.wgsl = plan.kernels[0]!.wgsl.replace('fn main', 'fn main_broken() {}\nfn main') + '\nthis is not wgsl';
    plan.kernels[0]!.hash = 'broken';
    const err = await Executor.load(gpu.ctx, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).code).toBe('SMC4011');
    expect((err as GpuError).message).toContain('dbg.double');
    gpu.ctx.pipelineCache.delete('broken');
  });
});
