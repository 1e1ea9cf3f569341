// Sample routing: `where(mask, G, x)` with a per-sample mask computes G only for the samples the mask flags, as the
// released code does with its per-sample loop, but batched. The pass finds G's region — the nodes only G uses that
// never mix samples (a batch-axis analysis) — gathers the region's inputs into compacted order (flagged samples
// first), runs the region there and scatters the result back:
//   pos[b] = Σ_{j<b} m[j]    count = Σ_b m[b]    idx[i] = Σ_b b · m[b] · [pos[b] = i]
//   region input X → gather(X, idx)      where(m, G, x) → where(m, gather(G_compact, pos), x)
// Compacted rows ≥ count hold sample 0's inputs; nothing reads their results, so their gradient is exactly zero.
// The routed graph equals the original up to the order of float sums; the rows a routed program must compute are
// the first `count` (the `routes` record, read by compiler/passes/route-dispatch.ts to size dispatches).
import { GraphBuilder, numel, type Graph, type Node, type SourceSpan } from '../ir/graph.js';
import { batchRowsOf, getRoutine } from '../ir/routines/registry.js';
import { isInternalName } from '../../runtime/abi/names.js';

/** The batch axis of a value: axis `axis` of its shape is B · inner, the batch index outermost. */
export interface BatchAxis {
  axis: number;
  inner: number;
}
/** null: carries no batch axis (parameters, constants, batch statistics); 'bad': one the analysis cannot follow. */
export type BatchInfo = BatchAxis | null | 'bad';

export interface Route {
  /** The batch size the graph was built for. */
  batch: number;
  /** The routed `where`'s scope and source position, for messages. */
  scope: string;
  span?: SourceSpan;
  /** Node ids, in the routed graph, of the count of flagged samples (a scalar), the compacted sample indices
   *  (gathers by them enter the region) and the region's nodes. */
  count: number;
  idx: number;
  /** Each original sample's compacted position (the scatter back gathers by it; its gradient sums by it). */
  pos: number;
  region: number[];
}

export interface RoutedGraph {
  graph: Graph;
  routes: Route[];
  /** Why a `where` with a per-sample mask was not routed (one line each). */
  skipped: string[];
}

const same = (a: BatchAxis, b: BatchAxis): boolean => a.axis === b.axis && a.inner === b.inner;

/** Merges the batch axes of inputs aligned to an output; 'bad' when they disagree. */
function agree(axes: BatchInfo[]): BatchInfo {
  let out: BatchAxis | null = null;
  for (const a of axes) {
    if (a === 'bad') return 'bad';
    if (a === null) continue;
    if (out && !same(out, a)) return 'bad';
    out = a;
  }
  return out;
}

/** Where the batch axis of a reshape's input lands in its output (the batch must stay an outermost factor). */
function reshapeAxis(inShape: readonly number[], a: BatchAxis, outShape: readonly number[], B: number): BatchInfo {
  const before = numel(inShape.slice(0, a.axis));
  const per = a.inner * numel(inShape.slice(a.axis + 1)); // elements per batch index within one outer block
  let prefix = 1;
  for (let k = 0; k < outShape.length; k++) {
    if (prefix === before && outShape[k]! % B === 0) {
      const inner = outShape[k]! / B;
      if (inner * numel(outShape.slice(k + 1)) === per) return { axis: k, inner };
    }
    prefix *= outShape[k]!;
    if (prefix > before) break;
  }
  return 'bad';
}

interface Analysis {
  info: BatchInfo[];
  /** The op keeps samples apart (a region may hold it). */
  separable: boolean[];
  /** Depends on a `rand` node (dropout noise is laid out per element and must be gathered with the samples). */
  noisy: boolean[];
}

/**
 * Forward batch-axis analysis over the graph. The batch comes from the data inputs with leading size B, or, with
 * `sources`, from those nodes only (a route's compacted samples: its gathered inputs).
 */
function analyseBatch(graph: Graph, B: number, sources?: Map<number, BatchAxis>): Analysis {
  const n = graph.nodes.length;
  const info: BatchInfo[] = new Array(n).fill(null);
  const separable: boolean[] = new Array(n).fill(false);
  const noisy: boolean[] = new Array(n).fill(false);
  const batchInputs = sources ? new Set<number>() : new Set([...graph.inputs].filter(([name, id]) => !isInternalName(name) && graph.nodes[id]!.shape[0] === B).map(([, id]) => id));
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => info[i]!);
    noisy[node.id] = node.attrs.op === 'rand' || node.inputs.some((i) => noisy[i]);
    const R = node.shape.length;
    const shift = (k: number): BatchInfo => {
      const a = ins[k]!;
      if (a === null || a === 'bad') return a;
      return { axis: a.axis + R - graph.nodes[node.inputs[k]!]!.shape.length, inner: a.inner };
    };
    let out: BatchInfo = null;
    let sep = true;
    const at = node.attrs;
    const source = sources?.get(node.id);
    if (source) {
      info[node.id] = source;
      separable[node.id] = true;
      continue;
    }
    switch (at.op) {
      case 'input':
        out = batchInputs.has(node.id) ? { axis: 0, inner: 1 } : null;
        break;
      case 'param': case 'const': case 'tensor': case 'rand':
        out = null;
        break;
      case 'unary': case 'binary': case 'select': case 'stop_gradient': case 'broadcast':
        out = agree(node.inputs.map((_, k) => shift(k)));
        break;
      case 'reduce': {
        const a = ins[0]!;
        if (a === null || a === 'bad') out = a;
        else if (at.axes.includes(a.axis)) [out, sep] = [null, false];
        else out = { axis: at.keepdims ? a.axis : a.axis - at.axes.filter((x) => x < a.axis).length, inner: a.inner };
        break;
      }
      case 'reshape': {
        const a = ins[0]!;
        out = a === null || a === 'bad' ? a : reshapeAxis(graph.nodes[node.inputs[0]!]!.shape, a, node.shape, B);
        break;
      }
      case 'permute': {
        const a = ins[0]!;
        out = a === null || a === 'bad' ? a : { axis: at.perm.indexOf(a.axis), inner: a.inner };
        break;
      }
      case 'slice': case 'pad': {
        const a = ins[0]!;
        const touches = a !== null && a !== 'bad' && (at.op === 'slice'
          ? at.starts[a.axis] !== 0 || at.ends[a.axis] !== graph.nodes[node.inputs[0]!]!.shape[a.axis]
          : at.before[a.axis] !== 0 || at.after[a.axis] !== 0);
        out = touches ? 'bad' : a;
        break;
      }
      case 'concat':
        out = agree(node.inputs.map((_, k) => shift(k)));
        if (out && out !== 'bad' && out.axis === at.axis) out = 'bad';
        break;
      case 'matmul': {
        const res: BatchInfo[] = [];
        node.inputs.forEach((id, k) => {
          const a = ins[k]!;
          const r = graph.nodes[id]!.shape.length;
          if (a === null || a === 'bad') return void res.push(a);
          const contracted = k === 0 ? r - 1 : r - 2;
          if (a.axis === contracted) return void (sep = false);
          if (a.axis === r - 2 && k === 0) return void res.push({ axis: R - 2, inner: a.inner });
          if (a.axis === r - 1 && k === 1) return void res.push({ axis: R - 1, inner: a.inner });
          res.push({ axis: a.axis + R - r, inner: a.inner });
        });
        out = sep ? agree(res) : null;
        break;
      }
      case 'routine': {
        const rows = batchRowsOf(getRoutine(at.name), at.params);
        const ok = rows !== undefined
          && rows.every((k) => { const a = ins[k]; return a === null || (a !== 'bad' && a.axis === 0 && a.inner === 1); })
          && ins.every((a, k) => rows.includes(k) || a === null);
        const carried = rows?.some((k) => ins[k] !== null) ?? false;
        if (ok) out = carried ? { axis: 0, inner: 1 } : null;
        else [out, sep] = [ins.every((a) => a === null) ? null : 'bad', false];
        break;
      }
    }
    info[node.id] = out;
    separable[node.id] = sep && out !== 'bad';
  }
  return { info, separable, noisy };
}

/** Users of every node. */
function usersOf(graph: Graph): number[][] {
  const users: number[][] = graph.nodes.map(() => []);
  for (const node of graph.nodes) for (const i of new Set(node.inputs)) users[i]!.push(node.id);
  return users;
}

interface Candidate {
  select: Node;
  region: Set<number>;
}

/** The region of `where(m, G, x)`: G's ancestors that carry the batch, keep samples apart and serve only the region. */
function findRegion(graph: Graph, an: Analysis, users: number[][], outputs: Set<number>, S: Node): Set<number> | string {
  const [, gId] = S.inputs as [number, number, number];
  const region = new Set<number>();
  const stack = [gId];
  while (stack.length) {
    const id = stack.pop()!;
    if (region.has(id)) continue;
    const a = an.info[id]!;
    if (a === null || a === 'bad' || !an.separable[id] || graph.nodes[id]!.attrs.op === 'input') continue;
    region.add(id);
    stack.push(...graph.nodes[id]!.inputs);
  }
  // nodes used outside the region (or read as outputs) stay outside, with everything above them that others use
  for (let changed = true; changed;) {
    changed = false;
    for (const id of region) {
      const inside = (u: number): boolean => region.has(u) || (u === S.id && id === gId);
      if (outputs.has(id) || !users[id]!.every(inside)) {
        region.delete(id);
        changed = true;
      }
    }
  }
  if (!region.has(gId)) return 'its generated value is used elsewhere or mixes samples';
  return region;
}

const ELEMENTWISE = new Set(['unary', 'binary', 'select', 'stop_gradient', 'broadcast']);

/**
 * How input i of region node `node` enters the region: gathered along a batch axis, or as it is (no batch). Dropout
 * noise carries no batch axis of its own; it is gathered along the axis it aligns with in an elementwise consumer.
 */
function entryAxis(graph: Graph, an: Analysis, node: Node, i: number): BatchAxis | null | string {
  const a = an.info[i]!;
  if (a === 'bad') return `${graph.nodes[i]!.scope || 'a value'} has a batch axis the analysis cannot follow`;
  if (a !== null) return a;
  const s = graph.nodes[i]!.shape;
  const out = an.info[node.id] as BatchAxis;
  const axis = out.axis - (node.shape.length - s.length);
  if (axis < 0 || s[axis] !== node.shape[out.axis] || s[axis] === 1) return null; // broadcast along the batch
  if (an.noisy[i] && ELEMENTWISE.has(node.attrs.op)) return { axis, inner: out.inner };
  return `${node.scope || 'a node'} reads a per-row value without a batch axis (${graph.nodes[i]!.attrs.op})`;
}

function entryProblem(graph: Graph, an: Analysis, region: Set<number>): string | undefined {
  for (const id of region) {
    const node = graph.nodes[id]!;
    for (const i of node.inputs) {
      if (region.has(i)) continue;
      const e = entryAxis(graph, an, node, i);
      if (typeof e === 'string') return e;
    }
  }
  return undefined;
}

/** The mask of a select, when it is one value per sample aligned on the output's batch axis 0. */
function perSampleMask(graph: Graph, an: Analysis, S: Node, B: number): number | undefined {
  const [m, a, b] = S.inputs as [number, number, number];
  const out = agree([an.info[a]!, an.info[b]!].map((x, k) => (x === null || x === 'bad' ? x : { axis: x.axis + S.shape.length - graph.nodes[S.inputs[k + 1]!]!.shape.length, inner: x.inner })));
  if (out === null || out === 'bad' || out.axis !== 0 || out.inner !== 1) return undefined;
  const ms = graph.nodes[m]!.shape;
  if (ms.length !== S.shape.length || ms[0] !== B || ms.slice(1).some((d) => d !== 1)) return undefined;
  const g = graph.nodes[a]!;
  if (g.shape.length !== S.shape.length || g.shape.some((d, i) => d !== S.shape[i])) return undefined;
  return m;
}

/** Routes every `where` with a per-sample mask whose generated branch forms a region; other graphs come back as they are. */
export function routeSamples(graph: Graph): RoutedGraph {
  const users = usersOf(graph);
  const outputs = new Set(graph.outputs.values());
  const batchSizes = [...graph.inputs].filter(([name]) => !isInternalName(name)).map(([, id]) => graph.nodes[id]!.shape[0]);
  const B = batchSizes[0];
  const skipped: string[] = [];
  if (B === undefined || B < 2 || batchSizes.some((b) => b !== B)) return { graph, routes: [], skipped };
  const an = analyseBatch(graph, B);
  const candidates: Candidate[] = [];
  const taken = new Set<number>();
  // outermost first: a `where` inside another's generated branch belongs to the outer region
  for (const S of [...graph.nodes].reverse()) {
    if (S.attrs.op !== 'select') continue;
    if (perSampleMask(graph, an, S, B) === undefined) continue;
    const found = findRegion(graph, an, users, outputs, S);
    const why = typeof found === 'string' ? found : entryProblem(graph, an, found);
    if (why !== undefined || typeof found === 'string') {
      if (graph.nodes[S.inputs[1]!]!.attrs.op !== 'input') skipped.push(`${S.scope || 'model'}: where(...) not routed: ${why}`);
      continue;
    }
    if (found.size < 2 || [...found].some((id) => taken.has(id))) continue;
    candidates.push({ select: S, region: found });
    for (const id of found) taken.add(id);
  }
  if (candidates.length === 0) return { graph, routes: [], skipped };
  return rewrite(graph, an, B, candidates, skipped);
}

/** Emits the routed graph: nodes in dependency order, region nodes on compacted samples. */
function rewrite(graph: Graph, an: Analysis, B: number, candidates: Candidate[], skipped: string[]): RoutedGraph {
  const g = new GraphBuilder();
  const regionOf = new Map<number, number>();
  candidates.forEach((c, k) => c.region.forEach((id) => regionOf.set(id, k)));
  const selectOf = new Map(candidates.map((c, k) => [c.select.id, k]));
  const done = new Map<number, number>(); // original id → routed id (outside the regions and region nodes alike)
  const routeIdx: { idx: number; pos: number; count: number }[] = [];
  const gathered = new Map<string, number>();
  const emitted: number[][] = candidates.map(() => []);

  const value = (id: number): number => {
    const v = done.get(id);
    if (v === undefined) throw new Error(`route-samples: node ${id} used before it was emitted`);
    return v;
  };

  /** Index vectors of route k from its mask (emitted once, from the routed mask). */
  const indices = (k: number): { idx: number; pos: number; count: number } => {
    if (routeIdx[k]) return routeIdx[k]!;
    const S = candidates[k]!.select;
    const scope = S.scope ? `${S.scope}.route` : 'route';
    return (routeIdx[k] = g.atScope(scope, () => {
      const m = g.stopGradient(g.reshape(value(S.inputs[0]!), [1, B]));
      const before = new Float64Array(B * B); // before[j, b] = [j < b]
      const iota = new Float64Array(B);
      for (let j = 0; j < B; j++) {
        iota[j] = j;
        for (let b = j + 1; b < B; b++) before[j * B + b] = 1;
      }
      const pos = g.matmul(m, g.tensor(before, [B, B])); // [1, B]
      const count = g.reshape(g.sum(m, [1]), []);
      const hit = g.binary('eq', g.reshape(g.tensor(iota, [B]), [B, 1]), pos); // [i, b]: pos[b] = i
      const idx = g.sum(g.mul(g.mul(hit, m), g.reshape(g.tensor(iota, [B]), [1, B])), [1]); // [B]
      return { idx, pos: g.reshape(pos, [B]), count };
    }));
  };

  /** Rows of value v (original node x, batch axis a) in the order of index vector `by`. */
  const gatherRows = (x: number, v: number, a: BatchAxis, by: number, key: string): number => {
    const hit = gathered.get(key);
    if (hit !== undefined) return hit;
    const s = graph.nodes[x]!.shape;
    const perm = [a.axis, ...s.keys()].filter((d, i) => i === 0 || d !== a.axis);
    const moved = g.permute(v, perm); // batch axis first
    const ms = perm.map((d) => s[d]!);
    const rows = g.routine('gather', [g.reshape(moved, [B, numel(ms) / B]), by]);
    const back = g.permute(g.reshape(rows, ms), perm.map((_, i) => perm.indexOf(i)));
    gathered.set(key, back);
    return back;
  };

  const emit = (node: Node): number => {
    const k = regionOf.get(node.id);
    const s = selectOf.get(node.id);
    if (s !== undefined) {
      const S = candidates[s]!;
      const { pos } = indices(s);
      const gId = S.select.inputs[1]!;
      const back = g.atScope(S.select.scope, () => gatherRows(gId, value(gId), { axis: 0, inner: 1 }, pos, `scatter:${s}`));
      return g.atScope(S.select.scope, () => g.select(value(S.select.inputs[0]!), back, value(S.select.inputs[2]!)));
    }
    if (k === undefined) return g.copyNode(node, node.inputs.map(value));
    // a region node: inputs from outside the region are gathered into compacted order
    const { idx } = indices(k);
    const inputs = node.inputs.map((i) => {
      if (regionOf.get(i) === k) return value(i);
      const a = entryAxis(graph, an, node, i) as BatchAxis | null;
      return a === null ? value(i) : g.atScope(node.scope, () => gatherRows(i, value(i), a, idx, `${k}:${i}:${a.axis}`));
    });
    const id = g.copyNode(node, inputs);
    emitted[k]!.push(id);
    return id;
  };

  // dependency order: a region's index vectors need its mask, which the original order may place after the region
  const need = (id: number): number[] => {
    const node = graph.nodes[id]!;
    const s = selectOf.get(id) ?? regionOf.get(id);
    return s === undefined ? node.inputs : [...node.inputs, candidates[s]!.select.inputs[0]!];
  };
  for (const root of graph.nodes) {
    if (done.has(root.id)) continue;
    const stack: [number, boolean][] = [[root.id, false]];
    while (stack.length) {
      const [id, ready] = stack.pop()!;
      if (done.has(id)) continue;
      if (ready) {
        done.set(id, emit(graph.nodes[id]!));
        continue;
      }
      stack.push([id, true]);
      for (const i of need(id)) if (!done.has(i)) stack.push([i, false]);
    }
  }
  const out: Graph = {
    nodes: g.nodes,
    inputs: new Map([...graph.inputs].map(([k, v]) => [k, value(v)])),
    params: graph.params.map((p) => ({ ...p, node: value(p.node) })),
    outputs: new Map([...graph.outputs].map(([k, v]) => [k, value(v)])),
  };
  const routes = candidates.map((c, k) => ({ batch: B, scope: c.select.scope, span: c.select.span, count: routeIdx[k]!.count, idx: routeIdx[k]!.idx, pos: routeIdx[k]!.pos, region: emitted[k]! }));
  return { graph: out, routes, skipped };
}

/** A route's compacted nodes in a (possibly differentiated) routed graph, and the nodes that sum over them. */
export interface Compacted {
  /** Nodes holding compacted samples of the route, with their batch axis (computed sample by sample). */
  nodes: Map<number, BatchAxis>;
  /**
   * Nodes that sum over the compacted samples (a weight or bias gradient, a gather's gradient, the scatter back):
   * given zeros in the rows past the count of what they read, they compute exactly what the unrouted graph does.
   */
  sums: Set<number>;
  /** Nodes outside the compacted ones whose value depends on compacted rows other than through such a sum. */
  touched: Set<number>;
}

/**
 * The nodes of a routed graph (or its train step) that hold compacted samples of route r: the route's gathered
 * inputs and the gradient the scatter back sends to the compacted samples, and everything computed from them
 * sample by sample.
 */
export function compactedNodes(graph: Graph, r: Route): Compacted {
  const sources = new Map<number, BatchAxis>();
  for (const n of graph.nodes) {
    if (n.attrs.op !== 'routine') continue;
    if ((n.attrs.name === 'gather' && n.inputs[1] === r.idx) || (n.attrs.name === 'gather_backward' && n.inputs[0] === r.pos)) {
      sources.set(n.id, { axis: 0, inner: 1 });
    }
  }
  const an = analyseBatch(graph, r.batch, sources);
  const nodes = new Map<number, BatchAxis>();
  an.info.forEach((a, id) => {
    if (a !== null && a !== 'bad' && an.separable[id]) nodes.set(id, a);
  });
  const sums = new Set<number>();
  for (const n of graph.nodes) {
    if (nodes.has(n.id) || !n.inputs.some((i) => nodes.has(i))) continue;
    const a = n.attrs;
    const linear = (a.op === 'reduce' && a.fn === 'sum') || a.op === 'matmul'
      || (a.op === 'routine' && (a.name === 'gather_backward' || (a.name === 'gather' && n.inputs[1] === r.pos)));
    if (linear) sums.add(n.id);
  }
  const touched = new Set<number>();
  for (const n of graph.nodes) {
    if (nodes.has(n.id) || sums.has(n.id)) continue;
    if (n.inputs.some((i) => (nodes.has(i) && !sums.has(n.id)) || touched.has(i))) touched.add(n.id);
  }
  return { nodes, sums, touched };
}
