// The tensor graph: primitive ops with static shapes, built through GraphBuilder, which owns every shape rule.
//
// All tensors are f32 (comparisons yield 0/1 floats). Nodes are stored in topological order; a node's id is
// its index in `Graph.nodes`. Layers (compiler/layers) are built from these primitives only; what is a
// different algorithm (LSTM recurrence, DMFD histograms) is a named routine.

export type Shape = readonly number[];

/** Where in a .smcir file a node came from (filled in by the elaborator for diagnostics and kernel names). */
export interface SourceSpan {
  file: string;
  line: number;
  column: number;
}

// The elementwise ops are the records of the op table (compiler/ops): their names come from there.
import type { BinaryOp, UnaryOp } from '../ops/index.js';
export type { BinaryOp, UnaryOp } from '../ops/index.js';
export { BINARY_OPS, UNARY_OPS } from '../ops/index.js';
export type ReduceOp = 'sum' | 'max';

import type { InitSpec } from '../../runtime/abi/model.js';
export type { InitSpec } from '../../runtime/abi/model.js';

export interface ParamInfo {
  /** Dotted PyTorch-style name, e.g. `cmcg.gen_v.lstm.l0.weight_ih`. */
  name: string;
  shape: number[];
  init: InitSpec;
  /** Frozen parameters are never updated and get no gradient. */
  frozen: boolean;
  /** Optimiser parameter group (train settings map groups to lr / weight decay). */
  group: string;
  node: number;
}

/** Attributes per op. Routines pack several results into one tensor where they need to. */
export type Attrs =
  | { op: 'input'; name: string }
  | { op: 'param'; name: string }
  | { op: 'const'; value: number }
  | { op: 'tensor'; data: Float64Array }
  | { op: 'rand'; stream: number }
  | { op: 'unary'; fn: UnaryOp }
  | { op: 'binary'; fn: BinaryOp }
  | { op: 'select' }
  | { op: 'reduce'; fn: ReduceOp; axes: number[]; keepdims: boolean }
  | { op: 'reshape' }
  | { op: 'permute'; perm: number[] }
  | { op: 'slice'; starts: number[]; ends: number[] }
  | { op: 'pad'; before: number[]; after: number[] }
  | { op: 'broadcast' }
  | { op: 'concat'; axis: number }
  | { op: 'matmul' }
  | { op: 'stop_gradient' }
  | { op: 'routine'; name: string; params: Record<string, number | boolean | string> };

export type OpName = Attrs['op'];

export interface Node {
  id: number;
  attrs: Attrs;
  inputs: number[];
  shape: number[];
  /** Human-readable origin, e.g. `cmcg.gen_v.msse`; used in kernel names. */
  scope: string;
  span?: SourceSpan;
}

export class ShapeError extends Error {
  constructor(message: string, readonly shapes: Shape[] = []) {
    super(message);
    this.name = 'ShapeError';
  }
}

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;
export const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** Row-major strides of a contiguous shape. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A complete graph: nodes in topological order, named inputs, parameters and outputs. */
export interface Graph {
  nodes: Node[];
  inputs: Map<string, number>;
  params: ParamInfo[];
  outputs: Map<string, number>;
}

/** Numpy-style broadcast of two shapes; throws ShapeError naming both. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError(`shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`, [a, b]);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

const normAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
};

export type RoutineShapeRule = (inputs: Shape[], params: Record<string, number | boolean | string>) => number[];
const routineShapes = new Map<string, RoutineShapeRule>();

/** Routines (LSTM, histograms, ...) register their shape rule here, next to their semantics. */
export function registerRoutineShape(name: string, rule: RoutineShapeRule): void {
  routineShapes.set(name, rule);
}

/** Builds a Graph; every method checks shapes and returns the new node's id. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs = new Map<string, number>();
  readonly params: ParamInfo[] = [];
  readonly outputs = new Map<string, number>();
  private scopeStack: string[] = [];
  span: SourceSpan | undefined;
  private constCache = new Map<string, number>();
  private randStreams = 0;

  /** A builder that continues an existing graph (same node ids); used by autodiff and the train-step builder. */
  static from(graph: Graph): GraphBuilder {
    const g = new GraphBuilder();
    g.nodes.push(...graph.nodes);
    for (const [k, v] of graph.inputs) g.inputs.set(k, v);
    g.params.push(...graph.params);
    for (const [k, v] of graph.outputs) g.outputs.set(k, v);
    for (const n of graph.nodes) {
      if (n.attrs.op === 'const') {
        const v = n.attrs.value;
        const key = Object.is(v, -0) ? '-0' : String(v);
        if (!g.constCache.has(key)) g.constCache.set(key, n.id);
      } else if (n.attrs.op === 'rand') {
        g.randStreams = Math.max(g.randStreams, n.attrs.stream + 1);
      }
    }
    return g;
  }

  shape(id: number): number[] {
    return this.nodes[id]!.shape;
  }

  /** Runs `fn` with `name` pushed on the scope path (used for parameter names and kernel labels). */
  scoped<T>(name: string, fn: () => T): T {
    this.scopeStack.push(name);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  /** Runs `fn` with the scope path replaced by `path` (dotted); used to call an instance from anywhere. */
  atScope<T>(path: string, fn: () => T): T {
    const saved = this.scopeStack;
    this.scopeStack = path ? path.split('.') : [];
    try {
      return fn();
    } finally {
      this.scopeStack = saved;
    }
  }

  get scope(): string {
    return this.scopeStack.join('.');
  }

  private add(attrs: Attrs, inputs: number[], shape: number[]): number {
    const id = this.nodes.length;
    this.nodes.push({ id, attrs, inputs, shape, scope: this.scope, span: this.span });
    return id;
  }

  /** Re-emits a node of another graph with new inputs (same op, shape, scope and span): graph rewrites. */
  copyNode(node: Node, inputs: number[]): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id, inputs });
    return id;
  }

  build(): Graph {
    return { nodes: this.nodes, inputs: this.inputs, params: this.params, outputs: this.outputs };
  }

  // ---- sources ----
  input(name: string, shape: Shape): number {
    if (this.inputs.has(name)) throw new ShapeError(`input \`${name}\` is declared twice`);
    const id = this.add({ op: 'input', name }, [], [...shape]);
    this.inputs.set(name, id);
    return id;
  }

  param(localName: string, shape: Shape, init: InitSpec, opts: { frozen?: boolean; group?: string } = {}): number {
    const name = this.scope ? `${this.scope}.${localName}` : localName;
    if (this.params.some((p) => p.name === name)) throw new ShapeError(`parameter \`${name}\` is defined twice`);
    const id = this.add({ op: 'param', name }, [], [...shape]);
    this.params.push({ name, shape: [...shape], init, frozen: opts.frozen ?? false, group: opts.group ?? 'default', node: id });
    return id;
  }

  /** A scalar constant (shape []); broadcasting does the rest. Deduplicated. */
  scalar(value: number): number {
    const key = Object.is(value, -0) ? '-0' : String(value);
    const hit = this.constCache.get(key);
    if (hit !== undefined) return hit;
    const id = this.add({ op: 'const', value }, [], []);
    this.constCache.set(key, id);
    return id;
  }

  tensor(data: Float64Array, shape: Shape): number {
    if (data.length !== numel(shape)) throw new ShapeError(`constant tensor has ${data.length} values, shape ${fmtShape(shape)} needs ${numel(shape)}`);
    return this.add({ op: 'tensor', data }, [], [...shape]);
  }

  /** Uniform [0,1) noise from the counter-based RNG, keyed by (step seed input, stream, element index). */
  rand(seed: number, shape: Shape): number {
    if (this.shape(seed).length !== 0) throw new ShapeError('rand: the seed must be a scalar');
    return this.add({ op: 'rand', stream: this.randStreams++ }, [seed], [...shape]);
  }

  // ---- elementwise ----
  unary(fn: UnaryOp, x: number): number {
    return this.add({ op: 'unary', fn }, [x], [...this.shape(x)]);
  }

  binary(fn: BinaryOp, a: number, b: number): number {
    return this.add({ op: 'binary', fn }, [a, b], broadcastShapes(this.shape(a), this.shape(b)));
  }

  select(cond: number, a: number, b: number): number {
    const s = broadcastShapes(broadcastShapes(this.shape(cond), this.shape(a)), this.shape(b));
    return this.add({ op: 'select' }, [cond, a, b], s);
  }

  // ---- reductions ----
  reduce(fn: ReduceOp, x: number, axes: number[], keepdims = false): number {
    const s = this.shape(x);
    const ax = [...new Set(axes.map((a) => normAxis(a, s.length)))].sort((p, q) => p - q);
    const out = keepdims ? s.map((d, i) => (ax.includes(i) ? 1 : d)) : s.filter((_, i) => !ax.includes(i));
    return this.add({ op: 'reduce', fn, axes: ax, keepdims }, [x], out);
  }

  // ---- movement ----
  reshape(x: number, shape: Shape): number {
    const s = [...shape];
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      const rest = s.reduce((a, d, i) => (i === neg ? a : a * d), 1);
      s[neg] = rest === 0 ? 0 : numel(this.shape(x)) / rest;
    }
    if (numel(s) !== numel(this.shape(x)) || !s.every(Number.isInteger)) {
      throw new ShapeError(`cannot reshape ${fmtShape(this.shape(x))} to ${fmtShape(shape)}`, [this.shape(x), shape]);
    }
    if (s.length === this.shape(x).length && s.every((d, i) => d === this.shape(x)[i])) return x;
    return this.add({ op: 'reshape' }, [x], s);
  }

  permute(x: number, perm: number[]): number {
    const s = this.shape(x);
    if (perm.length !== s.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the axes of ${fmtShape(s)}`);
    }
    if (perm.every((p, i) => p === i)) return x;
    return this.add({ op: 'permute', perm }, [x], perm.map((p) => s[p]!));
  }

  /** Swap two axes (negative axes allowed). */
  transpose(x: number, a = -2, b = -1): number {
    const r = this.shape(x).length;
    const perm = [...Array(r).keys()];
    const i = normAxis(a, r);
    const j = normAxis(b, r);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    return this.permute(x, perm);
  }

  slice(x: number, axis: number, start: number, end: number): number {
    const s = this.shape(x);
    const a = normAxis(axis, s.length);
    if (start < 0 || end > s[a]! || start >= end) {
      throw new ShapeError(`slice [${start}, ${end}) is out of range for axis ${axis} of length ${s[a]}`);
    }
    const starts = s.map(() => 0);
    const ends = [...s];
    starts[a] = start;
    ends[a] = end;
    if (start === 0 && end === s[a]) return x;
    return this.add({ op: 'slice', starts, ends }, [x], s.map((d, i) => (i === a ? end - start : d)));
  }

  /** Zero padding on one axis. */
  pad(x: number, axis: number, before: number, after: number): number {
    const s = this.shape(x);
    const a = normAxis(axis, s.length);
    if (before === 0 && after === 0) return x;
    const b = s.map(() => 0);
    const e = s.map(() => 0);
    b[a] = before;
    e[a] = after;
    return this.add({ op: 'pad', before: b, after: e }, [x], s.map((d, i) => (i === a ? d + before + after : d)));
  }

  broadcastTo(x: number, shape: Shape): number {
    const s = broadcastShapes(this.shape(x), shape);
    if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`cannot broadcast ${fmtShape(this.shape(x))} to ${fmtShape(shape)}`, [this.shape(x), shape]);
    }
    if (s.length === this.shape(x).length && s.every((d, i) => d === this.shape(x)[i])) return x;
    return this.add({ op: 'broadcast' }, [x], s);
  }

  concat(xs: number[], axis: number): number {
    if (xs.length === 0) throw new ShapeError('concat of nothing');
    if (xs.length === 1) return xs[0]!;
    const s0 = this.shape(xs[0]!);
    const a = normAxis(axis, s0.length);
    let total = 0;
    for (const x of xs) {
      const s = this.shape(x);
      if (s.length !== s0.length || s.some((d, i) => i !== a && d !== s0[i])) {
        throw new ShapeError(`concat along axis ${axis}: ${fmtShape(s0)} and ${fmtShape(s)} differ off that axis`, [s0, s]);
      }
      total += s[a]!;
    }
    return this.add({ op: 'concat', axis: a }, xs, s0.map((d, i) => (i === a ? total : d)));
  }

  // ---- contraction ----
  /** Batched matmul [..., M, K] x [..., K, N] with numpy broadcasting of the batch axes. */
  matmul(a: number, b: number): number {
    const sa = this.shape(a);
    const sb = this.shape(b);
    if (sa.length < 2 || sb.length < 2) throw new ShapeError(`matmul needs rank ≥ 2, got ${fmtShape(sa)} and ${fmtShape(sb)}`, [sa, sb]);
    const k1 = sa[sa.length - 1]!;
    const k2 = sb[sb.length - 2]!;
    if (k1 !== k2) {
      throw new ShapeError(`matmul: inner dimensions differ, ${fmtShape(sa)} · ${fmtShape(sb)} (${k1} ≠ ${k2})`, [sa, sb]);
    }
    const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    return this.add({ op: 'matmul' }, [a, b], [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!]);
  }

  stopGradient(x: number): number {
    return this.add({ op: 'stop_gradient' }, [x], [...this.shape(x)]);
  }

  routine(name: string, inputs: number[], params: Record<string, number | boolean | string> = {}): number {
    const rule = routineShapes.get(name);
    if (!rule) throw new ShapeError(`unknown routine \`${name}\``);
    const shape = rule(inputs.map((i) => this.shape(i)), params);
    return this.add({ op: 'routine', name, params }, inputs, shape);
  }

  output(name: string, id: number): void {
    this.outputs.set(name, id);
  }

  // ---- conveniences used everywhere ----
  add2(a: number, b: number): number { return this.binary('add', a, b); }
  sub(a: number, b: number): number { return this.binary('sub', a, b); }
  mul(a: number, b: number): number { return this.binary('mul', a, b); }
  div(a: number, b: number): number { return this.binary('div', a, b); }
  sum(x: number, axes: number[], keepdims = false): number { return this.reduce('sum', x, axes, keepdims); }
  mean(x: number, axes: number[], keepdims = false): number {
    const s = this.shape(x);
    const n = axes.map((a) => s[normAxis(a, s.length)]!).reduce((p, q) => p * q, 1);
    return this.mul(this.sum(x, axes, keepdims), this.scalar(1 / n));
  }
}
