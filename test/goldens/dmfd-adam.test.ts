// DMFD statistics against numpy/sklearn, and two torch.optim.Adam steps (with clipping, groups, a frozen layer).
import { describe, expect, it } from 'vitest';
import { CASES } from './cases.js';
import { buildCase } from './harness.js';
import { readFixture, fixtureFeeds } from './fixtures.js';
import { FORWARD, GRAD, mismatch } from './compare.js';
import { run } from '../../runtime/interpreter/index.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';
import { initTrainState } from '../../compiler/train-step.js';

const byName = (n: string) => CASES.find((c) => c.name === n)!;

describe('DMFD statistics vs numpy / sklearn', () => {
  const f = readFixture('dmfd_stats');
  const b = buildCase(byName('dmfd_stats'));
  for (const dtype of ['f32', 'f64'] as const) {
    it(`histogram entropy, count MI, all-pairs cosine, score, flags, paper variants (${dtype})`, () => {
      const out = run(b.graph, fixtureFeeds(f), { dtype });
      const g = (k: string): number[] => Array.from(f.tensors.get(`out:${k}`)!.data);
      const o = (k: string): number[] => Array.from(out.get(k)!);
      // counts are exact, so H and MI agree to f32 rounding of the result
      // f32: numpy on the float32 arrays (the released code); f64: numpy on float64 arrays (other edge rounding)
      const sfx = dtype === 'f64' ? '_f64' : '';
      const ref = (k: string): number[] => Array.from(f.tensors.get(dtype === 'f64' ? `ref:${k}${sfx}` : `out:${k}`)!.data);
      expect(mismatch('H', o('H'), ref('H'), { rtol: 1e-6, atol: 1e-7 })).toBeUndefined();
      expect(mismatch('MI', o('MI'), ref('MI'), { rtol: 1e-6, atol: 1e-7 })).toBeUndefined();
      expect(mismatch('S', o('S'), g('S'), { rtol: 1e-4, atol: 1e-6 })).toBeUndefined();
      if (dtype === 'f32') {
        expect(mismatch('F', o('F'), g('F'), FORWARD)).toBeUndefined();
        expect(o('miss')).toEqual(g('miss'));
        expect(mismatch('std', o('std'), g('std'), FORWARD)).toBeUndefined();
      }
      // (f64 pools in f64, which moves sample 2's on-edge values across joint-histogram edges)
      for (const k of dtype === 'f32' ? ['H_paper', 'MI_paper', 'S_paper'] : ['H_paper', 'S_paper']) expect(mismatch(k, o(k), g(k), FORWARD)).toBeUndefined();
      // sample 0 is all zero: H = 0 and S = 0 exactly (reference §18; MI ≈ 0.146 needs a long text, see test/layers/dmfd)
      expect(o('H')[0]).toBe(0);
      expect(o('S')[0]).toBe(0);
    });
  }
});

describe('train step vs torch.optim.Adam', () => {
  it('two steps: loss, clipped gradients, grad norm, parameters, m, v; frozen parameter untouched', () => {
    const c = byName('adam_step');
    const f = readFixture('adam_step');
    const b = buildCase(c);
    const step = b.step!;
    const feeds = fixtureFeeds(f);
    const params = new Map(b.graph.params.map((p) => [p.name, feeds.get(p.name)! as Float32Array]));
    let state = initTrainState(step, params) as Map<string, Float32Array | Float64Array>;
    const batch = new Map([['x', feeds.get('x')!], ['label', feeds.get('label')!]]);
    const problems: string[] = [];
    const check = (k: string, got: ArrayLike<number> | undefined, tol = FORWARD): void => {
      const ref = f.tensors.get(k);
      if (!ref) { problems.push(`no golden ${k}`); return; }
      if (!got) { problems.push(`no value for ${k}`); return; }
      const m = mismatch(k, got, ref.data, tol);
      if (m) problems.push(m);
    };
    expect(step.untouched).toEqual([]);
    expect(step.state.some((s) => s.param === 'frozen.weight')).toBe(false);
    for (let k = 1; k <= 2; k++) {
      const r = runTrainStep(step, state, batch, { dtype: 'f32' });
      if (k === 1) check('out:pred', r.outputs.get('pred'));
      check(`step${k}:loss`, [r.loss]);
      check(`step${k}:grad_norm`, [r.gradNorm]);
      for (const [name, gid] of step.grads) check(`step${k}:grad:${name}`, r.outputs.get(`new:${name}`) && evaluateGrad(step, state, batch, gid), GRAD);
      state = r.state;
      for (const p of b.graph.params) {
        check(`step${k}:param:${p.name}`, state.get(p.name));
        if (!p.frozen) {
          check(`step${k}:m:${p.name}`, state.get(`adam.m.${p.name}`), GRAD);
          check(`step${k}:v:${p.name}`, state.get(`adam.v.${p.name}`), GRAD);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

import { evaluate } from '../../runtime/interpreter/index.js';
import type { TrainStep } from '../../compiler/train-step.js';
function evaluateGrad(step: TrainStep, state: Map<string, Float32Array | Float64Array>, batch: Map<string, Float32Array | Float64Array>, gid: number) {
  return evaluate(step.graph, new Map([...state, ...batch]), { dtype: 'f32', keep: [gid] })[gid];
}
