// Routed dispatches: in a program (forward or train step), the kernels that compute only a route's compacted samples
// (compiler/passes/route-samples.ts) stop after the first `count` samples. This pass picks those kernels; the planner
// (compiler/kernels/plan.ts) moves their uniforms into the routing buffer and adds one args kernel per route, right
// after the count is known, that lowers every such kernel's extent on the device: no readback, one submit.
// Kernels that sum over samples read compacted tensors only after their stale rows are zeroed (zero-tails).
import type { Graph } from '../ir/graph.js';
import type { KernelRouting } from '../kernels/plan.js';
import { kernelWrites, type Expr, type Kernel } from '../kernels/ir.js';
import type { LoweredGraph } from './lower-to-kernels.js';
import { compactedNodes, type Compacted, type Route } from './route-samples.js';

/** Each route's compacted nodes (compactedNodes, per route), computed once for merging and for routeKernels. */
export const compactedOf = (graph: Graph, routes: readonly Route[]): Compacted[] => routes.map((r) => compactedNodes(graph, r));

/** Each route's compacted nodes by route index, so that kernel merging keeps routed kernels apart; undefined: no routes. */
export function routeGroups(compacted: readonly Compacted[]): Map<number, number> | undefined {
  if (compacted.length === 0) return undefined;
  const groups = new Map<number, number>();
  compacted.forEach((c, i) => {
    for (const id of c.nodes.keys()) groups.set(id, i);
  });
  return groups;
}

/** Nodes whose values the program must keep for routing (each route's count). */
export const routeKeep = (routes: readonly Route[]): number[] => routes.map((r) => r.count);

/**
 * The kernels of a lowered graph that run on compacted samples only, by route, and the zero-tails that keep the
 * others exact. A kernel that sums over the samples (a weight or bias gradient, a gather's gradient, the scatter
 * back) reads a compacted tensor only after its rows past the count are zeroed, so that the stale rows a shrunk grid
 * left behind do not enter the sum. Any other kernel that reads such a tensor would see those stale rows: the
 * kernels it depends on then run every sample (their routing is withdrawn, upstream as far as needed).
 */
export function routeKernels(routes: readonly Route[], compactedPerRoute: readonly Compacted[], lowered: LoweredGraph): KernelRouting | undefined {
  const { kernels } = lowered.program;
  const sizes = new Map(lowered.program.tensors.map((t) => [t.name, t.size]));
  const out: KernelRouting = { routes: [], kernelRoute: kernels.map(() => undefined), zeroTails: [] };
  routes.forEach((r, i) => {
    const count = lowered.tensorOf.get(r.count);
    const countKernel = lowered.kernelNodes.findIndex((done) => done.includes(r.count));
    if (!count || countKernel < 0) return;
    const { nodes: compacted, touched } = compactedPerRoute[i]!;
    const ri = out.routes.length;
    // tensors holding compacted samples (node → batch axis; routine temps: undefined)
    const axisOf = new Map<string, number | undefined>();
    for (const [id, t] of lowered.tensorOf) if (compacted.has(id)) axisOf.set(t, compacted.get(id)!.axis);
    const own = kernels.map((_, k) => {
      const owners = lowered.kernelOwners[k]!;
      return k > countKernel && owners.length > 0 && owners.every((o) => compacted.has(o));
    });
    // candidates: kernels of compacted nodes (batch outermost) that read compacted data
    const routed = new Set<number>();
    const known = new Set(axisOf.keys());
    kernels.forEach((kernel, k) => {
      if (!own[k] || !kernel.inputs.some((b) => known.has(b.name))) return;
      if (!lowered.kernelOwners[k]!.every((o) => compacted.get(o)!.axis === 0)) return;
      routed.add(k);
      for (const w of kernelWrites(kernel)) known.add(w.name);
    });
    const summing = kernels.map((_, k) => {
      const owners = lowered.kernelOwners[k]!;
      // its nodes read compacted rows only through sums (a fused epilogue after a weight-gradient matmul, say), and
      // nothing it computes from them before summing is undefined at the zeros a zero-tail leaves (0/0, log 0)
      return owners.length > 0 && owners.every((o) => !compacted.has(o) && !touched.has(o)) && !singularAtZero(kernels[k]!, known);
    });
    let tails: { before: number; tensor: string; route: number }[] = [];
    for (let round = 0; round <= kernels.length && routed.size; round++) {
      // stale tensors and the routed kernels they come from
      const stale = new Map<string, Set<number>>();
      const withdraw = new Set<number>();
      tails = [];
      kernels.forEach((kernel, k) => {
        if (k <= countKernel) return;
        const from = new Set<number>();
        for (const b of kernel.inputs) for (const p of stale.get(b.name) ?? []) from.add(p);
        if (routed.has(k)) from.add(k);
        // (a tensor written in parts, e.g. both directions' input projections, keeps every part's provenance)
        const mark = (name: string): void => void stale.set(name, new Set([...(stale.get(name) ?? []), ...from]));
        if (routed.has(k) || own[k]) {
          if (from.size) for (const w of kernelWrites(kernel)) mark(w.name);
          return;
        }
        for (const b of kernel.inputs) {
          const s = stale.get(b.name);
          if (!s) continue;
          const axis = axisOf.get(b.name);
          const rows = axis === 0 || (axis === undefined && (sizes.get(b.name) ?? 0) % r.batch === 0);
          if (summing[k] && rows) tails.push({ before: k, tensor: b.name, route: ri });
          else for (const p of s) withdraw.add(p);
          stale.delete(b.name);
        }
      });
      if (withdraw.size === 0) break;
      for (const p of withdraw) routed.delete(p);
    }
    if (routed.size === 0) return;
    for (const k of routed) out.kernelRoute[k] = ri;
    out.zeroTails.push(...tails);
    out.routes.push({ count, batch: r.batch, countKernel });
  });
  return out.routes.length ? out : undefined;
}

/** Ops that are undefined or infinite at 0 in the operand named (division: the divisor). */
const SINGULAR_UNARY = new Set(['log', 'rsqrt', 'recip']);

/** Whether an expression kernel divides by, takes the log of, … a value loaded from one of `batch`'s tensors. */
export function singularAtZero(k: Kernel, batch: ReadonlySet<string>): boolean {
  if (k.kind !== 'expr') return false; // matmuls sum first; their epilogue sees only the sums
  const loadsBatch = (e: Expr): boolean => {
    switch (e.k) {
      case 'load': return batch.has(k.inputs[e.input]!.name);
      case 'gather': return batch.has(k.inputs[e.input]!.name) || loadsBatch(e.index) || (e.rows ? loadsBatch(e.rows.col) : false);
      case 'unary': return loadsBatch(e.a);
      case 'binary': return loadsBatch(e.a) || loadsBatch(e.b);
      case 'select': return loadsBatch(e.cond) || loadsBatch(e.a) || loadsBatch(e.b);
      default: return false;
    }
  };
  const singular = (e: Expr): boolean => {
    switch (e.k) {
      case 'unary': return (SINGULAR_UNARY.has(e.op) && loadsBatch(e.a)) || singular(e.a);
      case 'binary': return (e.op === 'div' && loadsBatch(e.b)) || (e.op === 'pow' && loadsBatch(e.a)) || singular(e.a) || singular(e.b);
      case 'select': return singular(e.cond) || singular(e.a) || singular(e.b);
      case 'gather': return singular(e.index);
      default: return false;
    }
  };
  return k.outputs.some((o) => singular(o.expr)) || (k.reduce?.stages.some((st) => singular(st.prologue)) ?? false);
}
