import { describe, expect, it } from 'vitest';
import { applyCondition, applyConditionMix, CONDITIONS, parseCondition } from '../../runtime/data/missing.js';
import { makeSyntheticDataset } from '../../runtime/data/synthetic.js';
import { DataError } from '../../runtime/data/errors.js';
import type { ModalityArrays } from '../../runtime/data/types.js';

const ds = makeSyntheticDataset({ seed: 4, nTrain: 200, nValid: 1, nTest: 1, textLen: 4, textDim: 3, visionLen: 5, visionDim: 2, audioLen: 6, audioDim: 2 });
const s = ds.train;

function rowZero(a: Float32Array, size: number, i: number) {
  return a.subarray(i * size, (i + 1) * size).every((x) => x === 0);
}
function check(out: ModalityArrays, i: number, keep: string) {
  expect(rowZero(out.text, 12, i)).toBe(!keep.includes('L'));
  expect(rowZero(out.vision, 10, i)).toBe(!keep.includes('V'));
  expect(rowZero(out.audio, 12, i)).toBe(!keep.includes('A'));
  expect(out.missing!.text![i]).toBe(keep.includes('L') ? 0 : 1);
  expect(out.missing!.vision[i]).toBe(keep.includes('V') ? 0 : 1);
  expect(out.missing!.audio[i]).toBe(keep.includes('A') ? 0 : 1);
}

describe('whole-modality conditions', () => {
  it('parses spellings of the seven conditions', () => {
    expect(parseCondition('{L,V}')).toBe('LV');
    expect(parseCondition('av')).toBe('VA');
    expect(parseCondition('VAL')).toBe('LVA');
    expect(() => parseCondition('LX')).toThrow(DataError);
    expect(() => parseCondition('')).toThrow(DataError);
    expect(CONDITIONS.length).toBe(7);
  });
  for (const c of CONDITIONS) {
    it(`whole split {${c.split('').join(',')}} zeroes exactly the absent modalities`, () => {
      const out = applyCondition(s, c, 'whole');
      for (let i = 0; i < s.n; i++) check(out, i, c);
      expect(out.conditions.every((x) => x === c)).toBe(true);
      // kept modalities untouched; labels never change; input not mutated
      if (c.includes('L')) expect(Array.from(out.text)).toEqual(Array.from(s.text));
      expect(Array.from(out.labels)).toEqual(Array.from(s.labels));
      expect(rowZero(s.vision, 10, 0)).toBe(false);
    });
  }
  it('mixed mode applies the condition to a seeded ~p share of samples, complete elsewhere', () => {
    const a = applyCondition(s, 'L', 'mixed', 7, { p: 0.3 });
    const b = applyCondition(s, 'L', 'mixed', 7, { p: 0.3 });
    const c = applyCondition(s, 'L', 'mixed', 8, { p: 0.3 });
    expect(a.conditions).toEqual(b.conditions);
    expect(a.conditions).not.toEqual(c.conditions);
    const hit = a.conditions.filter((x) => x === 'L').length;
    expect(hit).toBeGreaterThan(35);
    expect(hit).toBeLessThan(85);
    for (let i = 0; i < s.n; i++) check(a, i, a.conditions[i]!);
    // mixed within batches: the first 16 rows contain both kinds
    const first = a.conditions.slice(0, 16);
    expect(first.includes('L') && first.includes('LVA')).toBe(true);
  });
  it('applyConditionMix draws one condition per sample from the list', () => {
    const m = applyConditionMix(s, ['L', 'A', 'V', 'LA', 'LV', 'VA'], 11);
    const counts = new Map<string, number>();
    for (let i = 0; i < s.n; i++) {
      check(m, i, m.conditions[i]!);
      counts.set(m.conditions[i]!, (counts.get(m.conditions[i]!) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const w = applyConditionMix(s, ['L', 'LVA'], 11, [0, 1]);
    expect(w.conditions.every((x) => x === 'LVA')).toBe(true);
  });
  it('ORs with planted ground truth', () => {
    const d2 = makeSyntheticDataset({ seed: 4, nTrain: 50, nValid: 1, nTest: 1, textLen: 4, textDim: 3, visionLen: 5, visionDim: 2, audioLen: 6, audioDim: 2, missing: { rate: 0.5, kinds: ['zero'] } });
    const out = applyCondition(d2.train, 'LV', 'whole');
    for (let i = 0; i < 50; i++) {
      expect(out.missing!.audio[i]).toBe(1);
      expect(out.missing!.vision[i]).toBe(d2.train.missing!.vision[i]);
    }
  });
});
