// Train-step construction: unused parameters skipped like torch's grad-None, frozen / stop-gradient parameters,
// glob parameter groups, clipping, and the inspect report.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { buildTrainStep, globToRegExp, initTrainState, paramGroup, trainStepOptionsFromSettings } from '../../compiler/train-step.js';
import { inspectGraph, formatInspection } from '../../compiler/inspect.js';
import { initParams } from '../../runtime/abi/init.js';
import { validateGraph } from '../../compiler/ir/validate.js';
import * as L from '../../compiler/layers/index.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';

function model(flag: number) {
  const g = new GraphBuilder();
  const x = g.input('x', [2, 3]);
  const y = g.input('y', [2, 1]);
  const main = g.scoped('main', () => L.linear(g, x, { in: 3, out: 1 }));
  const gen = g.scoped('gen', () => L.linear(g, x, { in: 3, out: 1 }));
  const frozen = g.scoped('frozen', () => L.linear(g, x, { in: 3, out: 1, frozen: true }));
  const sg = g.scoped('sg', () => L.linear(g, g.stopGradient(x), { in: 3, out: 1 }));
  const pred = g.add2(g.add2(g.select(g.scalar(flag), gen, main), frozen), g.stopGradient(sg));
  g.output('loss', L.l1Loss(g, pred, y));
  return g.build();
}

describe('train step', () => {
  const batch = new Map([['x', Float32Array.from([1, 2, 3, -1, 0.5, 2])], ['y', Float32Array.from([0.3, -0.2])]]);
  it('parameters with an all-zero gradient keep value, m, v and step count (torch: grad None)', () => {
    const graph = model(0); // `gen` feeds only the unselected branch
    const step = buildTrainStep(graph, { loss: 'loss', lr: 0.1, weightDecay: 0.5, maxGradNorm: 1 });
    validateGraph(step.graph);
    expect(step.untouched.sort()).toEqual(['sg.bias', 'sg.weight']);
    expect(step.state.some((s) => s.param?.startsWith('frozen.'))).toBe(false);
    const st0 = initTrainState(step, initParams(graph.params, 3));
    const r = runTrainStep(step, st0, batch, { dtype: 'f64' });
    expect(Array.from(r.state.get('gen.weight')!)).toEqual(Array.from(st0.get('gen.weight')!));
    expect(Array.from(r.state.get('adam.m.gen.weight')!)).toEqual([0, 0, 0]);
    expect(r.state.get('adam.t.gen.weight')![0]).toBe(0);
    expect(r.state.get('adam.t.main.weight')![0]).toBe(1);
    expect(r.state.get('adam.step')![0]).toBe(1);
    expect(Array.from(r.state.get('main.weight')!)).not.toEqual(Array.from(st0.get('main.weight')!));
    // without the rule, weight decay moves the unused parameter
    const eager = buildTrainStep(graph, { loss: 'loss', lr: 0.1, weightDecay: 0.5, skipUnused: false });
    const r2 = runTrainStep(eager, initTrainState(eager, initParams(graph.params, 3)), batch, { dtype: 'f64' });
    expect(Array.from(r2.state.get('gen.weight')!)).not.toEqual(Array.from(st0.get('gen.weight')!));
  });
  it('a skipped parameter starts its own bias correction when it is first used', () => {
    const graph = model(1);
    const step = buildTrainStep(graph, { loss: 'loss', lr: 0.1 });
    const st = initTrainState(step, initParams(graph.params, 3));
    st.set('adam.step', Float32Array.from([5]));
    const r = runTrainStep(step, st, batch, { dtype: 'f64' });
    // first real step: |Δp| = lr · |m̂| / (√v̂ + eps) = lr (up to eps) whatever the global step count
    const d = Array.from(r.state.get('gen.weight')!).map((v, i) => Math.abs(v - st.get('gen.weight')![i]!));
    for (const v of d) expect(v).toBeCloseTo(0.1, 6);
  });
  it('glob parameter groups: `*` crosses dots, first matching group wins, settings map to options', () => {
    expect(globToRegExp('head.*.bias').test('head.dense.bias')).toBe(true);
    expect(globToRegExp('head.*.bias').test('head.dense.weight')).toBe(false);
    expect(globToRegExp('*.bias').test('a.b.c.bias')).toBe(true);
    const o = trainStepOptionsFromSettings({
      optimizer: 'adam', lr: 1e-3, eps: 1e-8, betas: [0.9, 0.999], weight_decay: 1e-4, clip_grad_norm: 0,
      batch_size: 4, early_stop: 1, max_epochs: 1, seeds: [1], inject_nan_at_step: 0,
      groups: [{ name: 'nb', params: ['head.*.bias'], weight_decay: 0 }, { name: 'all_head', params: ['head.*'], lr: 5e-4 }],
    });
    expect(o.maxGradNorm).toBeNull();
    const P = (name: string) => ({ name, shape: [1], init: { kind: 'zeros' as const }, frozen: false, group: 'default', node: 0 });
    expect(paramGroup(P('head.dense.bias'), o)).toEqual({ group: 'nb', lr: 1e-3, weightDecay: 0 });
    expect(paramGroup(P('head.dense.weight'), o)).toEqual({ group: 'all_head', lr: 5e-4, weightDecay: 1e-4 });
    expect(paramGroup(P('fusion.out.weight'), o)).toEqual({ group: 'default', lr: 1e-3, weightDecay: 1e-4 });
  });
  it('inspectGraph: op counts, parameter table, forward and step sizes', () => {
    const graph = model(1);
    const step = buildTrainStep(graph, { loss: 'loss', lr: 0.1 });
    const r = inspectGraph(graph, step);
    expect(r.opCounts.matmul).toBe(4);
    expect(r.opCounts['unary.abs']).toBe(1);
    expect(r.totalParams).toBe(16);
    expect(r.trainableParams).toBe(12);
    expect(r.forward.nodes).toBe(graph.nodes.length);
    expect(r.step!.nodes).toBe(step.graph.nodes.length);
    expect(r.step!.updatedParams).toBe(4);
    const text = formatInspection(r);
    expect(text).toMatch(/frozen\.weight\s+\[1, 3\]\s+3\s+default \(frozen\)\s+N\(0, 0\.02\)/);
    expect(text).toMatch(/no gradient \(left unchanged\): sg\.weight, sg\.bias/);
  });
});
