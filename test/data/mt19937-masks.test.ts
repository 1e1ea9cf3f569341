import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MT19937, numpyUniform } from '../../runtime/data/mt19937.js';
import { applyFrameMissing, applyTextTokenMissing, frameMissingMask, textMissingMask } from '../../runtime/data/missing.js';
import { makeSyntheticDataset } from '../../runtime/data/synthetic.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');
const G = JSON.parse(fs.readFileSync(path.join(FIX, 'frame_masks.json'), 'utf8'));
const bits = (a: ArrayLike<number>) => Array.from(a, (x) => (x ? '1' : '0')).join('');

describe('MT19937 vs numpy legacy RandomState (committed numpy output)', () => {
  for (const u of G.uniform) {
    it(`np.random.seed(${u.seed}); uniform(size=(3,7)) bit-exact`, () => {
      const got = numpyUniform(u.seed, u.values.length);
      expect(Array.from(got, (x) => x)).toEqual(u.values.map(Number));
    });
  }
  for (const p of G.permutation) {
    it(`RandomState(${p.seed}).permutation(${p.n})`, () => {
      expect(Array.from(new MT19937(p.seed).permutation(p.n))).toEqual(p.perm);
    });
  }
  it('legacy gauss matches numpy normal() to within 1 ulp-ish', () => {
    const r = new MT19937(G.gauss.seed);
    for (const v of G.gauss.values.map(Number)) expect(r.gauss()).toBeCloseTo(v, 14);
  });
  it('rejects out-of-range seeds like numpy', () => {
    expect(() => new MT19937(-1)).toThrow(/Seed must be between/);
    expect(() => new MT19937(2 ** 32)).toThrow(/Seed must be between/);
  });
});

describe('frame-level masks reproduce TFR-Net generate_m bit-exactly', () => {
  for (const f of G.frame) {
    it(`audio/vision seed ${f.seed} rate ${f.rate}`, () => {
      const m = frameMissingMask({ n: f.n, T: f.T, lengths: f.lengths, rate: f.rate, seed: f.seed });
      expect(bits(m.inputMask)).toBe(f.inputMask);
      expect(bits(m.missingMask)).toBe(f.missingMask);
    });
  }
  for (const t of G.text) {
    it(`text ids seed ${t.seed} rate ${t.rate} ([UNK]=100, CLS/SEP kept, argmin quirk)`, () => {
      const mask = Array.from(t.mask as string, (c) => Number(c));
      const tm = textMissingMask(mask, t.n, t.L, t.rate, t.seed);
      expect(Array.from(tm.inputLen)).toEqual(t.inputLen);
      expect(bits(tm.missingMask)).toBe(t.missingMask);
      const { ids } = applyTextTokenMissing(t.ids, mask, t.n, t.L, t.rate, t.seed);
      expect(Array.from(ids)).toEqual(t.idsOut);
    });
  }
  it('rate 0 keeps every valid frame, rate 1 drops all', () => {
    const lengths = [3, 5, 0];
    const m0 = frameMissingMask({ n: 3, T: 5, lengths, rate: 0, seed: 1 });
    expect(bits(m0.missingMask)).toBe('111001111100000');
    const m1 = frameMissingMask({ n: 3, T: 5, lengths, rate: 1, seed: 1 });
    expect(bits(m1.missingMask)).toBe('0'.repeat(15));
  });
});

describe('applyFrameMissing on a dataset', () => {
  it('zeroes exactly the dropped frames and records ground truth', () => {
    const ds = makeSyntheticDataset({ seed: 3, nTrain: 8, nValid: 2, nTest: 2, textLen: 6, textDim: 4, visionLen: 7, visionDim: 3, audioLen: 5, audioDim: 2 });
    const r = applyFrameMissing(ds.train, { rate: 0.5 });
    const m = frameMissingMask({ n: 8, T: 5, rate: 0.5, seed: 1111 });
    expect(bits(r.masks.audio)).toBe(bits(m.missingMask));
    for (let i = 0; i < 8; i++) {
      for (let t = 0; t < 5; t++) {
        const k = i * 5 + t;
        const frame = Array.from(r.audio.subarray(k * 2, k * 2 + 2));
        const orig = Array.from(ds.train.audio.subarray(k * 2, k * 2 + 2));
        expect(frame).toEqual(m.missingMask[k] ? orig : [0, 0]);
      }
    }
    expect(r.missing!.audio.some((x) => x === 1)).toBe(true);
    // text: position 0 is always kept
    for (let i = 0; i < 8; i++) expect(r.masks.text![i * 6]).toBe(1);
    // input not mutated
    expect(ds.train.audio.some((x, k) => x !== r.audio[k])).toBe(true);
  });
});
