// Validate mode: runs a GPU program one kernel at a time — all the dispatches of one kernel of the kernel program,
// so chunked kernels too — each on the interpreter's values of what it reads, and names the first kernel whose
// results disagree with the interpreter (f32). Needs the graph the program was compiled from.
import type { Graph } from '../../compiler/ir/graph.js';
import { evaluate, type Feeds } from '../interpreter/evaluate.js';
import type { GpuProgram } from '../gpu/program.js';
import { ZERO_TAIL_KERNEL } from '../abi/plan.js';

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
export async function validateAgainstInterpreter(program: GpuProgram, graph: Graph, feeds: Feeds, opts: ValidateOptions = {}): Promise<KernelDisagreement | undefined> {
  const rtol = opts.rtol ?? 1e-3;
  const atol = opts.atol ?? 1e-5;
  const values = evaluate(graph, feeds, { dtype: 'f32' });
  const { trace, nodes, plan } = program.abi;
  const nodeOfTensor = new Map<string, number>();
  for (const [id, t] of Object.entries(nodes)) nodeOfTensor.set(t, Number(id));
  for (const [name, v] of feeds) if (program.reads(name)) program.feed(name, Float32Array.from(v));
  // the dispatches of each kernel of the kernel program (one, or several for chunked kernels), in order
  // (zero-tails are left out: they clear rows past a route's count that the interpreter's values fill with the
  // results nothing reads, and the kernel after them then computes exactly what the interpreter does)
  const ranges = trace.map(() => ({ from: Infinity, to: -1 }));
  plan.dispatches.forEach((d, i) => {
    if (plan.kernels[d.kernel]!.name === ZERO_TAIL_KERNEL) return;
    const r = ranges[d.source]!;
    r.from = Math.min(r.from, i);
    r.to = Math.max(r.to, i + 1);
  });
  // routed kernels compute the first `count` of their route's compacted samples only (batch outermost)
  const routeOf = new Map<number, number>();
  for (const d of plan.dispatches) if (d.routed) routeOf.set(d.source, d.routed.route);
  const counted = (k: number, length: number): number => {
    const r = routeOf.get(k);
    if (r === undefined) return length;
    const route = plan.routing!.routes[r]!;
    const count = values[nodeOfTensor.get(route.count)!]![0]!;
    return (length / route.batch) * count;
  };
  for (let k = 0; k < trace.length; k++) {
    const { from, to } = ranges[k]!;
    if (to < 0) continue; // lowered to no dispatch
    // isolate the kernel: what it reads holds the interpreter's values (errors do not compound)
    for (const name of trace[k]!.reads) {
      const id = nodeOfTensor.get(name);
      if (id === undefined) continue;
      const ref = values[id]!;
      const size = plan.tensors.get(name)?.size;
      if (ref.length === size) program.executor.write(name, Float32Array.from(ref));
    }
    const done = trace[k]!.nodes.filter((id) => nodes[String(id)] !== undefined);
    const names = done.map((id) => nodes[String(id)]!);
    const got = await program.executor.runRange(from, to, names);
    for (const id of done) {
      const g = got.get(nodes[String(id)]!)!;
      const ref = values[id]!;
      const compared = counted(k, ref.length);
      for (let e = 0; e < compared; e++) {
        const r = ref[e]!;
        const v = g[e]!;
        if (!(Math.abs(v - r) <= atol + rtol * Math.abs(r)) && !(Number.isNaN(v) && Number.isNaN(r))) {
          return { kernel: plan.dispatches[from]!.label, index: k, node: id, element: e, gpu: v, reference: r };
        }
      }
    }
  }
  return undefined;
}
