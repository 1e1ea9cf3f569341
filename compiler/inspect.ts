// `smcirc inspect --graph` data: op counts by kind, parameter table, forward and train-step graph sizes.
import { numel, type Graph, type Node } from './ir/graph.js';
import type { TrainStep } from './train-step.js';

export interface ParamRow {
  name: string;
  shape: number[];
  count: number;
  frozen: boolean;
  group: string;
  init: string;
}

export interface GraphInspection {
  /** Op kind (`matmul`, `unary.exp`, `routine.lstm`, ...) → number of nodes, forward graph. */
  opCounts: Record<string, number>;
  params: ParamRow[];
  totalParams: number;
  trainableParams: number;
  forward: { nodes: number; inputs: number; outputs: number };
  step?: { nodes: number; stateBuffers: number; updatedParams: number; untouched: string[]; opCounts: Record<string, number> };
}

export function opKind(n: Node): string {
  const a = n.attrs;
  switch (a.op) {
    case 'unary': case 'binary': return `${a.op}.${a.fn}`;
    case 'reduce': return `reduce.${a.fn}`;
    case 'routine': return `routine.${a.name}`;
    default: return a.op;
  }
}

export function countOps(graph: Graph): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of graph.nodes) c[opKind(n)] = (c[opKind(n)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
}

const initText = (i: Graph['params'][number]['init']): string => {
  switch (i.kind) {
    case 'normal': return `N(0, ${i.std})`;
    case 'uniform': return `U(±${+i.bound.toPrecision(4)})`;
    case 'xavier_uniform': return `xavier(${i.fanIn}, ${i.fanOut})`;
    default: return i.kind;
  }
};

export function inspectGraph(forward: Graph, step?: TrainStep): GraphInspection {
  const params = forward.params.map((p) => ({
    name: p.name, shape: [...p.shape], count: numel(p.shape), frozen: p.frozen, group: p.group, init: initText(p.init),
  }));
  const r: GraphInspection = {
    opCounts: countOps(forward),
    params,
    totalParams: params.reduce((a, p) => a + p.count, 0),
    trainableParams: params.filter((p) => !p.frozen).reduce((a, p) => a + p.count, 0),
    forward: { nodes: forward.nodes.length, inputs: forward.inputs.size, outputs: forward.outputs.size },
  };
  if (step) {
    r.step = {
      nodes: step.graph.nodes.length,
      stateBuffers: step.state.length,
      updatedParams: step.state.filter((s) => s.kind === 'param').length,
      untouched: step.untouched,
      opCounts: countOps(step.graph),
    };
  }
  return r;
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');

/** Plain-text report for the CLI. */
export function formatInspection(r: GraphInspection): string {
  const lines: string[] = [];
  lines.push(`forward graph: ${fmtInt(r.forward.nodes)} nodes, ${r.forward.inputs} inputs, ${r.forward.outputs} outputs`);
  if (r.step) {
    lines.push(`train step:    ${fmtInt(r.step.nodes)} nodes, ${r.step.stateBuffers} state buffers, ${r.step.updatedParams} parameters updated`);
    if (r.step.untouched.length) lines.push(`  no gradient (left unchanged): ${r.step.untouched.join(', ')}`);
  }
  lines.push('', 'ops (forward):');
  const w = Math.max(...Object.keys(r.opCounts).map((k) => k.length), 4);
  for (const [k, v] of Object.entries(r.opCounts)) lines.push(`  ${k.padEnd(w)}  ${String(v).padStart(6)}`);
  lines.push('', 'parameters:');
  const nw = Math.max(...r.params.map((p) => p.name.length), 4);
  const sw = Math.max(...r.params.map((p) => `[${p.shape.join(', ')}]`.length), 5);
  for (const p of r.params) {
    lines.push(`  ${p.name.padEnd(nw)}  ${`[${p.shape.join(', ')}]`.padEnd(sw)}  ${fmtInt(p.count).padStart(11)}  ${p.group}${p.frozen ? ' (frozen)' : ''}  ${p.init}`);
  }
  lines.push(`  total ${fmtInt(r.totalParams)}, trainable ${fmtInt(r.trainableParams)}`);
  return lines.join('\n');
}
