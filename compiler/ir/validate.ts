// Graph validator, run between passes (tests, debug mode): ids, topological order, shapes (re-derived through
// GraphBuilder's own shape rules), sources, parameters, outputs and routine registration.
import { GraphBuilder, numel, type Graph, type Node } from './graph.js';
import { routineNames } from './routines/index.js';

export class GraphValidationError extends Error {
  override readonly name = 'GraphValidationError';
  constructor(readonly problems: string[]) {
    super(`invalid graph:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … ${problems.length - 20} more` : ''}`);
  }
}

/** Re-derive a node's shape by replaying its op on a scratch builder whose sources have the input shapes. */
function derivedShape(node: Node, inShapes: number[][]): number[] {
  const g = new GraphBuilder();
  const ins = inShapes.map((s, i) => {
    g.nodes.push({ id: i, attrs: { op: 'input', name: `in${i}` }, inputs: [], shape: s, scope: '' });
    return i;
  });
  const a = node.attrs;
  const x = ins[0]!;
  switch (a.op) {
    case 'input': case 'param': case 'rand': return node.shape;
    case 'const': return [];
    case 'tensor': return node.shape;
    case 'unary': return g.shape(g.unary(a.fn, x));
    case 'binary': return g.shape(g.binary(a.fn, x, ins[1]!));
    case 'select': return g.shape(g.select(x, ins[1]!, ins[2]!));
    case 'reduce': return g.shape(g.reduce(a.fn, x, a.axes, a.keepdims));
    case 'reshape': return g.shape(g.reshape(x, node.shape));
    case 'permute': return g.shape(g.permute(x, a.perm));
    case 'slice': {
      let r = x;
      a.starts.forEach((s, d) => { r = g.slice(r, d, s, a.ends[d]!); });
      return g.shape(r);
    }
    case 'pad': {
      let r = x;
      a.before.forEach((b, d) => { r = g.pad(r, d, b, a.after[d]!); });
      return g.shape(r);
    }
    case 'broadcast': return g.shape(g.broadcastTo(x, node.shape));
    case 'concat': return g.shape(g.concat(ins, a.axis));
    case 'matmul': return g.shape(g.matmul(x, ins[1]!));
    case 'stop_gradient': return g.shape(g.stopGradient(x));
    case 'routine': return g.shape(g.routine(a.name, ins, a.params));
  }
}

/** All problems found (empty: valid). */
export function graphProblems(graph: Graph): string[] {
  const p: string[] = [];
  const known = new Set(routineNames());
  graph.nodes.forEach((n, i) => {
    const where = `node ${i} (${n.attrs.op}${n.scope ? ` in ${n.scope}` : ''})`;
    if (n.id !== i) p.push(`${where}: id ${n.id} ≠ index ${i}`);
    if (!n.shape.every((d) => Number.isInteger(d) && d >= 0)) p.push(`${where}: bad shape [${n.shape.join(', ')}]`);
    for (const inp of n.inputs) if (!(inp >= 0 && inp < i)) p.push(`${where}: input ${inp} is not an earlier node`);
    if (p.length > 100) return;
    if (n.attrs.op === 'routine' && !known.has(n.attrs.name)) { p.push(`${where}: unknown routine ${n.attrs.name}`); return; }
    if (n.attrs.op === 'tensor' && n.attrs.data.length !== numel(n.shape)) p.push(`${where}: constant has ${n.attrs.data.length} values`);
    if (n.attrs.op === 'rand' && (n.inputs.length !== 1 || graph.nodes[n.inputs[0]!]?.shape.length !== 0)) p.push(`${where}: rand needs one scalar seed`);
    if (n.inputs.some((inp) => !(inp >= 0 && inp < i))) return;
    try {
      const s = derivedShape(n, n.inputs.map((k) => graph.nodes[k]!.shape));
      if (s.length !== n.shape.length || s.some((d, k) => d !== n.shape[k])) p.push(`${where}: shape [${n.shape.join(', ')}], its rule gives [${s.join(', ')}]`);
    } catch (e) {
      p.push(`${where}: ${(e as Error).message}`);
    }
  });
  for (const [name, id] of graph.inputs) {
    const n = graph.nodes[id];
    if (!n || n.attrs.op !== 'input' || n.attrs.name !== name) p.push(`input \`${name}\` does not name an input node`);
  }
  const seen = new Set<string>();
  for (const prm of graph.params) {
    const n = graph.nodes[prm.node];
    if (seen.has(prm.name)) p.push(`parameter \`${prm.name}\` is listed twice`);
    seen.add(prm.name);
    if (!n || n.attrs.op !== 'param' || n.attrs.name !== prm.name) p.push(`parameter \`${prm.name}\` does not name its param node`);
    else if (n.shape.join() !== prm.shape.join()) p.push(`parameter \`${prm.name}\`: shape differs from its node`);
  }
  for (const [name, id] of graph.outputs) if (!(id >= 0 && id < graph.nodes.length)) p.push(`output \`${name}\` names no node`);
  return p;
}

/** Throws GraphValidationError listing every problem. */
export function validateGraph(graph: Graph): void {
  const p = graphProblems(graph);
  if (p.length) throw new GraphValidationError(p);
}
