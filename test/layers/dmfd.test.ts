// DMFD: histogram edge cases, the count-vector MI, all-pairs cosine, pooling windows, the §18 numbers, and the
// threshold rule / joint state 2 on constructed batches.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import * as L from '../../compiler/layers/index.js';
import { histogramCounts, mutualInfoScore, countsEntropy } from '../../compiler/ir/routines/index.js';
import { run } from '../../runtime/interpreter/index.js';
import { rngNormal } from '../../runtime/abi/rng.js';

const f32 = (a: number[]): Float32Array => Float32Array.from(a);

describe('numpy histogram semantics', () => {
  it('30 bins over [min, max], the max value in the last bin, constant input uses min ± 0.5', () => {
    const v = f32([0, 1, 2, 3]);
    expect(Array.from(histogramCounts(v, 0, 4, 3, true))).toEqual([1, 1, 2]);
    const c = histogramCounts(f32([5, 5, 5]), 0, 3, 30, true);
    expect(c[15]).toBe(3);
    expect(countsEntropy(c)).toBe(0);
    const z = histogramCounts(new Float32Array(10), 0, 10, 30, true);
    expect(z[15]).toBe(10);
  });
  it('entropy in nats; uniform over 30 bins gives ln 30', () => {
    const v = f32(Array.from({ length: 30 }, (_, i) => i));
    expect(countsEntropy(histogramCounts(v, 0, 30, 30, true))).toBeCloseTo(Math.log(30), 12);
  });
  it('mutual_info_score: single class → 0, identical labelings → entropy, clipping at 0', () => {
    expect(mutualInfoScore([3, 3, 3], [1, 2, 3])).toBe(0);
    expect(mutualInfoScore([1, 2, 1, 2], [5, 6, 5, 6])).toBeCloseTo(Math.log(2), 14);
    expect(mutualInfoScore([1, 1, 2, 2], [5, 6, 5, 6])).toBe(0);
  });
});

describe('reference §18 numbers', () => {
  it('all-zero sample: H = 0, MI = (1/30)ln30 + (29/30)ln(30/29) ≈ 0.146 against a text with distinct counts, S = 0', () => {
    // text sample whose 30 bin counts are 1..30 (all distinct): bin k gets k+1 values at its centre
    const text: number[] = [];
    for (let k = 0; k < 30; k++) for (let j = 0; j <= k; j++) text.push(k + 0.5);
    text[0] = 0; // pin the range to [0, 29.5] … keep bin 0's single value inside bin 0
    const g = new GraphBuilder();
    const x = g.input('x', [1, 465, 1]);
    const y = g.input('y', [1, 465, 1]);
    g.output('H', L.histEntropy(g, x));
    g.output('MI', L.countMI(g, x, y));
    g.output('S', L.allPairsCosine(g, x, y));
    const o = run(g.build(), new Map([['x', new Float32Array(465)], ['y', f32(text)]]), { dtype: 'f64' });
    const counts = histogramCounts(f32(text), 0, 465, 30, true);
    expect(new Set(counts).size).toBe(30);
    expect(o.get('H')![0]).toBe(0);
    expect(o.get('MI')![0]).toBeCloseTo(Math.log(30) / 30 + (29 / 30) * Math.log(30 / 29), 12);
    expect(o.get('MI')![0]).toBeCloseTo(0.146, 3);
    expect(o.get('S')![0]).toBe(0);
  });
  it('adaptive pooling windows: 500→50 blocks of 10; 375→50 windows of 8 overlapping by one on alternate bins', () => {
    const m = L.adaptivePoolMatrix(500, 50);
    for (let i = 0; i < 50; i++) for (let j = 0; j < 500; j++) expect(m[i * 500 + j]).toBe(Math.floor(j / 10) === i ? 0.1 : 0);
    const a = L.adaptivePoolMatrix(375, 50);
    const win = (i: number): number[] => [...Array(375).keys()].filter((j) => a[i * 375 + j]! > 0);
    expect(win(0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(win(1)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
    expect(win(2)).toEqual([15, 16, 17, 18, 19, 20, 21, 22]);
  });
  it('interpolation 500→50 reads frames 4, 5 (½, ½) and 375→50 frames 3, 4 (¾, ¼) at step 0 (align_corners=False)', () => {
    const v = L.interpolationMatrix(500, 50, false);
    expect([v[4], v[5]]).toEqual([0.5, 0.5]);
    const a = L.interpolationMatrix(375, 50, false);
    expect([a[3], a[4]]).toEqual([0.75, 0.25]);
    const t = L.interpolationMatrix(50, 375, true);
    expect(t[0]).toBe(1);
    expect(t[374 * 50 + 49]).toBe(1);
  });
});

/** Batch of B samples, [B, T, D] projected features; `zeroed` samples are all zero. */
function scores(B: number, zeroed: (b: number) => boolean, sameText = false): { F: Float32Array; S: Float32Array; miss: Float32Array; status: Float32Array } {
  const [T, D, TL] = [40, 16, 20];
  const xv = new Float32Array(B * T * D);
  const xl = new Float32Array(B * TL * D);
  for (let i = 0; i < xv.length; i++) xv[i] = zeroed(Math.floor(i / (T * D))) ? 0 : 0.02 * rngNormal(3, 1, i);
  for (let i = 0; i < xl.length; i++) xl[i] = 0.02 * rngNormal(3, 2, sameText ? i % (TL * D) : i);
  const g = new GraphBuilder();
  const v = g.input('v', [B, T, D]);
  const l = g.input('l', [B, TL, D]);
  const s = L.allPairsCosine(g, L.adaptiveAvgPoolTime(g, v, TL), l);
  const f = L.dmfdScore(g, L.histEntropy(g, v), L.countMI(g, v, l), s);
  const miss = L.dmfdMissing(g, f, s);
  g.output('F', f);
  g.output('S', s);
  g.output('miss', miss);
  g.output('status', L.dmfdStatus(g, miss, miss));
  const o = run(g.build(), new Map([['v', xv], ['l', xl]]), { dtype: 'f32' });
  return { F: o.get('F') as Float32Array, S: o.get('S') as Float32Array, miss: o.get('miss') as Float32Array, status: o.get('status') as Float32Array };
}

describe('threshold rule and joint state (reference §4.6, current batch only)', () => {
  it('half the batch zeroed → every zeroed sample flagged, no intact one', () => {
    const r = scores(16, (b) => b % 2 === 0);
    for (let b = 0; b < 16; b++) expect(r.miss[b], `sample ${b}`).toBe(b % 2 === 0 ? 1 : 0);
  });
  it('whole batch zeroed → H = S = 0 for all, F = 0.3·MI(text) nearly constant: only its lower tail is flagged', () => {
    // Documented behaviour (reference §4.6/§11): the rule is batch-relative, so a modality zeroed for the whole
    // batch is mostly not detected; what is flagged depends only on how spread each sample's text histogram is.
    const r = scores(32, () => true);
    expect(Array.from(r.S).every((v) => v === 0)).toBe(true);
    const flagged = r.miss.reduce((a, v) => a + v, 0);
    expect(flagged).toBeLessThan(16);
    const thr = Math.min(...Array.from(r.F).filter((_, b) => r.miss[b] === 0));
    for (let b = 0; b < 32; b++) if (r.miss[b] === 1) expect(r.F[b]!).toBeLessThan(thr);
  });
  it('whole batch zeroed with identical texts → identical scores, σ = 0 exactly, nobody flagged', () => {
    const r = scores(8, () => true, true);
    expect(new Set(r.F).size).toBe(1);
    expect(Array.from(r.miss)).toEqual(new Array(8).fill(0));
  });
  it('S > 0 means present whatever the score', () => {
    const g = new GraphBuilder();
    const f = g.input('f', [4]);
    const s = g.input('s', [4]);
    g.output('m', L.dmfdMissing(g, f, s));
    const m = run(g.build(), new Map([['f', f32([0, 3, 3, 3])], ['s', f32([0.01, -0.01, -0.01, -0.01])]]), { dtype: 'f32' }).get('m')!;
    expect(Array.from(m)).toEqual([0, 0, 0, 0]);
    const m2 = run(g.build(), new Map([['f', f32([0, 3, 3, 3])], ['s', f32([0, -0.01, -0.01, -0.01])]]), { dtype: 'f32' }).get('m')!;
    expect(Array.from(m2)).toEqual([1, 0, 0, 0]);
  });
  it('joint state: both missing → 2 for both; one missing → 1; text column always 0', () => {
    const g = new GraphBuilder();
    const mv = g.input('mv', [4]);
    const ma = g.input('ma', [4]);
    g.output('st', L.dmfdStatus(g, mv, ma));
    const st = run(g.build(), new Map([['mv', f32([0, 1, 0, 1])], ['ma', f32([0, 0, 1, 1])]]), { dtype: 'f32' }).get('st')!;
    expect(Array.from(st)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 2]);
  });
});
