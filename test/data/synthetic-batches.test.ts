import { describe, expect, it } from 'vitest';
import { makeSyntheticDataset, SYNTHETIC_WEIGHTS } from '../../runtime/data/synthetic.js';
import { batchCount, epochOrder, gatherRows, iterateBatches } from '../../runtime/data/batches.js';
import { MT19937 } from '../../runtime/data/mt19937.js';
import type { ModalityArrays } from '../../runtime/data/types.js';
import { DataError } from '../../runtime/data/errors.js';

const small = { textLen: 8, textDim: 16, visionLen: 12, visionDim: 6, audioLen: 10, audioDim: 4 };

/** Simple features: text token 0, text time-mean, vision/audio mean over frames 0..9. */
function features(s: ModalityArrays, use: { t: boolean; v: boolean; a: boolean }): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < s.n; i++) {
    const f: number[] = [1];
    const [T, d] = s.textShape;
    if (use.t) {
      for (let j = 0; j < d; j++) f.push(s.text[i * T * d + j]!);
      for (let j = 0; j < d; j++) {
        let m = 0;
        for (let t = 0; t < T; t++) m += s.text[(i * T + t) * d + j]!;
        f.push(m / T);
      }
    }
    const early = (a: Float32Array, [T2, d2]: [number, number]) => {
      const k = Math.min(10, T2);
      for (let j = 0; j < d2; j++) {
        let m = 0;
        for (let t = 0; t < k; t++) m += a[(i * T2 + t) * d2 + j]!;
        f.push(m / k);
      }
    };
    if (use.v) early(s.vision, s.visionShape);
    if (use.a) early(s.audio, s.audioShape);
    rows.push(f);
  }
  return rows;
}

/** Ridge regression by normal equations + Gaussian elimination; returns test Pearson r. */
function ridgeCorr(train: ModalityArrays, test: ModalityArrays, use: { t: boolean; v: boolean; a: boolean }): number {
  const X = features(train, use);
  const p = X[0]!.length;
  const A = Array.from({ length: p }, () => new Float64Array(p + 1));
  for (let i = 0; i < X.length; i++) {
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) A[r]![c]! += X[i]![r]! * X[i]![c]!;
      A[r]![p]! += X[i]![r]! * train.labels[i]!;
    }
  }
  for (let r = 0; r < p; r++) A[r]![r]! += 1e-3;
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= p; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const w = A.map((row, r) => row[p]! / row[r]!);
  const Xt = features(test, use);
  const pred = Xt.map((f) => f.reduce((s, x, k) => s + x * w[k]!, 0));
  const y = Array.from(test.labels);
  const mp = pred.reduce((a, b) => a + b, 0) / pred.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < y.length; i++) {
    sxy += (pred[i]! - mp) * (y[i]! - my);
    sxx += (pred[i]! - mp) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('makeSyntheticDataset', () => {
  it('is deterministic per seed and MOSI-shaped by default', () => {
    const a = makeSyntheticDataset({ seed: 7, nTrain: 3, nValid: 2, nTest: 2 });
    const b = makeSyntheticDataset({ seed: 7, nTrain: 3, nValid: 2, nTest: 2 });
    const c = makeSyntheticDataset({ seed: 8, nTrain: 3, nValid: 2, nTest: 2 });
    expect(a.train.textShape).toEqual([50, 768]);
    expect(a.train.visionShape).toEqual([50, 20]);
    expect(a.train.audioShape).toEqual([50, 5]);
    expect(a.train.text.length).toBe(3 * 50 * 768);
    expect(Array.from(a.train.text.subarray(0, 50))).toEqual(Array.from(b.train.text.subarray(0, 50)));
    expect(Array.from(a.test.labels)).toEqual(Array.from(b.test.labels));
    expect(Array.from(a.test.labels)).not.toEqual(Array.from(c.test.labels));
    expect(a.report.format).toBe('synthetic');
  });

  it('splits are independent streams: nTrain does not change test samples', () => {
    const a = makeSyntheticDataset({ seed: 1, nTrain: 5, nValid: 2, nTest: 4, ...small });
    const b = makeSyntheticDataset({ seed: 1, nTrain: 50, nValid: 2, nTest: 4, ...small });
    expect(Array.from(a.test.text)).toEqual(Array.from(b.test.text));
    expect(a.train.ids[0]).toBe('syn_train_0');
  });

  it('labels are in [-3, 3] and follow the documented latent weights', () => {
    const ds = makeSyntheticDataset({ seed: 2, nTrain: 400, nValid: 1, nTest: 1, ...small });
    const s = ds.train;
    let maxResid = 0;
    for (let i = 0; i < s.n; i++) {
      expect(s.labels[i]).toBeGreaterThanOrEqual(-3);
      expect(s.labels[i]).toBeLessThanOrEqual(3);
      const lin = SYNTHETIC_WEIGHTS.text * s.latent!.text[i]! + SYNTHETIC_WEIGHTS.vision * s.latent!.vision[i]! + SYNTHETIC_WEIGHTS.audio * s.latent!.audio[i]!;
      if (Math.abs(lin) < 2.5) maxResid = Math.max(maxResid, Math.abs(lin - s.labels[i]!));
    }
    expect(maxResid).toBeLessThan(5 * SYNTHETIC_WEIGHTS.noise);
  });

  it('labels are learnable from each modality, text strongest, all three best', () => {
    const ds = makeSyntheticDataset({ seed: 11, nTrain: 1500, nValid: 1, nTest: 600, ...small });
    const all = ridgeCorr(ds.train, ds.test, { t: true, v: true, a: true });
    const t = ridgeCorr(ds.train, ds.test, { t: true, v: false, a: false });
    const v = ridgeCorr(ds.train, ds.test, { t: false, v: true, a: false });
    const a = ridgeCorr(ds.train, ds.test, { t: false, v: false, a: true });
    expect(all).toBeGreaterThan(0.9);
    expect(t).toBeGreaterThan(0.7);
    expect(v).toBeGreaterThan(0.25);
    expect(a).toBeGreaterThan(0.2);
    expect(t).toBeGreaterThan(v);
    expect(all).toBeGreaterThan(t + 0.05);
  });

  it('plants missingness and records ground truth per kind', () => {
    const ds = makeSyntheticDataset({ seed: 5, nTrain: 300, nValid: 1, nTest: 1, ...small, missing: { rate: 0.4, kinds: ['zero', 'noise', 'drop'] } });
    const s = ds.train;
    const clean = makeSyntheticDataset({ seed: 5, nTrain: 300, nValid: 1, nTest: 1, ...small });
    const vs = 12 * 6;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < s.n; i++) {
      const k = s.missingKind!.vision[i]!;
      counts[k]!++;
      expect(s.missing!.vision[i]).toBe(k === 0 ? 0 : 1);
      const row = s.vision.subarray(i * vs, (i + 1) * vs);
      const orig = clean.train.vision.subarray(i * vs, (i + 1) * vs);
      if (k === 0) expect(Array.from(row)).toEqual(Array.from(orig));
      if (k === 1) expect(row.every((x) => x === 0)).toBe(true);
      if (k === 2) expect(row.some((x, j) => x !== orig[j])).toBe(true);
      if (k === 3) {
        expect(row.subarray(0, 6).every((x) => x === 0)).toBe(true);
        expect(row.some((x) => x !== 0)).toBe(true);
      }
    }
    expect(counts[0]! / 300).toBeGreaterThan(0.45);
    expect(counts[0]! / 300).toBeLessThan(0.75);
    for (const k of [1, 2, 3]) expect(counts[k]).toBeGreaterThan(15);
    expect(Array.from(s.labels)).toEqual(Array.from(clean.train.labels));
    expect(Array.from(s.text)).toEqual(Array.from(clean.train.text));
  });

  it('rejects bad options with DataError', () => {
    expect(() => makeSyntheticDataset({ seed: -1, nTrain: 1, nValid: 1, nTest: 1 })).toThrow(DataError);
    expect(() => makeSyntheticDataset({ seed: 1, nTrain: 1.5, nValid: 1, nTest: 1 })).toThrow(/nTrain/);
    expect(() => makeSyntheticDataset({ seed: 1, nTrain: 1, nValid: 1, nTest: 1, missing: { rate: 2, kinds: ['zero'] } })).toThrow(/rate/);
  });
});

describe('iterateBatches', () => {
  const ds = makeSyntheticDataset({ seed: 9, nTrain: 23, nValid: 1, nTest: 1, ...small });
  it('without shuffle visits rows in order; covers all rows once', () => {
    const bs = [...iterateBatches(ds.train, 5)];
    expect(bs.length).toBe(5);
    expect(bs.map((b) => b.n)).toEqual([5, 5, 5, 5, 3]);
    expect(Array.from(bs[1]!.indices)).toEqual([5, 6, 7, 8, 9]);
    expect(bs[1]!.ids[0]).toBe('syn_train_5');
    expect(Array.from(bs[1]!.text.subarray(0, 8 * 16))).toEqual(Array.from(ds.train.text.subarray(5 * 128, 6 * 128)));
  });
  it('shuffle is numpy RandomState(seed).permutation for epoch 0, deterministic, differs by epoch', () => {
    const o0 = epochOrder(23, { shuffle: true, seed: 42 });
    expect(Array.from(o0)).toEqual(Array.from(new MT19937(42).permutation(23)));
    const o1 = epochOrder(23, { shuffle: true, seed: 42, epoch: 1 });
    expect(Array.from(o1)).not.toEqual(Array.from(o0));
    const seen = [...iterateBatches(ds.train, 4, { shuffle: true, seed: 42 })].flatMap((b) => Array.from(b.indices));
    expect(seen).toEqual(Array.from(o0));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const again = [...iterateBatches(ds.train, 4, { shuffle: true, seed: 42 })];
    expect(Array.from(again[2]!.labels)).toEqual(Array.from(gatherRows(ds.train, o0.subarray(8, 12)).labels));
  });
  it('dropLast drops the partial batch', () => {
    expect([...iterateBatches(ds.train, 5, { dropLast: true })].length).toBe(4);
    expect(batchCount(23, 5, true)).toBe(4);
    expect(() => [...iterateBatches(ds.train, 0)]).toThrow(DataError);
  });
});
