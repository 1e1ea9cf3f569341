// Results over seeds: population std (numpy ddof = 0), MMSA's results-CSV row (a golden in MMSA's own format:
// pandas writing tuples of numpy-1.x floats ×100 rounded to 2 places), AUILC by the trapezoid rule on a
// hand-computed curve, and the missing-rate ranges `eval` accepts.

import { describe, expect, it } from 'vitest';
import { auilc, meanStd, mmsaCsvRow, MMSA_CSV_HEADER, parseRates, seedTable, type SeedResults } from '../../runtime/eval/seeds.js';

const metrics = (acc: number, mae: number, corr: number) => ({ Has0_acc_2: acc, Has0_F1_score: acc - 0.01, Non0_acc_2: acc + 0.01, Non0_F1_score: acc, Mult_acc_5: 0.5, Mult_acc_7: 0.4, MAE: mae, Corr: corr });
const flagged = { vision: 0, audio: 0, both: 0 };
const results: SeedResults = [
  { seed: 1111, conditions: [{ condition: 'LVA', metrics: metrics(0.8344, 0.708, 0.7963), flagged }] },
  { seed: 1112, conditions: [{ condition: 'LVA', metrics: metrics(0.8368, 0.712, 0.8) , flagged }] },
];

describe('results over seeds', () => {
  it('mean ± population std per metric', () => {
    const ms = meanStd(results);
    expect(ms.LVA!.Has0_acc_2).toEqual({ mean: 0.8356, std: 0.0012 });
    expect(ms.LVA!.MAE).toEqual({ mean: 0.71, std: 0.002 });
  });

  it('the paper-style table has all eight metrics, Mult_acc_5 included', () => {
    const t = seedTable(results).split('\n');
    expect(t[0]!.trim().split(/\s+/)).toEqual(['condition', 'MAE', 'Corr', 'Has0_acc_2', 'Non0_acc_2', 'Has0_F1_score', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7']);
    expect(t[1]).toMatch(/^LVA\s+0\.710 ± 0\.002\s+0\.798 ± 0\.002\s+83\.56 ± 0\.12/);
  });

  it('MMSA results-CSV row: "(mean×100, std×100)" per metric, MAE and Corr ×100 too (golden)', () => {
    expect(MMSA_CSV_HEADER).toBe('Model,Has0_acc_2,Has0_F1_score,Non0_acc_2,Non0_F1_score,Mult_acc_5,Mult_acc_7,MAE,Corr');
    expect(mmsaCsvRow('smcir', results, 'LVA')).toBe('smcir,"(83.56, 0.12)","(82.56, 0.12)","(84.56, 0.12)","(83.56, 0.12)","(50.0, 0.0)","(40.0, 0.0)","(71.0, 0.2)","(79.82, 0.19)"');
    // (numpy: a = np.array([0.7963, 0.8]); round(np.mean(a) * 100, 2), round(np.std(a) * 100, 2) → 79.82, 0.19)
  });

  it('AUILC: trapezoid rule over the rates (hand-computed)', () => {
    // rates 0, 0.1, 0.2, 0.3 with values 80, 78, 74, 70: 0.1·(79 + 76 + 72) = 22.7
    expect(auilc([0, 0.1, 0.2, 0.3], [80, 78, 74, 70])).toBeCloseTo(22.7, 10);
    // uneven steps: 0 → 0.5 → 1 with 10, 20, 0: 0.5·15 + 0.5·10 = 12.5
    expect(auilc([0, 0.5, 1], [10, 20, 0])).toBeCloseTo(12.5, 10);
  });

  it('missing rates: one rate or from:to:step, inclusive; anything else refused', () => {
    expect(parseRates('0.3')).toEqual([0.3]);
    expect(parseRates('0:1:0.1')).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(parseRates('0:0.9:0.3')).toEqual([0, 0.3, 0.6, 0.9]);
    for (const bad of ['abc', '1.5', '0:1', '0.5:0.1:0.1', '0:1:0', '0:1:-0.1', '0:1:0.0000001']) expect(parseRates(bad), bad).toBeUndefined();
  });
});
