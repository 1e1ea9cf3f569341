// The whole smcir-tiny train step on the f32 interpreter against the PyTorch mirror of the released code:
// DMFD states, outputs, loss, every gradient, the clipped-norm, Adam m / v and every updated parameter, 2 steps.
import { describe, expect, it } from 'vitest';
import { readFixture, fixtureFeeds } from './fixtures.js';
import { FORWARD, GRAD, mismatch, type Tol } from './compare.js';
import { MODEL_CASE, buildModelCase } from './model-case.js';
import { evaluate, type Feeds } from '../../runtime/interpreter/index.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';
import { initTrainState } from '../../compiler/train-step.js';
import { validateGraph } from '../../compiler/ir/validate.js';

describe('smcir-tiny train step vs PyTorch', () => {
  it('forward, loss, gradients and two Adam steps agree within tolerance', () => {
    const f = readFixture(MODEL_CASE);
    const c = buildModelCase();
    validateGraph(c.step.graph);
    const feeds = fixtureFeeds(f);
    const params = new Map(c.graph.params.map((p) => [p.name, feeds.get(p.name)! as Float32Array]));
    let state: Feeds = initTrainState(c.step, params);
    const batch: Feeds = new Map(['text', 'vision', 'audio', 'label'].map((k) => [k, feeds.get(k)!]));
    const problems: string[] = [];
    let checked = 0;
    const check = (k: string, got: ArrayLike<number> | undefined, tol: Tol): void => {
      const ref = f.tensors.get(k);
      if (!ref) { problems.push(`no golden ${k}`); return; }
      if (!got) { problems.push(`no value for ${k}`); return; }
      const m = mismatch(k, got, ref.data, tol);
      if (m) problems.push(m);
      checked++;
    };
    expect(c.step.untouched).toEqual([]);
    for (const k of [1, 2]) {
      const before = state;
      const r = runTrainStep(c.step, state, batch, { dtype: 'f32' });
      if (k === 1) {
        check('out:state_v', r.outputs.get('state_v'), { rtol: 0, atol: 0 });
        check('out:state_a', r.outputs.get('state_a'), { rtol: 0, atol: 0 });
        check('out:pred', r.outputs.get('pred'), { rtol: 1e-4, atol: 1e-9 });
        check('out:vision_hat', r.outputs.get('vision_hat'), FORWARD);
        check('out:audio_hat', r.outputs.get('audio_hat'), FORWARD);
        const gv = evaluate(c.step.graph, new Map([...before, ...batch]), { dtype: 'f32', keep: [...c.step.grads.values()] });
        for (const [name, id] of c.step.grads) check(`step1:grad:${name}`, gv[id], GRAD);
      }
      check(`step${k}:loss`, [r.loss], FORWARD);
      check(`step${k}:grad_norm`, [r.gradNorm], FORWARD);
      state = r.state;
      for (const p of c.graph.params) {
        check(`step${k}:param:${p.name}`, state.get(p.name), FORWARD);
        if (k === 1 && !p.frozen) {
          check(`step1:m:${p.name}`, state.get(`adam.m.${p.name}`), GRAD);
          check(`step1:v:${p.name}`, state.get(`adam.v.${p.name}`), GRAD);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(500);
  });
});

describe('smcir-tiny gradients vs finite differences (f64)', () => {
  it('d loss / d parameter at probes across every block', () => {
    const f = readFixture(MODEL_CASE);
    const c = buildModelCase();
    const feeds = fixtureFeeds(f);
    const f64 = new Map([...feeds].map(([k, v]) => [k, Float64Array.from(v)]));
    const grads = [...c.step.grads];
    const vals = evaluate(c.step.graph, new Map([...f64, ...initTrainState(c.step, new Map(c.graph.params.map((p) => [p.name, feeds.get(p.name)! as Float32Array])))]),
      { dtype: 'f64', keep: grads.map(([, id]) => id) });
    // the step's gradients are clipped: the fixture's norm is below 2, so they are the raw gradients
    const loss = c.graph.outputs.get('loss')!;
    const lossAt = (): number => evaluate(c.graph, f64, { dtype: 'f64', keep: [loss] })[loss]![0]!;
    const picks = grads.filter((_, i) => i % 7 === 0);
    const bad: string[] = [];
    for (const [name, id] of picks) {
      const v = f64.get(name)!;
      const an = vals[id]!;
      let k = 0;
      for (let i = 1; i < an.length; i++) if (Math.abs(an[i]!) > Math.abs(an[k]!)) k = i;
      const old = v[k]!;
      const h = 1e-5;
      v[k] = old + h; const lp = lossAt();
      v[k] = old - h; const lm = lossAt();
      v[k] = old;
      const fd = (lp - lm) / (2 * h);
      if (Math.abs(fd - an[k]!) > 1e-7 + 1e-4 * Math.abs(fd)) bad.push(`${name}[${k}]: analytic ${an[k]}, fd ${fd}`);
    }
    expect(picks.length).toBeGreaterThan(15);
    expect(bad).toEqual([]);
  });
});
