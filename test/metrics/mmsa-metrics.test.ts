import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateSeeds, mmsaRegressionMetrics, mmsaRegressionMetricsRaw, weightedF1Binary } from '../../runtime/metrics/mmsa-metrics.js';
import { numpyRound, pairwiseSumF32, roundHalfEven } from '../../runtime/metrics/round.js';
import { DataError } from '../../runtime/data/errors.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');
const G = JSON.parse(fs.readFileSync(path.join(FIX, 'metric_goldens.json'), 'utf8'));

const norm = (v: number) => (Number.isNaN(v) ? 'NaN' : v);

describe('mmsaRegressionMetrics vs MMSA code run with numpy/sklearn (committed goldens)', () => {
  for (const c of G.cases) {
    it(c.name, () => {
      const got = mmsaRegressionMetrics(c.pred, c.truth);
      const asObj = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, norm(v)]));
      expect(asObj).toEqual(c.expected);
    });
  }

  it('accepts Float32Array and number[] alike', () => {
    const c = G.cases[0];
    expect(mmsaRegressionMetrics(Float32Array.from(c.pred), Float32Array.from(c.truth))).toEqual(mmsaRegressionMetrics(c.pred, c.truth));
  });
});

describe('metric semantics', () => {
  it('Has0 counts truth 0 as non-negative; Non0 drops it', () => {
    const r = mmsaRegressionMetricsRaw([0.5, -0.5, 1], [0, 0, 2]);
    expect(r.Has0_acc_2).toBeCloseTo(2 / 3, 12);
    expect(r.nNonZero).toBe(1);
    expect(r.Non0_acc_2).toBe(1);
  });
  it('MAE uses unclipped values, Acc-7 clipped', () => {
    const r = mmsaRegressionMetrics([10], [3]);
    expect(r.MAE).toBe(7);
    expect(r.Mult_acc_7).toBe(1);
    expect(r.Mult_acc_5).toBe(1);
  });
  it('weighted F1 weights by true support', () => {
    // truth: 3 pos, 1 neg; pred all pos -> F1(pos)=2*0.75*1/1.75, F1(neg)=0
    expect(weightedF1Binary([true, true, true, false], [true, true, true, true])).toBeCloseTo(0.75 * ((2 * 0.75) / 1.75), 12);
    // swapped-argument (pre-2021 MMSA) would weight by predicted support (=1.0 * F1(pos)) -> differs
    expect(weightedF1Binary([true, true, true, true], [true, true, true, false])).not.toBeCloseTo(0.75 * ((2 * 0.75) / 1.75), 6);
  });
  it('rejects mismatched lengths, empty input, NaN', () => {
    expect(() => mmsaRegressionMetrics([1, 2], [1])).toThrow(DataError);
    expect(() => mmsaRegressionMetrics([], [])).toThrow(/at least one/);
    expect(() => mmsaRegressionMetrics([NaN], [1])).toThrow(/NaN/);
  });
  it('aggregateSeeds gives MMSA CSV cells (x100, 2 dp, population std)', () => {
    const a = mmsaRegressionMetrics([1, -1], [1, -1]);
    const b = mmsaRegressionMetrics([1, 1], [1, -1]);
    const agg = aggregateSeeds([a, b]);
    expect(agg.Has0_acc_2).toEqual([75, 25]);
    expect(agg.MAE).toEqual([50, 50]);
  });
});

describe('numpy rounding', () => {
  const R = G.rounding;
  it('rint rounds half to even', () => {
    expect(R.values.map((v: number) => roundHalfEven(v))).toEqual(R.rint);
    expect([0.5, 1.5, 2.5, -1.5, -2.5].map(roundHalfEven)).toEqual([0, 2, 2, -2, -2]);
  });
  it('np.round(np.float64, 4) and (np.float32, 4) match numpy', () => {
    expect(R.values.map((v: number) => numpyRound(v, 4))).toEqual(R.round4_f64);
    expect(R.values.map((v: number) => numpyRound(v, 4, true))).toEqual(R.round4_f32);
    expect(R.values.map((v: number) => numpyRound(v, 2))).toEqual(R.round2_f64);
  });
  it('float32 pairwise sum / mean match np.sum / np.mean on float32', () => {
    for (const g of G.sums) {
      const a = new Float32Array(g.n);
      for (let i = 0; i < g.n; i++) a[i] = ((i * 7919) % 10007) / 101;
      const s = pairwiseSumF32(a);
      expect(s).toBe(g.sum);
      expect(Math.fround(s / g.n)).toBe(g.mean);
    }
    // and it is not the naive float32 loop (which drifts for n = 4659)
    const g = G.sums.find((x: { n: number }) => x.n === 4659);
    const a = new Float32Array(4659).map((_, i) => ((i * 7919) % 10007) / 101);
    let naive = 0;
    for (const v of a) naive = Math.fround(naive + v);
    expect(naive).not.toBe(g.sum);
  });
});
