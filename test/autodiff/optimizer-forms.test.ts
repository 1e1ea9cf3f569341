// The two forms of clipping + Adam agree on the interpreter: the `adam_update` routine (the default) against the
// per-parameter graph ops (optimizer: 'primitives', the form of 15393ab and the benchmark's unfused baseline), on
// the smcir-tiny train step for 3 steps, with clipping, weight decay, pattern groups and an unused parameter.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { buildTrainStep, initTrainState, type TrainStepOptions } from '../../compiler/train-step.js';
import { initParams } from '../../runtime/abi/init.js';
import { validateGraph } from '../../compiler/ir/validate.js';
import * as L from '../../compiler/layers/index.js';
import type { DType, Feeds } from '../../runtime/interpreter/evaluate.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';
import { buildModelCase, modelFeeds } from '../goldens/model-case.js';

describe('optimizer forms: adam_update routine = per-parameter primitives', () => {
  const c = buildModelCase();
  // smcir-tiny plus a parameter on a branch that is never selected: its gradient is all zero (torch: grad None)
  const g = GraphBuilder.from(c.graph);
  const text = c.graph.inputs.get('text')!;
  const extra = g.scoped('unused', () => g.sum(L.linear(g, text, { in: g.shape(text).at(-1)!, out: 2 }), g.shape(text).map((_, i) => i)));
  const loss = g.add2(c.graph.outputs.get('loss')!, g.select(g.scalar(0), extra, g.scalar(0)));
  const forward = g.build();
  const opts: TrainStepOptions = {
    ...c.opts, loss, weightDecay: 0.01, maxGradNorm: 0.05,
    patternGroups: [
      { name: 'no_decay', params: ['*.bias'], weightDecay: 0 },
      { name: 'fusion', params: ['fusion.*'], lr: 3e-3, weightDecay: 0.1 },
    ],
  };
  const routine = buildTrainStep(forward, opts);
  const prims = buildTrainStep(forward, { ...opts, optimizer: 'primitives' });
  const batch: Feeds = new Map();
  for (const [k, , v] of modelFeeds(c)) if (k.startsWith('in:')) batch.set(k.slice(3), v);

  it('both steps are valid graphs with the same state bindings and outputs', () => {
    validateGraph(routine.graph);
    validateGraph(prims.graph);
    const adamNodes = (s: typeof routine): number => s.graph.nodes.filter((n) => n.attrs.op === 'routine' && n.attrs.name === 'adam_update').length;
    expect([adamNodes(routine), adamNodes(prims)]).toEqual([1, 0]);
    expect(prims.state.map((s) => [s.name, s.kind, s.param, s.shape])).toEqual(routine.state.map((s) => [s.name, s.kind, s.param, s.shape]));
    expect([...prims.graph.outputs.keys()].sort()).toEqual([...routine.graph.outputs.keys()].sort());
    expect([...prims.grads.keys()]).toEqual([...routine.grads.keys()]);
    expect(prims.untouched).toEqual(routine.untouched);
  });

  for (const dtype of ['f64', 'f32'] as DType[]) {
    it(`3 steps in ${dtype}: loss, grad_norm and every state buffer bit-identical`, () => {
      const init = initTrainState(routine, initParams(forward.params, 1111));
      let [a, b]: Feeds[] = [init, new Map(init)];
      const groups = new Set<string>();
      for (let k = 1; k <= 3; k++) {
        const ra = runTrainStep(routine, a, batch, { dtype });
        const rb = runTrainStep(prims, b, batch, { dtype });
        expect(ra.gradNorm).toBeGreaterThan(opts.maxGradNorm!); // clipping is active
        expect(rb.loss).toBe(ra.loss);
        expect(rb.gradNorm).toBe(ra.gradNorm);
        for (const s of routine.state) expect(Array.from(rb.state.get(s.name)!), `step ${k}: ${s.name}`).toEqual(Array.from(ra.state.get(s.name)!));
        [a, b] = [ra.state, rb.state];
        for (const s of routine.state) if (s.kind === 'param' && s.name.startsWith('fusion.')) groups.add(s.name.endsWith('.bias') ? 'no_decay' : 'fusion');
      }
      expect(groups).toEqual(new Set(['no_decay', 'fusion']));
      // the unused parameter kept its value and step count; the others took 3 steps
      for (const p of ['unused.weight', 'unused.bias']) {
        expect(Array.from(a.get(p)!)).toEqual(Array.from(init.get(p)!));
        expect(a.get(`adam.t.${p}`)![0]).toBe(0);
      }
      for (const s of routine.state) if (s.kind === 'step' && s.param && s.param !== 'unused.weight' && s.param !== 'unused.bias') expect(a.get(s.name)![0]).toBe(3);
      expect(a.get('adam.step')![0]).toBe(3);
    });
  }
});
