// Lowering of the train step's adam_update routine (CPU only): state in the optimizer arena, updated in place
// (no state copies but the global step count), three optimizer kernels; the arena hazard checks.
import { describe, expect, it } from 'vitest';
import { buildModelCase } from '../goldens/model-case.js';
import { planTrainStep } from '../../compiler/passes/plan-graph.js';
import { checkArenaHazards } from '../../compiler/passes/lower-optimizer.js';
import { SOFTWARE_DEFAULTS, selectKernelConfig } from '../../compiler/kernels/select.js';
import { KernelError } from '../../compiler/kernels/errors.js';
import { bin, load, type ExprKernel } from '../../compiler/kernels/ir.js';
import { STEP_INPUT } from '../../compiler/train-step.js';

describe('adam_update lowering', () => {
  it('places parameters, m, v and step counts in the arena: one state copy, three optimizer kernels', () => {
    const step = buildModelCase().step;
    const { lowered } = planTrainStep(step, { ...selectKernelConfig(SOFTWARE_DEFAULTS), maxStorageBuffers: 16 });
    const { tensors, kernels, copies } = lowered.program;
    const arena = tensors.find((t) => t.role === 'state' && t.name.startsWith('n'))!;
    const inArena = new Set(tensors.filter((t) => t.alias?.of === arena.name).map((t) => t.name));
    for (const s of step.state) {
      if (s.name !== STEP_INPUT) expect(inArena.has(lowered.tensorOf.get(s.node)!), s.name).toBe(true);
    }
    expect(copies).toEqual([{ from: lowered.tensorOf.get(step.graph.outputs.get(`new:${STEP_INPUT}`)!), to: `in:${STEP_INPUT}` }]);
    expect(kernels.filter((k) => ['grad-norm', 'adam-step', 'adam'].includes(k.kind)).map((k) => k.kind)).toEqual(['grad-norm', 'adam-step', 'adam']);
  });

  it('refuses a kernel that reads one tensor of an arena and writes another', () => {
    const k: ExprKernel = {
      kind: 'expr', name: 'bad', shape: [4], inputs: [{ name: 'a', size: 4 }],
      outputs: [{ name: 'b', size: 4, expr: bin('add', load(0, [1]), load(0, [1])) }],
    };
    const tensors = [
      { name: 'arena', size: 128, role: 'grad' as const },
      { name: 'a', size: 4, role: 'grad' as const, alias: { of: 'arena', offset: 0 } },
      { name: 'b', size: 4, role: 'grad' as const, alias: { of: 'arena', offset: 64 } },
    ];
    expect(() => checkArenaHazards([k], tensors)).toThrow(KernelError);
    expect(() => checkArenaHazards([k], tensors.map((t) => (t.name === 'a' ? { ...t, alias: undefined } : t)))).not.toThrow();
  });

  it('refuses a kernel that reads a parameter after the optimizer updated it in place', () => {
    const step = buildModelCase().step;
    const { lowered } = planTrainStep(step, { ...selectKernelConfig(SOFTWARE_DEFAULTS), maxStorageBuffers: 16 });
    const { tensors, kernels } = lowered.program;
    const p = tensors.find((t) => t.role === 'param' && t.alias)!;
    const late: ExprKernel = {
      kind: 'expr', name: 'late', shape: [1], inputs: [{ name: p.name, size: p.size }],
      outputs: [{ name: 'late.out', size: 1, expr: load(0, [1]) }],
    };
    expect(() => checkArenaHazards(kernels, tensors)).not.toThrow();
    expect(() => checkArenaHazards([...kernels, late], [...tensors, { name: 'late.out', size: 1, role: 'temp' }])).toThrow(/after the optimizer/);
  });
});
