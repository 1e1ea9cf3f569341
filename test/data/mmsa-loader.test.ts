import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMmsaPickle } from '../../runtime/data/mmsa.js';
import { DataError } from '../../runtime/data/errors.js';
import { SPLITS } from '../../runtime/data/types.js';
import { f32bytes, u4bytes, writePickle } from './helpers/pickle-writer.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');
const fx = (n: string) => path.join(FIX, n);

/** sum_i v_i * ((i % 7) + 1), sequential in float64 (same as the Python script). */
function checksum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * ((i % 7) + 1);
  return s;
}

function catchDataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

const GOOD = [
  ['mmsa_aligned_p4_np2', 4, ['numpy._core']],
  ['mmsa_unaligned_p5_np2', 5, ['numpy._core']],
  ['mmsa_unaligned_p2_np2', 2, ['numpy._core']],
  ['mmsa_edge_p4_np2', 4, ['numpy._core']],
  ['mmsa_aligned_p2_np1', 2, ['numpy.core']],
  ['mmsa_unaligned_p4_np1', 4, ['numpy.core']],
  ['mmsa_unaligned_p5_np1', 5, ['numpy.core']],
] as const;

describe('loadMmsaPickle on committed numpy fixtures', () => {
  for (const [name, protocol, mods] of GOOD) {
    for (const lazy of [false, true]) {
      it(`${name} (${lazy ? 'lazy payloads' : 'in-window payloads'}) matches the numpy-side expectation`, () => {
        const exp = JSON.parse(fs.readFileSync(fx(`${name}.expected.json`), 'utf8'));
        const ds = loadMmsaPickle(fx(`${name}.pkl`), { lazyThreshold: lazy ? 64 : undefined });
        expect(ds.report.protocol).toBe(protocol);
        expect(ds.report.numpyModules).toEqual(mods);
        let ninfTotal = 0;
        for (const s of SPLITS) {
          const e = exp[s];
          const a = ds[s];
          expect(a.n).toBe(e.n);
          expect(a.ids).toEqual(e.ids);
          expect(a.rawText).toEqual(e.raw_text);
          expect(Array.from(a.labels)).toEqual(e.labels);
          expect(a.textShape).toEqual(e.textShape);
          expect(a.audioShape).toEqual(e.audioShape);
          expect(a.visionShape).toEqual(e.visionShape);
          expect(checksum(a.text)).toBe(e.textSum);
          expect(checksum(a.audio)).toBe(e.audioSum);
          expect(checksum(a.vision)).toBe(e.visionSum);
          expect(ds.report.negInfReplaced[s]).toBe(e.audioNegInf);
          expect(ds.report.dtypes[`${s}.audio`]).toBe(e.dtypes.audio);
          expect(ds.report.dtypes[`${s}.vision`]).toBe(e.dtypes.vision);
          ninfTotal += e.audioNegInf;
          if (e.audioLengths) {
            expect(Array.from(a.audioLengths!)).toEqual(e.audioLengths);
            expect(Array.from(a.visionLengths!)).toEqual(e.visionLengths);
          } else {
            expect(a.audioLengths).toBeUndefined();
          }
        }
        expect(ds.report.negInfReplaced.total).toBe(ninfTotal);
      });
    }
  }

  it('counts audio -inf and sets it to 0 as MMSA does', () => {
    const ds = loadMmsaPickle(fx('mmsa_aligned_p4_np2.pkl'));
    expect(ds.report.negInfReplaced.total).toBeGreaterThan(0);
    for (const s of SPLITS) expect(ds[s].audio.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('text_bert as text key gives (3, L) int ids cast to float32', () => {
    const exp = JSON.parse(fs.readFileSync(fx('mmsa_aligned_p4_np2.expected.json'), 'utf8'));
    const ds = loadMmsaPickle(fx('mmsa_aligned_p4_np2.pkl'), { textKey: 'text_bert' });
    expect(ds.train.textShape).toEqual([3, 6]);
    expect(ds.train.text.reduce((a, b) => a + b, 0)).toBe(exp.train.textBertSum);
    expect(ds.report.dtypes['train.text_bert']).toBe('<i8');
  });
});

describe('loadMmsaPickle key mapping', () => {
  it('keys from a spec data block pick the arrays per role', () => {
    const ds = loadMmsaPickle(fx('mmsa_edge_p4_np2.pkl'), { keys: { label: 'regression_labels_T', vision: 'vision' } });
    const exp = JSON.parse(fs.readFileSync(fx('mmsa_edge_p4_np2.expected.json'), 'utf8'));
    expect(Array.from(ds.train.labels)).toEqual(exp.train.labels);
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_edge_p4_np2.pkl'), { keys: { audio: 'covarep' } }));
    expect(e.code).toBe('SMC6011');
    expect(e.message).toContain('train.covarep is missing');
  });
});

describe('loadMmsaPickle errors', () => {
  it('shape mismatch names key, expected and found shapes', () => {
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_unaligned_p5_np2.pkl'), { expect: { text: [6, 12], audio: [375, 5], vision: [500, 20] } }));
    expect(e.code).toBe('SMC6013');
    expect(e.message).toContain('train.audio');
    expect(e.message).toContain('expected shape (5, 375, 5)');
    expect(e.message).toContain('found (5, 9, 5)');
    expect(e.location).toContain('train.audio');
    expect(e.hint).toMatch(/unaligned/);
  });

  it('inconsistent N inside a split is located at the key', () => {
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_bad_p4_np2.pkl')));
    expect(e.code).toBe('SMC6012');
    expect(e.message).toContain('valid.vision');
    expect(e.message).toContain('found (2, 6, 20)');
    expect(e.location).toMatch(/mmsa_bad_p4_np2\.pkl: valid\.vision$/);
  });

  it('missing key lists the keys present', () => {
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_aligned_p4_np2.pkl'), { labelKey: 'labels' }));
    expect(e.code).toBe('SMC6011');
    expect(e.message).toContain('train.labels is missing');
    expect(e.message).toContain('regression_labels');
  });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smc-data-'));

  it('torch tensors (MMSA-FET return_type="pt") -> SMC6004 naming the key', () => {
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_torch_p4_np2.pkl')));
    expect(e.code).toBe('SMC6004');
    expect(e.message).toContain('train.text is object torch._utils._rebuild_tensor_v2');
    expect(e.hint).toContain('return_type');
  });

  const arr = (shape: number[], fill = 0.5) => ({ kind: 'array' as const, dtype: '<f4', shape, data: f32bytes(new Array(shape.reduce((a, b) => a * b, 1)).fill(fill)) });
  const split = (n: number, over: Record<string, unknown> = {}) => ({
    id: { kind: 'array' as const, dtype: '<U2', shape: [n], data: u4bytes(Array.from({ length: n }, (_, i) => `s${i}`), 2) },
    text: arr([n, 4, 3]), audio: arr([n, 5, 2]), vision: arr([n, 6, 2]), regression_labels: arr([n]),
    ...over,
  });

  it('time-averaged (rank-2) features -> SMC6015 with expected and found shapes', () => {
    const p = path.join(tmp, 'rank2.pkl');
    writePickle(p, { train: split(3), valid: split(2, { vision: arr([2, 2]) }), test: split(2) } as never);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6015');
    expect(e.message).toBe('valid.vision: expected shape (2, T, d), found (2, 2) (rank 2, need 3)');
  });

  it('per-sample shape differing between splits -> SMC6014', () => {
    const p = path.join(tmp, 'splitshape.pkl');
    writePickle(p, { train: split(3), valid: split(2), test: split(2, { audio: arr([2, 7, 2]) }) } as never);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6014');
    expect(e.message).toContain('test.audio: found (2, 7, 2), but train.audio has per-sample shape (5, 2)');
  });

  it('a missing split or a non-dict top level -> SMC6010', () => {
    const p = path.join(tmp, 'nosplit.pkl');
    writePickle(p, { train: split(3), test: split(2) } as never);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6010');
    expect(e.message).toBe("split 'valid' is missing; top-level keys: train, test");
    const q = path.join(tmp, 'str.pkl');
    writePickle(q, 'hello');
    expect(catchDataError(() => loadMmsaPickle(q)).code).toBe('SMC6010');
  });

  it('labels of the wrong length -> SMC6012', () => {
    const p = path.join(tmp, 'labels.pkl');
    writePickle(p, { train: split(3, { regression_labels: arr([4]) }), valid: split(2), test: split(2) } as never);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6012');
    expect(e.message).toBe('train.regression_labels: expected shape (3,) (N from train.id), found (4,)');
  });
  const full = fs.readFileSync(fx('mmsa_unaligned_p4_np1.pkl'));

  for (const cut of [0.1, 0.5, 0.9, 0.999]) {
    it(`truncated at ${cut * 100}% -> SMC6002 with a byte offset`, () => {
      const p = path.join(tmp, `trunc_${cut}.pkl`);
      const len = Math.floor(full.length * cut);
      fs.writeFileSync(p, full.subarray(0, len));
      for (const lazyThreshold of [undefined, 64]) {
        const e = catchDataError(() => loadMmsaPickle(p, { lazyThreshold }));
        expect(e.code).toBe('SMC6002');
        expect(e.location).toMatch(new RegExp(`trunc_${cut}\\.pkl @ byte \\d+ of ${len}`));
        expect(e.format()).not.toMatch(/\n\s+at .*\.ts:\d+/);
      }
    });
  }

  it('a file starting with \\x00 (corrupt download) -> SMC6003 invalid load key', () => {
    const p = path.join(tmp, 'zero.pkl');
    const b = Buffer.from(full);
    b[0] = 0;
    fs.writeFileSync(p, b);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6003');
    expect(e.message).toContain("invalid load key '\\x00'");
    expect(e.location).toContain('@ byte 0');
  });

  it('garbage in the middle -> SMC6002 corrupt, located', () => {
    const p = path.join(tmp, 'garbage.pkl');
    const b = Buffer.from(full);
    b.fill(0xff, 40, 60);
    fs.writeFileSync(p, b);
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6002');
    expect(e.location).toMatch(/@ byte \d+ of \d+/);
  });

  it('missing file -> SMC6001', () => {
    const e = catchDataError(() => loadMmsaPickle(path.join(tmp, 'nope.pkl')));
    expect(e.code).toBe('SMC6001');
    expect(e.message).toContain('ENOENT');
  });

  it('sha256 mismatch -> SMC6005', () => {
    const e = catchDataError(() => loadMmsaPickle(fx('mmsa_aligned_p4_np2.pkl'), { sha256: '00'.repeat(32) }));
    expect(e.code).toBe('SMC6005');
  });
});

describe('protocol-5 out-of-band buffers', () => {
  it('NEXT_BUFFER in a file -> SMC6004 with a re-save hint', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smc-oob-'));
    const p = path.join(tmp, 'oob.pkl');
    fs.writeFileSync(p, Uint8Array.from([0x80, 5, 0x97, 0x2e])); // PROTO 5, NEXT_BUFFER, STOP
    const e = catchDataError(() => loadMmsaPickle(p));
    expect(e.code).toBe('SMC6004');
    expect(e.hint).toContain('buffer_callback');
  });
});
