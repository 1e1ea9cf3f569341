// Validate mode: runs a compiled graph one kernel at a time, each on the interpreter's values of its inputs, and
// names the first kernel whose results disagree with the interpreter (f32).
import { evaluate, type Feeds } from '../interpreter/evaluate.js';
import type { GpuGraph } from './train-step.js';
import { GpuError } from './errors.js';

export interface KernelDisagreement {
  kernel: string;
  index: number;
  node: number;
  element: number;
  gpu: number;
  reference: number;
}

export interface ValidateOptions {
  rtol?: number;
  atol?: number;
}

/** undefined when every kernel agrees with the interpreter; otherwise the first kernel that does not. */
export async function validateAgainstInterpreter(gg: GpuGraph, feeds: Feeds, opts: ValidateOptions = {}): Promise<KernelDisagreement | undefined> {
  const rtol = opts.rtol ?? 1e-3;
  const atol = opts.atol ?? 1e-5;
  const values = evaluate(gg.graph, feeds, { dtype: 'f32' });
  const { kernelNodes, tensorOf, program } = gg.lowered;
  const plan = gg.plan;
  if (plan.dispatches.length !== program.kernels.length) throw new GpuError('SMC4030', 'validate mode needs one dispatch per kernel');
  const nodeOfTensor = new Map<string, number>();
  for (const [id, t] of tensorOf) nodeOfTensor.set(t, id);
  const sizes = new Map(program.tensors.map((t) => [t.name, t.size]));
  const members = new Map<string, string[]>();
  for (const t of program.tensors) if (t.alias) members.set(t.alias.of, [...(members.get(t.alias.of) ?? []), t.name]);
  const within = (name: string): string[] => [name, ...(members.get(name) ?? []).flatMap(within)];
  for (const [name, v] of feeds) {
    try {
      gg.feed(name, Float32Array.from(v));
    } catch {
      // feeds the graph does not use
    }
  }
  for (let i = 0; i < program.kernels.length; i++) {
    const k = program.kernels[i]!;
    // isolate the kernel: its inputs, and the tensors placed inside them (an arena's members), hold the
    // interpreter's values (errors do not compound)
    for (const name of k.inputs.flatMap((b) => within(b.name))) {
      const id = nodeOfTensor.get(name);
      if (id === undefined) continue;
      const ref = values[id]!;
      if (ref.length === sizes.get(name)) gg.executor.write(name, Float32Array.from(ref));
    }
    const done = kernelNodes[i] ?? [];
    const names = done.map((id) => tensorOf.get(id)).filter((t): t is string => !!t);
    const got = await gg.executor.runRange(i, i + 1, names);
    for (const id of done) {
      const t = tensorOf.get(id);
      if (!t) continue;
      const g = got.get(t)!;
      const ref = values[id]!;
      for (let e = 0; e < ref.length; e++) {
        const r = ref[e]!;
        const v = g[e]!;
        if (!(Math.abs(v - r) <= atol + rtol * Math.abs(r)) && !(Number.isNaN(v) && Number.isNaN(r))) {
          return { kernel: plan.dispatches[i]!.label, index: i, node: id, element: e, gpu: v, reference: r };
        }
      }
    }
  }
  return undefined;
}
