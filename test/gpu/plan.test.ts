// Memory plan (liveness reuse, aliases), dispatch plan (kernel dedup, constants), validator limits (CPU only).
import { describe, expect, it } from 'vitest';
import { bin, load, type ExprKernel } from '../../compiler/kernels/ir.js';
import { planMemory } from '../../compiler/kernels/memory-plan.js';
import { buildDispatchPlan } from '../../compiler/kernels/plan.js';
import { SOFTWARE_DEFAULTS, selectKernelConfig } from '../../compiler/kernels/select.js';
import { validateKernel } from '../../compiler/kernels/validate.js';
import { KernelError } from '../../compiler/kernels/errors.js';

const cfg = selectKernelConfig(SOFTWARE_DEFAULTS);
const add = (name: string, a: string, b: string, out: string, n = 64): ExprKernel => ({
  kind: 'expr', name, shape: [n],
  inputs: [{ name: a, size: n }, { name: b, size: n }],
  outputs: [{ name: out, size: n, expr: bin('add', load(0, [1]), load(1, [1])) }],
});

describe('memory plan', () => {
  it('reuses a temporary buffer once its last reader has run, never within one dispatch', () => {
    const plan = planMemory([
      { name: 't0', bytes: 256, pinned: false, first: 0, last: 1 },
      { name: 't1', bytes: 256, pinned: false, first: 1, last: 2 },
      { name: 't2', bytes: 128, pinned: false, first: 2, last: 3 },
      { name: 't3', bytes: 512, pinned: false, first: 3, last: 3 },
      { name: 'p', bytes: 64, pinned: true, first: 0, last: 3 },
    ]);
    const at = (n: string) => plan.place.get(n)!.buffer;
    expect(at('t2')).toBe(at('t0')); // t0 dead after dispatch 1
    expect(at('t1')).not.toBe(at('t0'));
    expect(at('t3')).toBe(at('t1')); // grown to 512
    expect(plan.buffers[at('t1')]!.bytes).toBe(512);
    expect(plan.buffers).toHaveLength(3);
  });

  it('places aliases inside their arena at aligned offsets and rejects misaligned ones', () => {
    const plan = planMemory([
      { name: 'arena', bytes: 1024, pinned: true, first: 0, last: 0 },
      { name: 'w', bytes: 200, pinned: true, alias: { of: 'arena', byteOffset: 256 }, first: 0, last: 0 },
    ]);
    expect(plan.place.get('w')).toEqual({ buffer: plan.place.get('arena')!.buffer, byteOffset: 256 });
    expect(() => planMemory([
      { name: 'arena', bytes: 1024, pinned: true, first: 0, last: 0 },
      { name: 'w', bytes: 4, pinned: true, alias: { of: 'arena', byteOffset: 100 }, first: 0, last: 0 },
    ])).toThrow(KernelError);
  });
});

describe('dispatch plan', () => {
  it('deduplicates identical WGSL and chains temporaries', () => {
    const kernels = [add('k0', 'x', 'y', 't0'), add('k1', 't0', 'y', 't1'), add('k2', 't1', 'y', 'out')];
    const tensors = [
      { name: 'x', size: 64, role: 'input' as const }, { name: 'y', size: 64, role: 'input' as const },
      { name: 't0', size: 64, role: 'temp' as const }, { name: 't1', size: 64, role: 'temp' as const }, { name: 'out', size: 64, role: 'output' as const },
    ];
    const plan = buildDispatchPlan({ tensors, kernels }, cfg);
    expect(plan.dispatches).toHaveLength(3);
    expect(plan.kernels).toHaveLength(1); // the three differ only in comments (names)
    expect(plan.dispatches.map((d) => d.label)).toEqual(['k0', 'k1', 'k2']);
    expect(plan.buffers).toHaveLength(5); // x, y, out, and t0, t1 (k1 reads t0 while writing t1: no sharing)
  });

  it('refuses a kernel that binds more storage buffers than the adapter allows', () => {
    const n = 9;
    const k: ExprKernel = {
      kind: 'expr', name: 'too.wide', shape: [4],
      inputs: Array.from({ length: n }, (_, i) => ({ name: `i${i}`, size: 4 })),
      outputs: [{ name: 'o', size: 4, expr: load(0, [1]) }],
    };
    expect(() => validateKernel(k, 8)).toThrow(/binds 10 storage buffers, the adapter allows 8/);
  });
});

describe('GPU errors', () => {
  it('the no-adapter error says how to get one and how to run without', async () => {
    const { GpuError, NO_ADAPTER_HINT } = await import('../../runtime/gpu/errors.js');
    const e = new GpuError('SMC4001', 'no WebGPU adapter found', NO_ADAPTER_HINT);
    expect(e.format()).toMatch(/^error SMC4001: no WebGPU adapter found\n  hint: .*mesa-vulkan-drivers.*>= 23.*bookworm-backports.*libvulkan1.*--backend reference/s);
  });
});
