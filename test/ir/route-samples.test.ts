// Sample routing (compiler/passes/route-samples.ts): the generators run on compacted flagged samples, and the
// routed graphs give the unrouted graphs' predictions, DMFD states, loss, gradients and Adam updates (dropout on)
// on the interpreter, up to the order of float sums. The batch-axis analysis refuses what mixes samples, and a kernel
// that would compute something undefined from zeroed rows is not treated as a safe sum.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { validateGraph } from '../../compiler/ir/validate.js';
import { routeSamples } from '../../compiler/passes/route-samples.js';
import { singularAtZero } from '../../compiler/passes/route-dispatch.js';
import { acc, bin, c, load, un, type Expr, type ExprKernel } from '../../compiler/kernels/ir.js';
import { initTrainState } from '../../compiler/train-step.js';
import { initParams } from '../../runtime/abi/init.js';
import { makeSyntheticDataset } from '../../runtime/data/index.js';
import { run, type Feeds } from '../../runtime/interpreter/index.js';
import { runTrainStep } from '../../runtime/interpreter/train.js';
import { batchTensors } from '../../runtime/train/data-source.js';
import { SEED_INPUT } from '../../runtime/abi/names.js';

const spec = join(import.meta.dirname, '../../specs/smcir.smcir');
const TINY = ['T_L=6', 'd_L=8', 'T_V=7', 'd_V=3', 'T_A=5', 'd_A=2', 'hidden1=4', 'hidden2=4', 'num_layers=1', 'transformer_layers=1', 'heads=1', 'out_dim=4', 'head_hidden=4', 'eval.dmfd_stats="batch"', 'train.batch_size=8', 'eval.batch_size=8'];
const B = 8;

function batch(): Feeds {
  const ds = makeSyntheticDataset({ seed: 3, nTrain: B, nValid: B, nTest: B, textLen: 6, textDim: 8, visionLen: 7, visionDim: 3, audioLen: 5, audioDim: 2 });
  const b = batchTensors(ds.train, B, 'label');
  b.get('vision')!.fill(0, 1 * 7 * 3, 3 * 7 * 3); // samples 1-2 lose their vision, 5 its audio: DMFD flags some
  b.get('audio')!.fill(0, 5 * 5 * 2, 6 * 5 * 2);
  return b as Feeds;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-9): void => {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  expect(worst, what).toBeLessThanOrEqual(tol);
};

describe('sample routing', () => {
  const routed: CompiledModel = compileModel(spec, { overrides: TINY });
  const plain: CompiledModel = compileModel(spec, { overrides: TINY, route: false });

  test('both generators are routed in the train and eval graphs; the routed graphs are valid', () => {
    expect(routed.routes.train.map((r) => r.scope)).toEqual(['cmcg', 'cmcg']);
    expect(routed.routes.eval).toHaveLength(2);
    expect(plain.routes.train).toHaveLength(0);
    validateGraph(routed.forward);
    validateGraph(routed.eval);
    validateGraph(routed.train.graph);
    // each region holds its generator's LSTM and its fusion network's encoder
    for (const r of routed.routes.eval) {
      const scopes = r.region.map((id) => routed.eval.nodes[id]!.scope);
      expect(scopes.some((s) => /gen_[va]\.lstm/.test(s))).toBe(true);
      expect(scopes.some((s) => /fusion_[va]\.encoder/.test(s))).toBe(true);
      expect(scopes.some((s) => s.startsWith('fusion.') || s.startsWith('head') || s.startsWith('dmfd'))).toBe(false);
    }
  });

  test('eval forward: the same predictions, states and regenerated modalities (f64)', () => {
    const feeds = batch();
    const params = initParams(plain.eval.params, 1111);
    for (const [k, v] of params) feeds.set(k, v);
    const a = run(routed.eval, feeds, { dtype: 'f64' });
    const b = run(plain.eval, feeds, { dtype: 'f64' });
    const sv = b.get('state_v')!;
    expect([...sv].filter((x) => x >= 1).length).toBeGreaterThan(0);
    expect([...a.get('state_v')!]).toEqual([...sv]);
    expect([...a.get('state_a')!]).toEqual([...b.get('state_a')!]);
    for (const k of ['pred', 'vision_hat', 'audio_hat']) close(a.get(k)!, b.get(k)!, k);
  });

  test('train step with dropout: loss, gradient norm and every parameter and Adam state after 3 steps', () => {
    const params = initParams(plain.forward.params, 1111);
    let [sa, sb] = [initTrainState(routed.train, params), initTrainState(plain.train, params)];
    for (let k = 1; k <= 3; k++) {
      const feeds = batch();
      feeds.set(SEED_INPUT, Float64Array.of(100 + k));
      const ra = runTrainStep(routed.train, sa, feeds, { dtype: 'f64' });
      const rb = runTrainStep(plain.train, sb, feeds, { dtype: 'f64' });
      close([ra.loss, ra.gradNorm], [rb.loss, rb.gradNorm], `step ${k} loss, grad norm`);
      for (const s of plain.train.state) close(ra.state.get(s.name)!, rb.state.get(s.name)!, `step ${k}: ${s.name}`, 1e-8);
      [sa, sb] = [ra.state, rb.state];
    }
    // the generators did train (their parameters moved)
    const moved = plain.train.state.filter((s) => s.kind === 'param' && s.name.startsWith('cmcg.gen_v.lstm') && sa.get(s.name)!.some((v, i) => v !== params.get(s.name)![i]));
    expect(moved.length).toBeGreaterThan(0);
  });

  test('a generator that mixes samples is not routed, and says why', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [4, 3]);
    const m = g.input('m', [4, 1]);
    const mixed = g.mul(x, g.mean(x, [0], true)); // divides by a batch statistic: reads other samples
    g.output('y', g.select(m, g.unary('tanh', g.sub(x, mixed)), x));
    const r = routeSamples(g.build());
    expect(r.routes).toHaveLength(1); // tanh(x − mixed) is per sample; the statistic is computed outside
    expect(r.routes[0]!.region).toHaveLength(3); // x · mean, x − that, tanh
    const h = new GraphBuilder();
    const y = h.input('y', [4, 3]);
    const n = h.input('n', [4, 1]);
    const perm = h.matmul(h.tensor(new Float64Array(16).fill(0.25), [4, 4]), y); // mixes rows: no region
    h.output('z', h.select(n, h.unary('tanh', perm), y));
    const s = routeSamples(h.build());
    expect(s.routes).toHaveLength(0);
  });
});

describe('zero-tail safety', () => {
  const kernel = (expr: Expr): ExprKernel => ({
    kind: 'expr', name: 'k', shape: [4], inputs: [{ name: 'compacted', size: 16 }, { name: 'weights', size: 4 }],
    reduce: { size: 4, stages: [{ op: 'sum', prologue: expr }] }, outputs: [{ name: 'out', size: 4, expr: acc(0) }],
  });
  const batch = new Set(['compacted']);
  const x = load(0, [1, 4]);
  const w = load(1, [1, 0]);
  test('a sum of products of zeroed rows is safe; dividing by them, or their log, is not', () => {
    expect(singularAtZero(kernel(bin('mul', x, w)), batch)).toBe(false);
    expect(singularAtZero(kernel(bin('div', x, w)), batch)).toBe(false); // zero numerator: 0
    expect(singularAtZero(kernel(bin('div', w, x)), batch)).toBe(true);
    expect(singularAtZero(kernel(bin('mul', un('log', x), w)), batch)).toBe(true);
    expect(singularAtZero(kernel(un('rsqrt', bin('add', x, c(1e-5)))), batch)).toBe(true); // conservative
    expect(singularAtZero(kernel(un('rsqrt', w)), batch)).toBe(false);
  });
});
