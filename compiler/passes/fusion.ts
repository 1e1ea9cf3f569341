// Fusion: decides which graph nodes get a buffer of their own (materialised, computed by one kernel) and which
// are inlined into their consumers' kernels. Movement ops of materialised tensors are free strided views.
import { numel, type Graph, type Node } from '../ir/graph.js';
import { getRoutine, inputNeed } from '../ir/routines/index.js';
import { KernelError } from '../kernels/errors.js';
import { isEpilogueActivation, type EpilogueActivation } from '../ops/index.js';
import { broadcastView, contiguousView, isContiguous, permuteView, reshapeView, sliceView, type View } from './views.js';

export type FusionMode = 'fused' | 'unfused';

export interface FusionOptions {
  /** 'unfused': every compute primitive is its own kernel (benchmark baseline). */
  mode: FusionMode;
  maxStorageBuffers: number;
  /** Nodes whose values must be readable after a step (materialised and kept). */
  keep?: Iterable<number>;
}

/** A matmul with its epilogue ops folded in: act(scale · A·B + bias) + residual, written as node `root`. */
export interface MatmulEpilogue {
  matmul: number;
  scale?: number;
  /** A vector over N (broadcast over rows and batches). */
  bias?: number;
  /** A unary op whose record allows it (`epilogue: true` in compiler/ops). */
  activation?: EpilogueActivation;
  /** Same shape as the output, contiguous. */
  residual?: number;
  /** The root transposes a 2-D result (which must be contiguous anyway): the kernel writes Cᵀ. */
  transpose?: boolean;
}

export interface FusionPlan {
  mat: Set<number>;
  /** Matmul epilogues by the node that ends them (that node's kernel is the matmul). */
  epilogues: Map<number, MatmulEpilogue>;
  /** Reductions folded into their single elementwise consumer of the same shape (its row epilogue). */
  absorbedReduces: Set<number>;
  /**
   * Kernel roots that evaluate reductions over their own trailing axes in-line (softmax, layernorm): root →
   * number of trailing axes. Their reductions (keepdims, trailing axes) have no buffer.
   */
  fullReduce: Map<number, number>;
  /** Strided view of each node's value where one exists (materialised nodes and movement ops over them). */
  views: (View | undefined)[];
  users: number[][];
}

/** Inlined expressions of at most this many ops are recomputed in each consumer instead of materialised. */
const MAX_RECOMPUTE = 4;
const MAX_SCALAR_RECOMPUTE = 24;

const MOVEMENT = new Set(['reshape', 'permute', 'slice', 'broadcast', 'stop_gradient']);
const SOURCE = new Set(['input', 'param', 'tensor']);
const ALWAYS = new Set(['reduce', 'matmul', 'routine']);

/** Buffer name of a node's value. */
export function tensorName(n: Node): string {
  if (n.attrs.op === 'input') return `in:${n.attrs.name}`;
  if (n.attrs.op === 'param') return `param:${n.attrs.name}`;
  return `n${n.id}`;
}

export function computeViews(graph: Graph, mat: Set<number>): (View | undefined)[] {
  const views: (View | undefined)[] = new Array(graph.nodes.length);
  for (const n of graph.nodes) {
    if (mat.has(n.id)) {
      views[n.id] = contiguousView(tensorName(n), n.shape);
      continue;
    }
    const a = n.attrs;
    const vin = n.inputs.length ? views[n.inputs[0]!] : undefined;
    const sin = n.inputs.length ? graph.nodes[n.inputs[0]!]!.shape : [];
    if (!vin) continue;
    switch (a.op) {
      case 'stop_gradient': views[n.id] = vin; break;
      case 'permute': views[n.id] = permuteView(vin, a.perm); break;
      case 'slice': views[n.id] = sliceView(vin, a.starts); break;
      case 'broadcast': views[n.id] = broadcastView(vin, sin, n.shape); break;
      case 'reshape': views[n.id] = reshapeView(vin, sin, n.shape); break;
      default: break;
    }
  }
  return views;
}

/** Can matmul operand view v (shape s) be addressed with at most two batch axes after merging? */
export function matmulBatchOk(graph: Graph, node: Node, views: (View | undefined)[]): boolean {
  const out = node.shape;
  const nb = out.length - 2;
  const ops = node.inputs.map((i) => ({ s: graph.nodes[i]!.shape, v: views[i] }));
  if (ops.some((o) => !o.v)) return false;
  const strides = ops.map(({ s, v }) => {
    const lead = nb - (s.length - 2);
    return out.slice(0, nb).map((_, d) => (d < lead || s[d - lead] === 1 ? 0 : v!.strides[d - lead]!));
  });
  const dims = out.slice(0, nb);
  // merge adjacent batch axes where every operand (and the contiguous output) allows it
  let kept = dims.map((d, i) => ({ d, st: strides.map((s) => s[i]!) })).filter((x) => x.d !== 1);
  let merged = true;
  while (kept.length > 2 && merged) {
    merged = false;
    for (let i = 0; i + 1 < kept.length; i++) {
      const [x, y] = [kept[i]!, kept[i + 1]!];
      if (x.st.every((s, k) => s === y.d * y.st[k]!)) {
        kept = [...kept.slice(0, i), { d: x.d * y.d, st: y.st }, ...kept.slice(i + 2)];
        merged = true;
        break;
      }
    }
  }
  return kept.length <= 2;
}

/** The first non-movement node under x (where materialising makes x a view). */
function viewRoot(graph: Graph, x: number): number {
  let id = x;
  while (MOVEMENT.has(graph.nodes[id]!.attrs.op) && graph.nodes[id]!.inputs.length) id = graph.nodes[id]!.inputs[0]!;
  return id;
}

const MAT_BY_DEFAULT = new Set(['matmul', 'routine', 'reduce', 'input', 'param', 'tensor']);

/**
 * Finds matmul → [× const] → [+ bias vector] → [activation] → [+ residual | transpose] chains of single-use nodes.
 */
function findEpilogues(graph: Graph, users: number[][], pinned: Set<number>): { epilogues: Map<number, MatmulEpilogue>; absorbed: Set<number> } {
  const nodes = graph.nodes;
  const epilogues = new Map<number, MatmulEpilogue>();
  const absorbed = new Set<number>();
  const single = (id: number): number | undefined => (users[id]!.length === 1 && !pinned.has(id) ? users[id]![0] : undefined);
  // a routine input, directly or through reshapes, or a kept node: materialised contiguous whatever its producer
  const needsContiguous = (id: number): boolean =>
    pinned.has(id) || users[id]!.some((u) => nodes[u]!.attrs.op === 'routine' || (nodes[u]!.attrs.op === 'reshape' && needsContiguous(u)));
  const other = (u: Node, id: number): number | undefined => (u.inputs.length === 2 && u.inputs.filter((i) => i === id).length === 1 ? u.inputs.find((i) => i !== id) : undefined);
  for (const m of nodes) {
    if (m.attrs.op !== 'matmul') continue;
    const N = m.shape[m.shape.length - 1]!;
    const ep: MatmulEpilogue = { matmul: m.id };
    let cur = m.id;
    const chain: number[] = [];
    let stage = 0; // 0: scale, 1: bias, 2: activation, 3: residual
    for (;;) {
      const uid = single(cur);
      if (uid === undefined) break;
      const u = nodes[uid]!;
      const a = u.attrs;
      if (!sameShape(u.shape, m.shape)) break;
      const o = other(u, cur);
      const on = o === undefined ? undefined : nodes[o]!;
      if (stage <= 0 && a.op === 'binary' && a.fn === 'mul' && on?.attrs.op === 'const') {
        ep.scale = on.attrs.value;
        stage = 1;
      } else if (stage <= 1 && a.op === 'binary' && a.fn === 'add' && on && ['param', 'input'].includes(nodes[viewRoot(graph, on.id)]!.attrs.op) && on.shape.length >= 1 && on.shape[on.shape.length - 1] === N && numel(on.shape) === N) {
        ep.bias = o;
        stage = 2;
      } else if (stage <= 2 && a.op === 'unary' && isEpilogueActivation(a.fn)) {
        ep.activation = a.fn;
        stage = 3;
      } else if (stage <= 3 && a.op === 'binary' && a.fn === 'add' && on && MAT_BY_DEFAULT.has(on.attrs.op) && sameShape(on.shape, m.shape)) {
        ep.residual = o;
        stage = 4;
      } else break;
      chain.push(cur);
      cur = uid;
      if (stage === 4) break;
    }
    // a transposed weight gradient read by the optimizer: the matmul writes Cᵀ instead of a copy doing it
    const t = single(cur);
    const tn = t === undefined ? undefined : nodes[t]!;
    if (stage < 4 && m.shape.length === 2 && tn?.attrs.op === 'permute' && tn.attrs.perm.join() === '1,0' && needsContiguous(tn.id)) {
      ep.transpose = true;
      chain.push(cur);
      cur = tn.id;
    }
    if (!chain.length) continue;
    for (const c of chain) absorbed.add(c);
    epilogues.set(cur, ep);
  }
  return { epilogues, absorbed };
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A part of a routine's packed result taken by slices and reshapes that is contiguous in it: a kept node of this
 * kind needs no copy, the lowering gives it a tensor inside the routine's (e.g. the train step's new state).
 */
export function isRoutinePart(graph: Graph, id: number): boolean {
  const chain: Node[] = [];
  let x = graph.nodes[id]!;
  while ((x.attrs.op === 'slice' || x.attrs.op === 'reshape') && x.inputs.length) {
    chain.push(x);
    x = graph.nodes[x.inputs[0]!]!;
  }
  if (x.attrs.op !== 'routine' || !chain.length) return false;
  let v: View | undefined = contiguousView(tensorName(x), x.shape);
  let shape = x.shape;
  for (const n of chain.reverse()) {
    v = n.attrs.op === 'slice' ? sliceView(v, n.attrs.starts) : reshapeView(v, shape, n.shape);
    if (!v) return false;
    shape = n.shape;
  }
  return isContiguous(v, shape);
}

export function planFusion(graph: Graph, opts: FusionOptions): FusionPlan {
  const nodes = graph.nodes;
  const users: number[][] = nodes.map(() => []);
  for (const n of nodes) for (const i of n.inputs) users[i]!.push(n.id);
  const mat = new Set<number>([...(opts.keep ?? []), ...graph.outputs.values()].filter((id) => !isRoutinePart(graph, id)));
  const fused = opts.mode === 'fused';
  const { epilogues, absorbed } = fused ? findEpilogues(graph, users, mat) : { epilogues: new Map<number, MatmulEpilogue>(), absorbed: new Set<number>() };
  // a keepdims reduction over trailing axes may be evaluated inside the kernel that consumes it (full rows)
  const trailingK = (r: Node): number => {
    if (r.attrs.op !== 'reduce' || !r.attrs.keepdims) return 0;
    const rank = r.shape.length;
    const ax = r.attrs.axes;
    return ax.every((a, i) => a === rank - ax.length + i) ? ax.length : 0;
  };
  const fullCandidate = (r: Node): boolean => fused && trailingK(r) > 0 && !mat.has(r.id);
  // a reduction whose only consumer is elementwise over the same shape becomes that consumer's reduction stage
  const absorbedReduces = new Set<number>();
  if (fused) {
    for (const r of nodes) {
      if (r.attrs.op !== 'reduce' || users[r.id]!.length !== 1 || mat.has(r.id) || fullCandidate(r)) continue;
      const u = nodes[users[r.id]![0]!]!;
      if (!['unary', 'binary', 'select'].includes(u.attrs.op) || !sameShape(u.shape, r.shape) || absorbed.has(u.id) || epilogues.has(u.id)) continue;
      if (u.inputs.some((i) => i !== r.id && nodes[i]!.attrs.op === 'reduce')) continue;
      if (u.inputs.filter((i) => i === r.id).length !== 1) continue;
      absorbedReduces.add(r.id);
    }
  }
  for (const n of nodes) {
    const op = n.attrs.op;
    if (absorbed.has(n.id) || absorbedReduces.has(n.id)) continue;
    if (SOURCE.has(op) || (ALWAYS.has(op) && !fullCandidate(n)) || epilogues.has(n.id)) mat.add(n.id);
    if (absorbedReduces.has(n.inputs[0] ?? -1) || n.inputs.some((i) => absorbedReduces.has(i))) mat.add(n.id);
    if (opts.mode === 'unfused' && (op === 'unary' || op === 'binary' || op === 'select' || op === 'pad' || op === 'concat')) mat.add(n.id);
  }
  for (const id of graph.outputs.values()) if (nodes[id]!.attrs.op === 'const') mat.add(id);
  const fullReduce = new Map<number, number>();
  let views = computeViews(graph, mat);
  const isInline = (id: number): boolean => !mat.has(id) && !views[id] && nodes[id]!.attrs.op !== 'const' && !absorbed.has(id) && !absorbedReduces.has(id);
  // nodes materialised in this round: views computed at its start do not know them yet
  let fresh = new Set<number>();
  const mark = (id: number): void => {
    if (!mat.has(id)) fresh.add(id);
    mat.add(id);
  };
  const needView = (id: number, contiguousZero = false): boolean => {
    const v = views[id];
    const s = nodes[id]!.shape;
    if (v && (!contiguousZero || (v.offset === 0 && isContiguous(v, s)))) return false;
    const root = viewRoot(graph, id);
    for (let x = id; ; x = nodes[x]!.inputs[0]!) {
      if (fresh.has(x)) return true; // recompute views first
      if (x === root) break;
    }
    if (mat.has(root) || root === id || nodes[root]!.attrs.op === 'const') mark(id);
    else mark(root);
    return true;
  };
  for (let round = 0; round < 50; round++) {
    let changed = false;
    fresh = new Set();
    views = computeViews(graph, mat);
    for (const n of nodes) {
      const a = n.attrs;
      const in0 = n.inputs[0];
      if (a.op === 'reshape' && in0 !== undefined && nodes[in0]!.attrs.op !== 'const') {
        const vin = views[in0];
        // a reshape of an inlined value, or (when the reshape is itself inlined) of a strided view numpy would copy
        if (!vin) changed = needView(in0) || changed;
        else if (!mat.has(n.id) && !reshapeView(vin, nodes[in0]!.shape, n.shape)) {
          mark(in0);
          changed = true;
        }
      }
      if (a.op === 'matmul') {
        for (const i of n.inputs) changed = needView(i) || changed;
        if (!changed && !matmulBatchOk(graph, n, views)) {
          for (const i of n.inputs) if (!mat.has(i)) { mat.add(i); changed = true; }
        }
      }
      const ep = epilogues.get(n.id);
      if (ep?.residual !== undefined) changed = needView(ep.residual, true) || changed;
      if (a.op === 'routine') {
        // what the routine's lowering needs of each input: a view, a contiguous tensor of its own, or given strides
        const def = getRoutine(a.name);
        const needs = n.inputs.map((_, k) => inputNeed(def, k, a.params));
        n.inputs.forEach((i, k) => {
          changed = needView(i, needs[k] === 'contiguous' || needs[k] === 'in-place') || changed;
        });
        n.inputs.forEach((i, k) => {
          const need = needs[k]!;
          const s = views[i]?.strides;
          if (typeof need === 'object' && s && !need.view(s, nodes[i]!.shape)) { mat.add(i); changed = true; }
        });
      }
    }
    if (changed) continue;
    views = computeViews(graph, mat);
    // fan-out: an inlined node feeding more than one kernel gets a buffer, unless it is cheap to recompute
    const cost: number[] = nodes.map(() => 0);
    for (const n of nodes) {
      if (!isInline(n.id)) continue;
      cost[n.id] = n.attrs.op === 'reduce' ? Infinity : 1 + n.inputs.reduce((acc, i) => acc + (isInline(i) ? cost[i]! : 0), 0);
    }
    const cheap = (id: number): boolean => cost[id]! <= (numel(nodes[id]!.shape) === 1 ? MAX_SCALAR_RECOMPUTE : MAX_RECOMPUTE);
    const roots: Set<number>[] = nodes.map(() => new Set());
    fullReduce.clear();
    for (let id = nodes.length - 1; id >= 0; id--) {
      if (!isInline(id)) continue;
      for (const u of users[id]!) {
        if (mat.has(u) || views[u]) roots[id]!.add(u);
        else for (const r of roots[u]!) roots[id]!.add(r);
      }
      const n = nodes[id]!;
      if (n.attrs.op === 'reduce') {
        // an in-line reduction needs exactly one consumer kernel, over its input's full rows
        const k = trailingK(n);
        const src = nodes[n.inputs[0]!]!;
        const [u] = [...roots[id]!];
        const un = u === undefined ? undefined : nodes[u]!;
        const ok = roots[id]!.size === 1 && un && sameShape(un.shape, src.shape) && !absorbed.has(un.id) && !epilogues.has(un.id)
          && (['unary', 'binary', 'select'].includes(un.attrs.op) || (trailingK(un) === k && un.attrs.op === 'reduce' && mat.has(un.id) && sameShape(nodes[un.inputs[0]!]!.shape, src.shape)))
          && (fullReduce.get(un.id) ?? k) === k;
        if (ok) fullReduce.set(un!.id, k);
        else {
          mat.add(id);
          changed = true;
          roots[id] = new Set([id]);
        }
        continue;
      }
      if (opts.mode === 'fused' && cheap(id)) continue;
      if (roots[id]!.size > 1) {
        mat.add(id);
        changed = true;
        roots[id] = new Set([id]);
      }
    }
    if (changed) continue;
    // binding limit: the buffers an expression reads (+ its output) must fit the adapter
    views = computeViews(graph, mat);
    const reads: Set<string>[] = nodes.map(() => new Set());
    for (const n of nodes) {
      const op = n.attrs.op;
      if (SOURCE.has(op) || op === 'const' || op === 'matmul' || op === 'routine' || absorbed.has(n.id) || epilogues.has(n.id)) continue;
      if (views[n.id] && !mat.has(n.id)) continue; // a free view
      const r = new Set<string>();
      const parts: [number, Set<string>][] = [];
      for (const i of n.inputs) {
        const s = views[i] ? new Set([views[i]!.tensor]) : reads[i]!;
        parts.push([i, s]);
        for (const t of s) r.add(t);
      }
      if (r.size + 1 > opts.maxStorageBuffers) {
        const inl = parts.filter(([i]) => isInline(i)).sort((p, q) => q[1].size - p[1].size);
        if (!inl.length) throw new KernelError('SMC4102', `node ${n.id} (${n.attrs.op}) reads ${r.size} buffers, more than the adapter's ${opts.maxStorageBuffers - 1}`);
        mat.add(inl[0]![0]);
        changed = true;
        break;
      }
      if (!mat.has(n.id)) reads[n.id] = r;
    }
    if (!changed) break;
  }
  return { mat, views: computeViews(graph, mat), users, epilogues, absorbedReduces, fullReduce };
}
