import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertPickleToChunked, openChunked } from '../../runtime/data/chunked.js';
import { loadMmsaPickle, inspectMmsa } from '../../runtime/data/mmsa.js';
import { withPickleFile, ndToFloat32 } from '../../runtime/data/pickle.js';
import { gatherRows, iterateBatches } from '../../runtime/data/batches.js';
import { loadDataset } from '../../runtime/data/index.js';
import { DataError } from '../../runtime/data/errors.js';
import { SPLITS } from '../../runtime/data/types.js';
import { f32bytes, u4bytes, writePickle } from './helpers/pickle-writer.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'data');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smc-chunked-'));

describe('convertPickleToChunked / openChunked', () => {
  for (const name of ['mmsa_unaligned_p2_np2', 'mmsa_unaligned_p5_np1', 'mmsa_aligned_p4_np2']) {
    it(`${name}: chunked round trip equals the direct load`, () => {
      const src = path.join(FIX, `${name}.pkl`);
      const dir = path.join(tmp, name);
      // tiny chunks (2-3 rows) and lazy payloads exercise rollover and streaming
      const man = convertPickleToChunked(src, dir, { maxChunkBytes: 1000, lazyThreshold: 64 });
      const direct = loadMmsaPickle(src);
      expect(man.report.negInfReplaced).toEqual(direct.report.negInfReplaced);
      expect(man.splits.train.files.vision.length).toBeGreaterThan(1);
      const ds = openChunked(dir);
      const all = ds.loadAll();
      for (const s of SPLITS) {
        expect(Array.from(all[s].text)).toEqual(Array.from(direct[s].text));
        expect(Array.from(all[s].audio)).toEqual(Array.from(direct[s].audio));
        expect(Array.from(all[s].vision)).toEqual(Array.from(direct[s].vision));
        expect(Array.from(all[s].labels)).toEqual(Array.from(direct[s].labels));
        expect(all[s].ids).toEqual(direct[s].ids);
        expect(all[s].rawText).toEqual(direct[s].rawText);
        expect(all[s].audioLengths && Array.from(all[s].audioLengths!)).toEqual(direct[s].audioLengths && Array.from(direct[s].audioLengths!));
      }
      // lazy gather of scattered rows == in-memory gather
      const idx = [4, 0, 3, 1, 2];
      const g = ds.train.gather(idx);
      const m = gatherRows(direct.train, idx);
      expect(Array.from(g.vision)).toEqual(Array.from(m.vision));
      expect(g.ids).toEqual(m.ids);
      // iterateBatches works over the lazy split, same batches as in memory
      const lazyB = [...iterateBatches(ds.train, 2, { shuffle: true, seed: 3 })];
      const memB = [...iterateBatches(direct.train, 2, { shuffle: true, seed: 3 })];
      expect(lazyB.map((b) => Array.from(b.audio))).toEqual(memB.map((b) => Array.from(b.audio)));
      ds.close();
      // loadDataset picks the reader by path
      expect(Array.from(loadDataset(dir).test.text)).toEqual(Array.from(direct.test.text));
    });
  }

  it('refuses to overwrite unless asked; validates expected shapes while converting', () => {
    const src = path.join(FIX, 'mmsa_aligned_p4_np2.pkl');
    const dir = path.join(tmp, 'ow');
    convertPickleToChunked(src, dir);
    expect(() => convertPickleToChunked(src, dir)).toThrow(/already holds/);
    expect(() => convertPickleToChunked(src, dir, { overwrite: true })).not.toThrow();
    try {
      convertPickleToChunked(src, path.join(tmp, 'ow2'), { expect: { audio: [50, 5] } });
      throw new Error('no error');
    } catch (e) {
      expect((e as DataError).code).toBe('SMC6013');
      expect((e as DataError).message).toContain('train.audio: expected shape (5, 50, 5), found (5, 6, 5)');
    }
  });

  it('a damaged chunk directory gives SMC6020 naming the file', () => {
    const src = path.join(FIX, 'mmsa_aligned_p4_np2.pkl');
    const dir = path.join(tmp, 'damaged');
    const man = convertPickleToChunked(src, dir, { maxChunkBytes: 1000 });
    const f = man.splits.valid.files.audio[0]!;
    fs.truncateSync(path.join(dir, f), 10);
    try {
      openChunked(dir);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).code).toBe('SMC6020');
      expect((e as DataError).location).toContain(f);
    }
    fs.rmSync(path.join(dir, 'manifest.json'));
    expect(() => openChunked(dir)).toThrow(/no manifest\.json/);
    expect(() => loadDataset(dir)).toThrow(DataError);
  });
});

describe('files beyond 2 GiB / 4 GiB (sparse, MOSEI-sized)', () => {
  it('parses and validates a 4.7 GiB pickle through the fd reader and decodes arrays stored past 4 GiB', () => {
    const file = path.join(tmp, 'big.pkl');
    const N = 33000; // text (N, 50, 768) float32 = 5.07 GB, left as a sparse hole
    const mkSplit = (n: number, withText: boolean) => {
      const audio = Float32Array.from({ length: n * 2 * 3 }, (_, i) => (i % 11) - 5);
      audio[7] = -Infinity;
      return {
        id: { kind: 'array' as const, dtype: '<U6', shape: [n], data: u4bytes(Array.from({ length: n }, (_, i) => `s${i}`), 6) },
        text: withText ? { kind: 'array' as const, dtype: '<f4', shape: [n, 50, 768], byteLength: n * 50 * 768 * 4 } : { kind: 'array' as const, dtype: '<f4', shape: [n, 50, 768], data: new Uint8Array(n * 50 * 768 * 4) },
        audio: { kind: 'array' as const, dtype: '<f4', shape: [n, 2, 3], data: new Uint8Array(audio.buffer) },
        vision: { kind: 'array' as const, dtype: '<f4', shape: [n, 2, 4], data: f32bytes(Array.from({ length: n * 8 }, (_, i) => i / 8)) },
        regression_labels: { kind: 'array' as const, dtype: '<f4', shape: [n], data: f32bytes(Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 1)) },
      };
    };
    const offsets = writePickle(file, { train: mkSplit(N, true), valid: mkSplit(2, false), test: mkSplit(3, false) });
    expect(fs.statSync(file).size).toBeGreaterThan(4.5 * 2 ** 30);
    expect(offsets['train.audio']!).toBeGreaterThan(4 * 2 ** 30);
    withPickleFile(file, (parsed) => {
      const { splits } = inspectMmsa(parsed, { expect: { text: [50, 768], audio: [2, 3], vision: [2, 4] } });
      expect(splits.train.n).toBe(N);
      expect(splits.train.ids[N - 1]).toBe(`s${N - 1}`);
      expect(splits.train.labels[N - 1]).toBe(((N - 1) % 7) - 3);
      const audio = ndToFloat32(splits.train.audio.nd);
      expect(audio[7]).toBe(-Infinity);
      expect(audio[N * 6 - 1]).toBe(((N * 6 - 1) % 11) - 5);
      const vis = ndToFloat32(splits.train.vision.nd);
      expect(vis[N * 8 - 1]).toBe((N * 8 - 1) / 8);
    });
    fs.rmSync(file);
  });

  it('a 2-4 GiB BINBYTES payload (unsigned 4-byte length; pickleparser reads it signed) is skipped correctly', () => {
    const file = path.join(tmp, 'binbytes.pkl');
    const n = 15000; // (n, 50, 768) float32 = 2.3 GB > 2^31
    const small = (k: number) => ({
      id: { kind: 'array' as const, dtype: '<U3', shape: [k], data: u4bytes(Array.from({ length: k }, (_, i) => `i${i % 100}`), 3) },
      text: { kind: 'array' as const, dtype: '<f4', shape: [k, 50, 768], data: new Uint8Array(k * 50 * 768 * 4) },
      audio: { kind: 'array' as const, dtype: '<f4', shape: [k, 1, 1], data: f32bytes(Array.from({ length: k }, (_, i) => i)) },
      vision: { kind: 'array' as const, dtype: '<f4', shape: [k, 1, 1], data: f32bytes(Array.from({ length: k }, (_, i) => -i)) },
      regression_labels: { kind: 'array' as const, dtype: '<f4', shape: [k], data: f32bytes(new Array(k).fill(1)) },
    });
    const train = { ...small(n), text: { kind: 'array' as const, dtype: '<f4', shape: [n, 50, 768], byteLength: n * 50 * 768 * 4, opcode: 'BINBYTES' as const } };
    const off = writePickle(file, { train, valid: small(1), test: small(1) });
    expect(off['train.audio']!).toBeGreaterThan(2 ** 31);
    withPickleFile(file, (parsed) => {
      const { splits } = inspectMmsa(parsed);
      expect(splits.train.text.shape).toEqual([50, 768]);
      const a = ndToFloat32(splits.train.audio.nd);
      expect(a[n - 1]).toBe(n - 1);
    });
    fs.rmSync(file);
  });
});
