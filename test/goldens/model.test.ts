// The whole train step on the f32 interpreter against the PyTorch mirror of the released code (scripts/model_goldens.py):
// DMFD states, outputs, loss, every gradient, the clipped norm, Adam m / v and every updated parameter, 2 steps; and
// gradients against finite differences on the f64 interpreter. Two models: smcir-tiny (BERT features in) and
// smcir-bert-tiny (token ids into a 2-layer BERT from the committed checkpoint, its embedding block without gradient,
// the released parameter groups).
import { describe, expect, it } from 'vitest';
import { readFixture, fixtureFeeds } from './fixtures.js';
import { FORWARD, GRAD, mismatch, type Tol } from './compare.js';
import { MODEL_BERT_TINY, MODEL_CASES, buildModelCase, type ModelCaseDef } from './model-case.js';
import { BERT_CHECKPOINT, loadBertWeights } from './bert-case.js';
import { evaluate, type Feeds } from '../../runtime/interpreter/index.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';
import { initTrainState, paramGroup } from '../../compiler/train-step.js';
import { validateGraph } from '../../compiler/ir/validate.js';

/**
 * Gradients and Adam moments also against their own tensor's scale. The §8 init makes pred ~1e-5, so most gradients
 * are far below GRAD's atol 1e-5 (BERT's are at most 2e-5), where the absolute tolerance alone would pass a zero
 * gradient: here atol is 1e-4 of the tensor's largest golden entry. Attention key biases are left to GRAD's atol:
 * their exact gradient is 0 (softmax is shift-invariant along the keys), both sides hold rounding noise (~1e-12).
 */
const scaled = (ref: ArrayLike<number>): Tol => ({ rtol: 1e-3, atol: 1e-4 * Array.from(ref).reduce((m, v) => Math.max(m, Math.abs(v)), 0) });
const ZERO_GRAD = /\.attention\.self\.key\.bias$/;

/** Trainable parameters that get no gradient: smcir-bert's embedding block (torch: .grad None, Adam skips them). */
const untouchedOf = (def: ModelCaseDef, names: string[]): string[] => (def.text === 'tokens' ? names.filter((n) => n.startsWith('bert.embeddings.')) : []);

describe.each(MODEL_CASES.map((d) => [d.name, d] as const))('%s train step vs PyTorch', (_name, def) => {
  it('forward, loss, gradients and two Adam steps agree within tolerance', () => {
    const f = readFixture(def.name);
    const c = buildModelCase(def);
    validateGraph(c.step.graph);
    const feeds = fixtureFeeds(f);
    const params = new Map(c.graph.params.map((p) => [p.name, feeds.get(p.name)! as Float32Array]));
    let state: Feeds = initTrainState(c.step, params);
    const batch: Feeds = new Map(['text', 'vision', 'audio', 'label'].map((k) => [k, feeds.get(k)!]));
    const problems: string[] = [];
    let checked = 0;
    const check = (k: string, got: ArrayLike<number> | undefined, tol: Tol | 'grad'): void => {
      const ref = f.tensors.get(k);
      if (!ref) { problems.push(`no golden ${k}`); return; }
      if (!got) { problems.push(`no value for ${k}`); return; }
      const m = mismatch(k, got, ref.data, tol === 'grad' ? GRAD : tol) ?? (tol === 'grad' && !ZERO_GRAD.test(k) ? mismatch(`${k} (scaled)`, got, ref.data, scaled(ref.data)) : undefined);
      if (m) problems.push(m);
      checked++;
    };
    const untouched = untouchedOf(def, c.graph.params.map((p) => p.name));
    expect(c.step.untouched).toEqual(untouched);
    // PyTorch's gradients are ours: the same parameters, none for the untouched ones
    const goldenGrads = [...f.tensors.keys()].filter((k) => k.startsWith('step1:grad:')).map((k) => k.slice('step1:grad:'.length));
    expect(goldenGrads.sort()).toEqual([...c.step.grads.keys()].sort());
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
        for (const [name, id] of c.step.grads) check(`step1:grad:${name}`, gv[id], 'grad');
      }
      check(`step${k}:loss`, [r.loss], FORWARD);
      check(`step${k}:grad_norm`, [r.gradNorm], FORWARD);
      state = r.state;
      for (const p of c.graph.params) {
        check(`step${k}:param:${p.name}`, state.get(p.name), FORWARD);
        if (k === 1 && c.step.grads.has(p.name)) {
          check(`step1:m:${p.name}`, state.get(`adam.m.${p.name}`), 'grad');
          check(`step1:v:${p.name}`, state.get(`adam.v.${p.name}`), 'grad');
        }
      }
    }
    for (const n of untouched) expect(Array.from(state.get(n)!), n).toEqual(Array.from(params.get(n)!));
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(500);
  });

  it('gradients vs finite differences (f64): d loss / d parameter at probes across every block', async () => {
    const f = readFixture(def.name);
    const c = buildModelCase(def);
    const feeds = fixtureFeeds(f);
    const f64 = new Map([...feeds].map(([k, v]) => [k, Float64Array.from(v)]));
    const grads = [...c.step.grads];
    const vals = evaluate(c.step.graph, new Map<string, Float32Array | Float64Array>([...f64, ...initTrainState(c.step, new Map(c.graph.params.map((p) => [p.name, feeds.get(p.name)! as Float32Array])))]),
      { dtype: 'f64', keep: grads.map(([, id]) => id) });
    // the step's gradients are clipped: the fixture's norm is below 2, so they are the raw gradients
    expect(f.tensors.get('step1:grad_norm')!.data[0]).toBeLessThan(c.opts.maxGradNorm!);
    const loss = c.graph.outputs.get('loss')!;
    const lossAt = (): number => evaluate(c.graph, f64, { dtype: 'f64', keep: [loss] })[loss]![0]!;
    const picks = grads.filter((_, i) => i % 7 === 0);
    const bad: string[] = [];
    for (const [name, id] of picks) {
      // yield between probes: one long synchronous stretch would starve the test worker's RPC (vitest's 60 s deadline)
      await new Promise((r) => setImmediate(r));
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

describe('smcir-bert-tiny golden request', () => {
  it('holds the checkpoint’s BERT (mapped by runtime/weights now as when exported) and the released parameter groups', () => {
    const f = readFixture(MODEL_BERT_TINY.name);
    const c = buildModelCase(MODEL_BERT_TINY);
    const w = loadBertWeights(c.graph);
    expect((f.meta as { bert: unknown }).bert).toEqual({ checkpoint: BERT_CHECKPOINT, sha256: w.sha256 });
    expect(w.values.size).toBe(37);
    for (const [name, v] of w.values) expect(Array.from(f.tensors.get(`param:${name}`)!.data), name).toEqual(Array.from(v));
    // smcir-bert.smcir's groups at smcir-tiny's lr 1e-3 and weight decay 1e-4: BERT's biases and LayerNorm
    // weights, and the head's biases, without decay
    const group = (n: string) => {
      const g = paramGroup(c.graph.params.find((p) => p.name === n)!, c.opts);
      return [g.group, g.lr, g.weightDecay];
    };
    expect(group('bert.encoder.layer.0.attention.self.query.weight')).toEqual(['default', 1e-3, 1e-4]);
    expect(group('bert.encoder.layer.0.attention.self.query.bias')).toEqual(['bert_no_decay', 1e-3, 0]);
    expect(group('bert.encoder.layer.1.out.LayerNorm.weight')).toEqual(['bert_no_decay', 1e-3, 0]);
    expect(group('bert.embeddings.LayerNorm.weight')).toEqual(['bert_no_decay', 1e-3, 0]);
    expect(group('head.out_proj.bias')).toEqual(['head_bias', 1e-3, 0]);
    expect(group('cmcg.gen_v.fc1.bias')).toEqual(['default', 1e-3, 1e-4]);
    expect(c.opts).toMatchObject({ eps: 1e-8, betas: [0.9, 0.999], maxGradNorm: 2 });
  });
});
