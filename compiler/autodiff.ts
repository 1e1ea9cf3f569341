// Reverse-mode autodiff on the tensor graph: one VJP rule per primitive op. Elementwise ops take theirs from the op
// table (compiler/ops), routines carry their own.
//
// Gradients are new nodes appended to the same builder. stop_gradient, rand, the ops and routines whose rule is
// 'none' (comparisons, sign, histograms) pass no gradient; nor does select's condition. Frozen parameters are never
// differentiated (callers pass only the nodes they want in `wrt`).
import { GraphBuilder, type Node, type Shape } from './ir/graph.js';
import { getRoutine } from './ir/routines/index.js';
import { BINARY, UNARY } from './ops/index.js';

type Vjp = (g: GraphBuilder, node: Node, dOut: number, needs: boolean[]) => (number | undefined)[];

/** Does gradient flow from this node's output to its input k at all? */
export function passesGradient(node: Node, k: number): boolean {
  const a = node.attrs;
  switch (a.op) {
    case 'input': case 'param': case 'const': case 'tensor': case 'rand': case 'stop_gradient':
      return false;
    case 'unary': return UNARY[a.fn].vjp !== 'none';
    case 'binary': return BINARY[a.fn].vjp !== 'none';
    case 'select': return k !== 0;
    case 'routine': {
      const r = getRoutine(a.name);
      return r.vjp !== 'none' && !r.noGradient?.includes(k);
    }
    default: return true;
  }
}

/** Sum `grad` (of shape `from`) down to the broadcast source shape `to`. */
export function unbroadcast(g: GraphBuilder, grad: number, to: Shape): number {
  const from = g.shape(grad);
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let d = 0; d < from.length; d++) {
    if (d < lead || (to[d - lead] === 1 && from[d] !== 1)) axes.push(d);
  }
  const s = axes.length ? g.sum(grad, axes) : grad;
  return g.reshape(s, to);
}

const inShape = (g: GraphBuilder, node: Node, k: number): number[] => g.shape(node.inputs[k]!);

function unaryVjp(g: GraphBuilder, node: Node, d: number): number | undefined {
  if (node.attrs.op !== 'unary') return undefined;
  const rule = UNARY[node.attrs.fn].vjp;
  if (rule === 'none') return undefined;
  return rule({ g, x: node.inputs[0]!, y: node.id, d, c: (v) => g.scalar(v) });
}

function binaryVjp(g: GraphBuilder, node: Node, d: number, needs: boolean[]): (number | undefined)[] {
  if (node.attrs.op !== 'binary') return [];
  const rule = BINARY[node.attrs.fn].vjp;
  if (rule === 'none') return [undefined, undefined];
  const [a, b] = node.inputs as [number, number];
  const zero = g.scalar(0);
  const grad = (k: 0 | 1, f: () => number): number | undefined => (needs[k] ? unbroadcast(g, f(), inShape(g, node, k)) : undefined);
  return rule({ g, a, b, y: node.id, d, zero, grad });
}

function matmulVjp(g: GraphBuilder, node: Node, d: number, needs: boolean[]): (number | undefined)[] {
  const [a, b] = node.inputs as [number, number];
  const sa = g.shape(a), sb = g.shape(b);
  const K = sa[sa.length - 1]!, N = sb[sb.length - 1]!, M = sa[sa.length - 2]!;
  let da: number | undefined;
  let db: number | undefined;
  if (needs[0]) da = unbroadcast(g, g.matmul(d, g.transpose(b)), sa);
  if (needs[1]) {
    if (sb.length === 2 && sa.length > 2) {
      // [..., M, K] x [K, N]: fold the batch into M so dB is one matmul.
      const a2 = g.reshape(a, [-1, K]);
      const d2 = g.reshape(d, [-1, N]);
      db = g.matmul(g.transpose(a2), d2);
    } else {
      db = unbroadcast(g, g.matmul(g.transpose(a), d), sb);
    }
  }
  void M;
  return [da, db];
}

const RULES: Record<string, Vjp> = {
  unary: (g, node, d) => [unaryVjp(g, node, d)],
  binary: binaryVjp,
  select: (g, node, d, needs) => {
    const zero = g.scalar(0);
    const c = node.inputs[0]!;
    return [
      undefined,
      needs[1] ? unbroadcast(g, g.select(c, d, zero), inShape(g, node, 1)) : undefined,
      needs[2] ? unbroadcast(g, g.select(c, zero, d), inShape(g, node, 2)) : undefined,
    ];
  },
  reduce: (g, node, d) => {
    if (node.attrs.op !== 'reduce') return [];
    const s = inShape(g, node, 0);
    const axes = node.attrs.axes;
    const kept = s.map((n, i) => (axes.includes(i) ? 1 : n));
    const dk = g.broadcastTo(g.reshape(d, kept), s);
    if (node.attrs.fn === 'sum') return [dk];
    const yk = g.broadcastTo(g.reshape(node.id, kept), s);
    const mask = g.binary('eq', node.inputs[0]!, yk);
    const count = g.sum(mask, axes, true);
    return [g.div(g.mul(dk, mask), count)];
  },
  reshape: (g, node, d) => [g.reshape(d, inShape(g, node, 0))],
  permute: (g, node, d) => {
    if (node.attrs.op !== 'permute') return [];
    const inv = new Array<number>(node.attrs.perm.length);
    node.attrs.perm.forEach((p, i) => { inv[p] = i; });
    return [g.permute(d, inv)];
  },
  slice: (g, node, d) => {
    if (node.attrs.op !== 'slice') return [];
    const s = inShape(g, node, 0);
    let r = d;
    for (let ax = 0; ax < s.length; ax++) r = g.pad(r, ax, node.attrs.starts[ax]!, s[ax]! - node.attrs.ends[ax]!);
    return [r];
  },
  pad: (g, node, d) => {
    if (node.attrs.op !== 'pad') return [];
    const s = inShape(g, node, 0);
    let r = d;
    for (let ax = 0; ax < s.length; ax++) r = g.slice(r, ax, node.attrs.before[ax]!, node.attrs.before[ax]! + s[ax]!);
    return [r];
  },
  broadcast: (g, node, d) => [unbroadcast(g, d, inShape(g, node, 0))],
  concat: (g, node, d, needs) => {
    if (node.attrs.op !== 'concat') return [];
    const axis = node.attrs.axis;
    let at = 0;
    return node.inputs.map((_, k) => {
      const len = inShape(g, node, k)[axis]!;
      const r = needs[k] ? g.slice(d, axis, at, at + len) : undefined;
      at += len;
      return r;
    });
  },
  matmul: matmulVjp,
  routine: (g, node, d) => {
    if (node.attrs.op !== 'routine') return [];
    const r = getRoutine(node.attrs.name);
    return r.vjp === 'none' ? [] : r.vjp(g, node, d);
  },
};

/** The VJP rule of an op (undefined for sources and ops without a gradient). */
export function vjpRule(op: string): Vjp | undefined {
  return RULES[op];
}

/**
 * Append the gradient of `y` with respect to each node of `wrt` to `g`. `dy` is the cotangent of y (default:
 * ones). Returns a map wrt-node → gradient node; nodes that y does not depend on (differentiably) are absent.
 */
export function gradients(g: GraphBuilder, y: number, wrt: number[], dy?: number): Map<number, number> {
  const nodes = g.nodes;
  // forward: which nodes depend differentiably on some wrt node
  const live = new Uint8Array(y + 1);
  for (const w of wrt) if (w <= y) live[w] = 1;
  for (let i = 0; i <= y; i++) {
    if (live[i]) continue;
    const nd = nodes[i]!;
    if (nd.inputs.some((inp, k) => live[inp] === 1 && passesGradient(nd, k))) live[i] = 1;
  }
  const grads = new Map<number, number>();
  if (!live[y]) return new Map();
  grads.set(y, dy ?? g.broadcastTo(g.scalar(1), g.shape(y)));
  const wrtSet = new Set(wrt);
  for (let i = y; i >= 0; i--) {
    const d = grads.get(i);
    if (d === undefined || !live[i]) continue;
    const nd = nodes[i]!;
    if (nd.inputs.length === 0) continue;
    const rule = RULES[nd.attrs.op];
    if (!rule) continue;
    const needs = nd.inputs.map((inp, k) => live[inp] === 1 && passesGradient(nd, k));
    if (!needs.some(Boolean)) continue;
    const res = rule(g, nd, d, needs);
    nd.inputs.forEach((inp, k) => {
      const gi = res[k];
      if (gi === undefined || !needs[k]) return;
      const prev = grads.get(inp);
      grads.set(inp, prev === undefined ? gi : g.add2(prev, gi));
    });
    if (!wrtSet.has(i)) grads.delete(i);
  }
  const out = new Map<number, number>();
  for (const w of wrt) {
    const gw = grads.get(w);
    if (gw !== undefined) out.set(w, gw);
  }
  return out;
}
