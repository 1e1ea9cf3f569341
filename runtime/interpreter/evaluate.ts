// The reference interpreter: evaluates any Graph on the CPU in f64 or f32 (values stored at that precision).
import { numel, type Graph, type Node } from '../../compiler/ir/graph.js';
import { getRoutine, type Tensor } from '../../compiler/ir/routines/index.js';
import { rngUniform } from '../abi/rng.js';
import { BINARY, UNARY } from '../../compiler/ops/index.js';
import { broadcastStrides, sameShape, stridedOffsets, stridesOf } from './strided.js';

export type DType = 'f64' | 'f32';
export type Feeds = Map<string, Float32Array | Float64Array>;

export interface EvaluateOptions {
  dtype: DType;
  /** Keep only these node values (plus outputs) and free the rest as soon as possible. Default: keep all. */
  keep?: Iterable<number>;
}

export class InterpreterError extends Error {
  override readonly name = 'InterpreterError';
}

const alloc = (dtype: DType, n: number): Tensor => (dtype === 'f32' ? new Float32Array(n) : new Float64Array(n));

function evalNode(node: Node, ins: Tensor[], graph: Graph, feeds: Feeds, dtype: DType): Tensor {
  const a = node.attrs;
  const shape = node.shape;
  const n = numel(shape);
  const inShape = (k: number): number[] => graph.nodes[node.inputs[k]!]!.shape;
  switch (a.op) {
    case 'input':
    case 'param': {
      const v = feeds.get(a.name);
      if (!v) throw new InterpreterError(`no value fed for ${a.op} \`${a.name}\``);
      if (v.length !== n) throw new InterpreterError(`${a.op} \`${a.name}\`: fed ${v.length} values, shape needs ${n}`);
      if ((dtype === 'f32') === (v instanceof Float32Array)) return v;
      const out = alloc(dtype, n);
      out.set(v);
      return out;
    }
    case 'const': {
      const out = alloc(dtype, 1);
      out[0] = a.value;
      return out;
    }
    case 'tensor': {
      const out = alloc(dtype, n);
      out.set(a.data);
      return out;
    }
    case 'rand': {
      const seed = ins[0]![0]! >>> 0;
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = rngUniform(seed, a.stream, i);
      return out;
    }
    case 'unary': {
      const f = UNARY[a.fn].ref;
      const x = ins[0]!;
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = f(x[i]!);
      return out;
    }
    case 'binary': {
      const f = BINARY[a.fn].ref;
      const [x, y] = ins as [Tensor, Tensor];
      const out = alloc(dtype, n);
      const sx = inShape(0), sy = inShape(1);
      if (sameShape(sx, shape) && sameShape(sy, shape)) {
        for (let i = 0; i < n; i++) out[i] = f(x[i]!, y[i]!);
      } else if (sameShape(sx, shape) && y.length === 1) {
        const c = y[0]!;
        for (let i = 0; i < n; i++) out[i] = f(x[i]!, c);
      } else if (sameShape(sy, shape) && x.length === 1) {
        const c = x[0]!;
        for (let i = 0; i < n; i++) out[i] = f(c, y[i]!);
      } else {
        const ix = stridedOffsets(shape, broadcastStrides(sx, shape));
        const iy = stridedOffsets(shape, broadcastStrides(sy, shape));
        for (let i = 0; i < n; i++) out[i] = f(x[ix[i]!]!, y[iy[i]!]!);
      }
      return out;
    }
    case 'select': {
      const [c, x, y] = ins as [Tensor, Tensor, Tensor];
      const ic = stridedOffsets(shape, broadcastStrides(inShape(0), shape));
      const ix = stridedOffsets(shape, broadcastStrides(inShape(1), shape));
      const iy = stridedOffsets(shape, broadcastStrides(inShape(2), shape));
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = c[ic[i]!]! !== 0 ? x[ix[i]!]! : y[iy[i]!]!;
      return out;
    }
    case 'reduce': {
      const x = ins[0]!;
      const s = inShape(0);
      // output strides laid over the input axes, 0 on reduced axes
      const kept = s.map((d, i) => (a.axes.includes(i) ? 1 : d));
      const ks = stridesOf(kept).map((st, i) => (a.axes.includes(i) ? 0 : st));
      const map = stridedOffsets(s, ks);
      const acc = new Float64Array(n).fill(a.fn === 'sum' ? 0 : -Infinity);
      if (a.fn === 'sum') for (let i = 0; i < x.length; i++) acc[map[i]!]! += x[i]!;
      else for (let i = 0; i < x.length; i++) { const o = map[i]!; if (x[i]! > acc[o]! || Number.isNaN(x[i]!)) acc[o] = x[i]!; }
      const out = alloc(dtype, n);
      out.set(acc);
      return out;
    }
    case 'reshape':
    case 'stop_gradient':
      return ins[0]!;
    case 'permute': {
      const st = stridesOf(inShape(0));
      const map = stridedOffsets(shape, a.perm.map((p) => st[p]!));
      const x = ins[0]!;
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = x[map[i]!]!;
      return out;
    }
    case 'slice': {
      const st = stridesOf(inShape(0));
      const base = a.starts.reduce((acc, s0, d) => acc + s0 * st[d]!, 0);
      const map = stridedOffsets(shape, st, base);
      const x = ins[0]!;
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = x[map[i]!]!;
      return out;
    }
    case 'pad': {
      const ost = stridesOf(shape);
      const base = a.before.reduce((acc, b0, d) => acc + b0 * ost[d]!, 0);
      const map = stridedOffsets(inShape(0), ost, base);
      const x = ins[0]!;
      const out = alloc(dtype, n);
      for (let i = 0; i < x.length; i++) out[map[i]!] = x[i]!;
      return out;
    }
    case 'broadcast': {
      const map = stridedOffsets(shape, broadcastStrides(inShape(0), shape));
      const x = ins[0]!;
      const out = alloc(dtype, n);
      for (let i = 0; i < n; i++) out[i] = x[map[i]!]!;
      return out;
    }
    case 'concat': {
      const ost = stridesOf(shape);
      const out = alloc(dtype, n);
      let at = 0;
      node.inputs.forEach((_, k) => {
        const s = inShape(k);
        const map = stridedOffsets(s, ost, at * ost[a.axis]!);
        const x = ins[k]!;
        for (let i = 0; i < x.length; i++) out[map[i]!] = x[i]!;
        at += s[a.axis]!;
      });
      return out;
    }
    case 'matmul':
      return matmul(ins[0]!, ins[1]!, inShape(0), inShape(1), shape, dtype);
    case 'routine': {
      const r = getRoutine(a.name);
      const res = r.evaluate(ins, node.inputs.map((_, k) => inShape(k)), a.params, dtype === 'f32');
      if (res.length !== n) throw new InterpreterError(`routine ${a.name} returned ${res.length} values, shape needs ${n}`);
      if (dtype === 'f64') return res;
      const out = alloc(dtype, n);
      out.set(res);
      return out;
    }
  }
}

function matmul(x: Tensor, y: Tensor, sa: number[], sb: number[], so: number[], dtype: DType): Tensor {
  const M = sa[sa.length - 2]!, K = sa[sa.length - 1]!, N = sb[sb.length - 1]!;
  const batch = so.slice(0, -2);
  const ba = broadcastStrides(sa.slice(0, -2), batch).map((s) => s * M * K);
  const bb = broadcastStrides(sb.slice(0, -2), batch).map((s) => s * K * N);
  const offA = stridedOffsets(batch, ba);
  const offB = stridedOffsets(batch, bb);
  const out = alloc(dtype, numel(so));
  const row = new Float64Array(N);
  for (let bi = 0; bi < offA.length; bi++) {
    const oa = offA[bi]!, ob = offB[bi]!, oo = bi * M * N;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const av = x[oa + i * K + k]!;
        if (av === 0) continue;
        const yo = ob + k * N;
        for (let j = 0; j < N; j++) row[j]! += av * y[yo + j]!;
      }
      out.set(row, oo + i * N);
    }
  }
  return out;
}

/**
 * Evaluate every node of `graph`. `feeds` holds the inputs by input name and the parameters by parameter name.
 * Returns the value of each node, indexed by node id (freed entries are undefined when `keep` is given).
 */
export function evaluate(graph: Graph, feeds: Feeds, opts: EvaluateOptions): (Tensor | undefined)[] {
  const values: (Tensor | undefined)[] = new Array(graph.nodes.length);
  let lastUse: Int32Array | undefined;
  let keep: Set<number> | undefined;
  if (opts.keep) {
    keep = new Set([...opts.keep, ...graph.outputs.values()]);
    lastUse = new Int32Array(graph.nodes.length).fill(-1);
    for (const nd of graph.nodes) for (const i of nd.inputs) lastUse[i] = nd.id;
  }
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => {
      const v = values[i];
      if (!v) throw new InterpreterError(`node ${node.id} (${node.attrs.op}) reads node ${i}, which has no value`);
      return v;
    });
    try {
      values[node.id] = evalNode(node, ins, graph, feeds, opts.dtype);
    } catch (e) {
      if (e instanceof InterpreterError) throw e;
      throw new InterpreterError(`node ${node.id} (${node.attrs.op}${node.scope ? ` in ${node.scope}` : ''}): ${(e as Error).message}`);
    }
    if (lastUse && keep) {
      for (const i of node.inputs) if (lastUse[i] === node.id && !keep.has(i)) values[i] = undefined;
    }
  }
  return values;
}

/** Evaluate and return the named outputs only. */
export function run(graph: Graph, feeds: Feeds, opts: EvaluateOptions): Map<string, Tensor> {
  const vals = evaluate(graph, feeds, { ...opts, keep: opts.keep ?? [] });
  const out = new Map<string, Tensor>();
  for (const [name, id] of graph.outputs) out.set(name, vals[id]!);
  return out;
}
