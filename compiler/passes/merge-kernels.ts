// Horizontal fusion: an elementwise kernel merges into an earlier one over the same domain (one kernel, several
// outputs), reading the earlier kernel's values directly where it loaded them element for element.
import type { Expr, ExprKernel, Kernel } from '../kernels/ir.js';
import { contiguousStrides, kernelReads, kernelWrites } from '../kernels/ir.js';

const LOOKBACK = 24;

function mapExpr(e: Expr, f: (e: Expr) => Expr | undefined): Expr {
  const hit = f(e);
  if (hit) return hit;
  switch (e.k) {
    case 'gather': return { ...e, index: mapExpr(e.index, f), ...(e.rows ? { rows: { ...e.rows, col: mapExpr(e.rows.col, f) } } : {}) };
    case 'unary': return { ...e, a: mapExpr(e.a, f) };
    case 'binary': return { ...e, a: mapExpr(e.a, f), b: mapExpr(e.b, f) };
    case 'select': return { ...e, cond: mapExpr(e.cond, f), a: mapExpr(e.a, f), b: mapExpr(e.b, f) };
    case 'rand': return { ...e, seed: mapExpr(e.seed, f) };
    default: return e;
  }
}

function someExpr(e: Expr, p: (e: Expr) => boolean): boolean {
  if (p(e)) return true;
  switch (e.k) {
    case 'gather': return someExpr(e.index, p) || (!!e.rows && someExpr(e.rows.col, p));
    case 'unary': return someExpr(e.a, p);
    case 'binary': return someExpr(e.a, p) || someExpr(e.b, p);
    case 'select': return someExpr(e.cond, p) || someExpr(e.a, p) || someExpr(e.b, p);
    case 'rand': return someExpr(e.seed, p);
    default: return false;
  }
}

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

const dimsOf = (k: ExprKernel): number[] => (k.reduce ? k.reduce.dims ?? [k.reduce.size] : []);

/**
 * Two reductions over the same rows and reduced axes, with row outputs only, become one kernel whose stages
 * run one after the other (b must not read g's results).
 */
function tryMergeReductions(g: ExprKernel, b: ExprKernel, between: Kernel[], maxBuffers: number): ExprKernel | undefined {
  if (!g.reduce || !b.reduce || !sameShape(g.shape, b.shape) || !sameShape(dimsOf(g), dimsOf(b))) return undefined;
  if ([...g.outputs, ...b.outputs].some((o) => o.at === 'full')) return undefined;
  const written = new Set(between.flatMap((k) => kernelWrites(k).map((w) => w.name)));
  const gOut = new Set(g.outputs.map((o) => o.name));
  if (b.inputs.some((i) => written.has(i.name) || gOut.has(i.name))) return undefined;
  const inputs = [...g.inputs];
  const index = new Map(inputs.map((x, i) => [x.name, i]));
  const remap = b.inputs.map((x) => {
    let j = index.get(x.name);
    if (j === undefined) {
      j = inputs.length;
      inputs.push(x);
      index.set(x.name, j);
    }
    return j;
  });
  if (inputs.length + g.outputs.length + b.outputs.length > maxBuffers) return undefined;
  const shift = g.reduce.stages.length;
  const rewrite = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.k === 'acc') return { k: 'acc', stage: x.stage + shift };
      if (x.k === 'load') return { ...x, input: remap[x.input]! };
      if (x.k === 'gather') return { ...x, input: remap[x.input]!, index: rewrite(x.index), ...(x.rows ? { rows: { ...x.rows, col: rewrite(x.rows.col) } } : {}) };
      return undefined;
    });
  return {
    ...g,
    name: g.name.includes(' & ') ? g.name : `${g.name} & ${b.name}`,
    inputs,
    reduce: { ...g.reduce, stages: [...g.reduce.stages, ...b.reduce.stages.map((st) => ({ ...st, prologue: rewrite(st.prologue) }))] },
    outputs: [...g.outputs, ...b.outputs.map((o) => ({ ...o, expr: rewrite(o.expr) }))],
  };
}

/** Merges b into g when legal; undefined otherwise. `between` are the kernels that run between them. */
function tryMerge(g: ExprKernel, b: ExprKernel, between: Kernel[], maxBuffers: number): ExprKernel | undefined {
  if (g.reduce && b.reduce) return tryMergeReductions(g, b, between, maxBuffers);
  if (g.reduce || b.reduce || !sameShape(g.shape, b.shape)) return undefined;
  const written = new Set(between.flatMap((k) => kernelWrites(k).map((w) => w.name)));
  if (b.inputs.some((i) => written.has(i.name))) return undefined;
  const gOut = new Map(g.outputs.map((o, j) => [o.name, j]));
  const ident = contiguousStrides(g.shape);
  // every read of g's outputs must be element for element (same domain coordinates)
  for (const o of b.outputs) {
    const bad = someExpr(o.expr, (e) => {
      if (e.k === 'gather') return gOut.has(b.inputs[e.input]!.name);
      if (e.k !== 'load' || !gOut.has(b.inputs[e.input]!.name)) return false;
      const out = g.outputs[gOut.get(b.inputs[e.input]!.name)!]!;
      return !!e.map.clamp || e.map.offset !== (out.offset ?? 0) || e.map.strides.some((s, d) => g.shape[d] !== 1 && s !== ident[d]);
    });
    if (bad) return undefined;
  }
  const inputs = [...g.inputs];
  const index = new Map(inputs.map((x, i) => [x.name, i]));
  const remap = new Map<number, number>();
  b.inputs.forEach((x, i) => {
    if (gOut.has(x.name)) return;
    let j = index.get(x.name);
    if (j === undefined) {
      j = inputs.length;
      inputs.push(x);
      index.set(x.name, j);
    }
    remap.set(i, j);
  });
  if (inputs.length + g.outputs.length + b.outputs.length > maxBuffers) return undefined;
  const rewrite = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.k === 'load' && gOut.has(b.inputs[x.input]!.name)) return g.outputs[gOut.get(b.inputs[x.input]!.name)!]!.expr;
      if (x.k === 'load') return { ...x, input: remap.get(x.input)! };
      if (x.k === 'gather') return { ...x, input: remap.get(x.input)!, index: rewrite(x.index), ...(x.rows ? { rows: { ...x.rows, col: rewrite(x.rows.col) } } : {}) };
      return undefined;
    });
  return {
    ...g,
    name: g.name.includes(' & ') ? g.name : `${g.name} & ${b.name}`,
    inputs,
    outputs: [...g.outputs, ...b.outputs.map((o) => ({ ...o, expr: rewrite(o.expr) }))],
  };
}

/**
 * Greedy horizontal fusion over the kernel list (order kept). `pinned` tensors stay written; a temporary that
 * no kernel reads any more after merging is dropped from its kernel's outputs. With `group`, only kernels of one
 * group merge (sample routing keeps a route's compacted kernels apart from the others).
 */
export function mergeKernels(kernels: Kernel[], maxStorageBuffers: number, pinned: Set<string>, group?: (k: Kernel) => number): Kernel[] {
  const out: Kernel[] = [];
  const groups = new Map<Kernel, number>();
  for (const k of kernels) {
    let merged = false;
    if (k.kind === 'expr') {
      for (let i = out.length - 1; i >= 0 && i >= out.length - LOOKBACK; i--) {
        const g = out[i]!;
        if (g.kind !== 'expr') continue;
        if (group && (groups.get(g) ?? group(g)) !== group(k)) continue; // e.g. a routed kernel with one that is not
        const m = tryMerge(g, k, out.slice(i + 1), maxStorageBuffers);
        if (m) {
          if (group) groups.set(m, group(k));
          out[i] = m;
          merged = true;
          break;
        }
      }
    }
    if (!merged) out.push(k);
  }
  const read = new Set(out.flatMap((k) => kernelReads(k).map((r) => r.name)));
  return out.map((k) => {
    if (k.kind !== 'expr' || k.outputs.length < 2) return k;
    const outputs = k.outputs.filter((o) => pinned.has(o.name) || read.has(o.name));
    return outputs.length === k.outputs.length || outputs.length === 0 ? k : { ...k, outputs };
  });
}
