// Routines declare their GPU lowering and what it needs of its inputs (compiler/ir/routines/registry.ts): the
// passes call `def.lower` and read `def.needs`. A routine without a lowering says why, and lowering it fails with
// that reason; an input that does not meet a need is copied first.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { getRoutine, inputNeed, registerRoutine, routineNames } from '../../compiler/ir/routines/index.js';
import { lowerGraphToKernels } from '../../compiler/passes/lower-to-kernels.js';
import { evalKernel, type TensorEnv } from '../../compiler/kernels/reference.js';
import { KernelError } from '../../compiler/kernels/errors.js';
import * as L from '../../compiler/layers/index.js';
import { run } from '../../runtime/interpreter/index.js';

describe('routine lowerings', () => {
  it('every registered routine has a lowering and input needs', () => {
    expect(routineNames()).toEqual(expect.arrayContaining(['lstm', 'lstm_gate_grads', 'hist_entropy', 'count_mi', 'joint_hist_mi', 'adam_update', 'gather', 'gather_backward']));
    for (const name of routineNames()) {
      const def = getRoutine(name);
      expect(typeof def.lower === 'function' || typeof def.lower.none === 'string', name).toBe(true);
      expect(inputNeed(def, 0, { params: 1 }), name).toBeDefined();
    }
    expect(inputNeed(getRoutine('lstm'), 2, {})).toBe('contiguous'); // W_hh, read flat by the recurrence
    expect(inputNeed(getRoutine('adam_update'), 0, { params: 2 })).toBe('contiguous');
    expect(inputNeed(getRoutine('adam_update'), 2, { params: 2 })).toBe('in-place');
  });

  it('a routine with `lower: { none }` fails to lower with its reason (SMC4103)', () => {
    registerRoutine({
      name: 'cpu_only_test',
      shape: ([s]) => [...s!],
      evaluate: ([x]) => Float64Array.from(x!),
      vjp: 'none',
      lower: { none: 'a CPU-only test routine' },
      needs: 'contiguous',
    });
    const g = new GraphBuilder();
    g.output('y', g.routine('cpu_only_test', [g.input('x', [3])]));
    const lower = () => lowerGraphToKernels(g.build(), { mode: 'fused', maxStorageBuffers: 8 });
    expect(lower).toThrow(KernelError);
    expect(lower).toThrow(/routine cpu_only_test \(node 1\) has no GPU lowering: a CPU-only test routine/);
  });

  it("an input that does not meet the routine's need is copied first (a transposed embedding table)", () => {
    const g = new GraphBuilder();
    const tT = g.input('tT', [4, 6]); // the table's transpose: the table [6, 4] is a strided view of it
    g.output('y', L.gather(g, g.transpose(tT), g.input('ids', [5])));
    const graph = g.build();
    const lg = lowerGraphToKernels(graph, { mode: 'fused', maxStorageBuffers: 8 });
    expect(lg.program.kernels.map((k) => k.name.split('/')[1]!.split('#')[0])).toEqual(['copy', 'gather']);
    const tTv = Float32Array.from({ length: 24 }, (_, i) => i * 0.25 - 2);
    const ids = Float32Array.of(5, 0, 3, 3, 1);
    const env: TensorEnv = new Map([['in:tT', tTv], ['in:ids', ids]]);
    for (const k of lg.program.kernels) evalKernel(k, env);
    const want = run(graph, new Map([['tT', tTv], ['ids', ids]]), { dtype: 'f32' }).get('y')!;
    expect(Array.from(env.get(lg.tensorOf.get(graph.outputs.get('y')!)!)!)).toEqual(Array.from(want));
  });
});
