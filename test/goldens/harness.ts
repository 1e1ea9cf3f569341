// Builds a golden case's graph (+ gradients or train step) and its exported inputs/parameters.
import { GraphBuilder, numel, type Graph } from '../../compiler/ir/graph.js';
import { gradients } from '../../compiler/autodiff.js';
import { buildTrainStep, type TrainStep } from '../../compiler/train-step.js';
import { initParams } from '../../runtime/abi/init.js';
import { rngNormal, streamOf } from '../../runtime/abi/rng.js';
import type { GoldenCase } from './cases.js';

export interface BuiltCase {
  graph: Graph;
  /** Gradient output names `grad:<input or param>`. */
  gradNames: string[];
  step?: TrainStep;
}

export function buildCase(c: GoldenCase): BuiltCase {
  const g = new GraphBuilder();
  c.build(g);
  const gradNames: string[] = [];
  if (c.grads ?? true) {
    const out = g.outputs.get('out')!;
    const cot = g.input('cot', g.shape(out));
    const prod = g.mul(out, cot);
    const loss = g.sum(prod, g.shape(prod).map((_, i) => i));
    const targets: [string, number][] = [
      ...[...g.inputs].filter(([n]) => n !== 'cot'),
      ...g.params.filter((p) => !p.frozen).map((p) => [p.name, p.node] as [string, number]),
    ];
    const gr = gradients(g, loss, targets.map(([, id]) => id));
    for (const [n, id] of targets) {
      const gid = gr.get(id);
      if (gid !== undefined) { g.output(`grad:${n}`, gid); gradNames.push(`grad:${n}`); }
    }
  }
  const graph = g.build();
  const step = c.train ? buildTrainStep(graph, c.train) : undefined;
  return { graph, gradNames, step };
}

const randn = (n: number, seed: number, name: string, scale: number): Float32Array => {
  const a = new Float32Array(n);
  const st = streamOf(name);
  for (let i = 0; i < n; i++) a[i] = scale * rngNormal(seed, st, i);
  return a;
};

/** The exported request: inputs (`in:<name>`) and parameters (`param:<name>`). */
export function caseFeeds(c: GoldenCase, b: BuiltCase): [string, number[], Float32Array][] {
  const t: [string, number[], Float32Array][] = [];
  for (const [name, id] of b.graph.inputs) {
    const shape = b.graph.nodes[id]!.shape;
    const gen = c.inputs?.[name];
    t.push([`in:${name}`, shape, gen ? gen(numel(shape)) : randn(numel(shape), 77, name, 1)]);
  }
  const init = c.params === 'init' ? initParams(b.graph.params, 1111) : undefined;
  for (const p of b.graph.params) t.push([`param:${p.name}`, p.shape, init ? init.get(p.name)! : randn(numel(p.shape), 78, p.name, 0.3)]);
  return t;
}
