// Text as BERT token ids (MMSA's text_bert, [N, 3, L]: ids, attention mask, segment ids): the synthetic set makes
// ids that carry the text latent, MMSA pickles with int64 ids load and are checked against the vocabulary, and
// token-level missingness replaces dropped tokens with [UNK] = 100 exactly as TFR-Net's generate_m.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFrameMissing, DataError, makeSyntheticDataset } from '../../runtime/data/index.js';
import { textMissingMask } from '../../runtime/data/missing.js';
import { BERT_IDS } from '../../runtime/data/synthetic.js';
import { loadRunData } from '../../runtime/train/data-source.js';
import type { ModelAbi } from '../../runtime/abi/model.js';
import { u4bytes, writePickle } from './helpers/pickle-writer.js';

const L = 12;
const VOCAB = 128;
const tokens = () => makeSyntheticDataset({ seed: 3, nTrain: 200, nValid: 8, nTest: 8, textTokens: { vocab: VOCAB, length: L }, visionLen: 4, visionDim: 2, audioLen: 4, audioDim: 2 });

describe('synthetic token ids', () => {
  it('rows are ids, attention mask and zero segment ids: [CLS] words [SEP] then padding, ids within the vocabulary', () => {
    const s = tokens().train;
    expect(s.textShape).toEqual([3, L]);
    for (let i = 0; i < s.n; i++) {
      const row = (r: number) => Array.from(s.text.subarray(i * 3 * L + r * L, i * 3 * L + (r + 1) * L));
      const [ids, mask, seg] = [row(0), row(1), row(2)];
      const len = mask.reduce((a, b) => a + b, 0);
      expect(len).toBeGreaterThanOrEqual(2);
      expect(mask).toEqual(Array.from({ length: L }, (_, t) => (t < len ? 1 : 0)));
      expect(seg.every((v) => v === 0)).toBe(true);
      expect(ids[0]).toBe(BERT_IDS.cls);
      expect(ids[len - 1]).toBe(BERT_IDS.sep);
      for (let t = 1; t < len - 1; t++) expect(ids[t]! >= BERT_IDS.firstWord && ids[t]! < VOCAB && Number.isInteger(ids[t])).toBe(true);
      for (let t = len; t < L; t++) expect(ids[t]).toBe(BERT_IDS.pad);
    }
  });

  it('the words carry the label: the share of upper-half words correlates with it', () => {
    const s = tokens().train;
    const half = BERT_IDS.firstWord + Math.ceil((VOCAB - BERT_IDS.firstWord) / 2);
    const share: number[] = [];
    for (let i = 0; i < s.n; i++) {
      let up = 0;
      let words = 0;
      for (let t = 1; t < L; t++) {
        const id = s.text[i * 3 * L + t]!;
        if (id >= BERT_IDS.firstWord) {
          words++;
          if (id >= half) up++;
        }
      }
      share.push(words ? up / words : 0.5);
    }
    const y = Array.from(s.labels);
    const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    const [mx, my] = [mean(share), mean(y)];
    const cov = mean(share.map((x, i) => (x - mx) * (y[i]! - my)));
    const corr = cov / Math.sqrt(mean(share.map((x) => (x - mx) ** 2)) * mean(y.map((v) => (v - my) ** 2)));
    expect(corr).toBeGreaterThan(0.4);
  });

  it('a vocabulary without room for the special ids is refused', () => {
    expect(() => makeSyntheticDataset({ seed: 1, nTrain: 1, nValid: 1, nTest: 1, textTokens: { vocab: 40, length: 8 } })).toThrow(DataError);
  });
});

describe('token-level missingness', () => {
  it('dropped tokens become [UNK] = 100 with generate_m’s mask; [CLS] and the last valid token are kept', () => {
    const s = tokens().test;
    const out = applyFrameMissing(s, { rate: 0.5, text: 'tokens' });
    const ids = new Float32Array(s.n * L);
    const att = new Float32Array(s.n * L);
    for (let i = 0; i < s.n; i++) {
      ids.set(s.text.subarray(i * 3 * L, i * 3 * L + L), i * L);
      att.set(s.text.subarray(i * 3 * L + L, i * 3 * L + 2 * L), i * L);
    }
    const m = textMissingMask(att, s.n, L, 0.5, 111);
    let dropped = 0;
    for (let i = 0; i < s.n; i++) {
      for (let t = 0; t < L; t++) {
        const k = i * L + t;
        const got = out.text[i * 3 * L + t]!;
        const want = att[k] ? (m.missingMask[k] ? ids[k]! : 100) : 0;
        expect(got).toBe(want);
        if (att[k] && !m.missingMask[k]) dropped++;
      }
      expect(out.text[i * 3 * L]).toBe(BERT_IDS.cls);
      // masks and segment ids are unchanged
      expect(Array.from(out.text.subarray(i * 3 * L + L, (i + 1) * 3 * L))).toEqual(Array.from(s.text.subarray(i * 3 * L + L, (i + 1) * 3 * L)));
    }
    expect(dropped).toBeGreaterThan(0);
    expect(out.missing!.text!.some((v) => v === 1)).toBe(true);
    // rate 0 changes nothing
    expect(Array.from(applyFrameMissing(s, { rate: 0, text: 'tokens' }).text)).toEqual(Array.from(s.text));
  });
});

describe('text_bert in MMSA pickles', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smc-tokens-'));
  const model = (vocab: number): ModelAbi => ({
    spec: { entry: 'spec/x.smcir', files: new Map(), overrides: [] },
    settings: { data: { keys: { text: 'text_bert', vision: 'vision', audio: 'audio', label: 'regression_labels' }, text_vocab: vocab, synthetic: { n_train: 1, n_valid: 1, n_test: 1, seed: 1, missing_rate: 0 } } } as never,
    inputs: new Map([['text', [3, 4]], ['vision', [2, 2]], ['audio', [2, 2]], ['label', []]]),
    outputs: [], parameters: [], state: [], stats: [], batch: { train: 1, forward: 1 },
  });
  const i64 = (vals: number[]) => {
    const b = new BigInt64Array(vals.map((v) => BigInt(v)));
    return new Uint8Array(b.buffer);
  };
  const split = (n: number, ids: number[]) => ({
    id: { kind: 'array' as const, dtype: '<U2', shape: [n], data: u4bytes(Array.from({ length: n }, (_, i) => `s${i}`), 2) },
    text_bert: { kind: 'array' as const, dtype: '<i8', shape: [n, 3, 4], data: i64(Array.from({ length: n }, () => [...ids, 1, 1, 1, 0, 0, 0, 0, 0]).flat()) },
    vision: { kind: 'array' as const, dtype: '<f4', shape: [n, 2, 2], data: new Uint8Array(n * 16) },
    audio: { kind: 'array' as const, dtype: '<f4', shape: [n, 2, 2], data: new Uint8Array(n * 16) },
    regression_labels: { kind: 'array' as const, dtype: '<f4', shape: [n], data: new Uint8Array(n * 4) },
  });

  it('int64 ids load as whole numbers; an id outside the vocabulary is SMC6016 with split, row and position', () => {
    const p = path.join(tmp, 'ok.pkl');
    writePickle(p, { train: split(2, [101, 2000, 102, 0]), valid: split(1, [101, 5, 102, 0]), test: split(1, [101, 7, 102, 0]) } as never);
    const d = loadRunData(model(30522), p);
    expect(Array.from(d.valid.text.subarray(0, 8))).toEqual([101, 5, 102, 0, 1, 1, 1, 0]);
    let err: unknown;
    try {
      loadRunData(model(1000), p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('SMC6016');
    expect((err as DataError).message).toContain('token id 2000 at row 0, position 1');
    expect((err as DataError).location).toContain('train.text_bert');
  });
});
