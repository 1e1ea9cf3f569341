// Hostile input, item 3: data. Unknown pickle globals are refused by name wherever they appear; NaN/inf labels and
// features and string labels are refused when loading (split, row, key); a converted folder carries a sha256 per file,
// checked on first read, and names only its own files; damaged small files are coded errors.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertPickleToChunked, DataError, loadMmsaPickle, openChunked } from '../../runtime/data/index.js';
import { capped, encodePickle, expectCoded, float, mmsaSplit, mmsaValue, ROOT, TINY_BATCH, tempDir, type Py } from './helpers.js';

const dir = tempDir('data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = join(ROOT, 'specs/smcir-tiny.smcir');
const pkl = (name: string, v: Py): string => {
  const p = join(dir, name);
  writeFileSync(p, encodePickle(v));
  return p;
};
const dataError = (fn: () => unknown): DataError => {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('no error');
};
const os = { kind: 'global', module: 'os', name: 'system' } as const;
const call = (fn: typeof os, ...args: Py[]): Py => ({ kind: 'reduce', fn, args });

describe.concurrent('unknown pickle globals are refused by name, wherever they are', () => {
  test('nested in a dict in a list of a split (CLI: data convert) → SMC6004 naming the global and the key path', async () => {
    const p = pkl('nested-global.pkl', mmsaValue({ valid: mmsaSplit(2, { extra: { meta: { notes: ['ok', call(os, 'echo pwned')] } } }) }));
    const r = await capped(['data', 'convert', p, join(dir, 'never-1')]);
    expectCoded(r, 'SMC6004');
    expect(r.stderr).toContain('valid.meta.notes[1] is object os.system, a global smcirc does not read');
    expect(r.stdout).not.toContain('pwned');
  });

  test('as a bare reference, as the callable of a nested REDUCE, as a BUILD state, at the top level', () => {
    const shapes: [string, Py, string][] = [
      ['bare', mmsaValue({ test: mmsaSplit(3, { extra: { f: { kind: 'global', module: 'builtins', name: 'eval' } } }) }), 'test.f is object builtins.eval'],
      ['deep', mmsaValue({ train: mmsaSplit(4, { extra: { a: [[[{ b: call({ kind: 'global', module: 'subprocess', name: 'Popen' } as unknown as typeof os, ['ls']) }]]] } }) }), 'train.a[0][0][0].b is object subprocess.Popen'],
      ['top', call(os, 'id'), '<root> is object os.system'],
      ['label', mmsaValue({ test: mmsaSplit(3, { labels: [1, call(os, 'x'), 2] }) }), 'test.regression_labels[1] is object os.system'],
    ];
    for (const [name, v, message] of shapes) {
      const e = dataError(() => loadMmsaPickle(pkl(`g-${name}.pkl`, v)));
      expect(e.code).toBe('SMC6004');
      expect(e.message).toContain(message);
      expect(e.location).toMatch(/byte \d+/);
    }
  });
});

describe.concurrent('labels and features are checked up front, in every split', () => {
  test('NaN in test labels: SMC6017 with split, row, id and key — before any training (CLI: train)', async () => {
    const p = pkl('nan-labels.pkl', mmsaValue({ test: mmsaSplit(3, { labels: [0.5, float(NaN), 1] }) }));
    const r = await capped(['train', TINY, '--data', p, ...TINY_BATCH, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, 'never-2')]);
    expectCoded(r, 'SMC6017');
    expect(r.stderr).toContain('test.regression_labels: row 1 (id "vid1$_$1") is NaN');
    expect(r.stderr).toContain(`at: ${p}: test.regression_labels[1]`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/epoch|SMC6030/);
  });

  test('inf in valid features: SMC6017 naming split, key, row, time step and feature (CLI: data convert)', async () => {
    const vision = Array.from({ length: 2 * 12 * 6 }, () => 0.1);
    vision[12 * 6 + 5 * 6 + 4] = Infinity; // row 1, step 5, feature 4
    const p = pkl('inf-features.pkl', mmsaValue({ valid: mmsaSplit(2, { vision }) }));
    const r = await capped(['data', 'convert', p, join(dir, 'never-3')]);
    expectCoded(r, 'SMC6017');
    expect(r.stderr).toContain('valid.vision: row 1 (id "vid1$_$1"), time step 5, feature 4 is inf');
    const e = dataError(() => loadMmsaPickle(p));
    expect(e.message).toBe('valid.vision: row 1 (id "vid1$_$1"), time step 5, feature 4 is inf');
  });

  test('string labels are refused with the key (CLI: data convert)', async () => {
    const p = pkl('string-labels.pkl', mmsaValue({ train: mmsaSplit(4, { labels: [1, 2, 'positive', 0] }) }));
    const r = await capped(['data', 'convert', p, join(dir, 'never-4')]);
    expectCoded(r, 'SMC6015');
    expect(r.stderr).toContain('train.regression_labels[2] is the string "positive", not a number');
  });

  test('-inf in audio is still replaced by 0 and counted, as MMSA does; -inf elsewhere is refused', () => {
    const audio = Array.from({ length: 4 * 10 * 4 }, () => 0.5);
    audio[3] = -Infinity;
    audio[77] = -Infinity;
    const ds = loadMmsaPickle(pkl('neginf-audio.pkl', mmsaValue({ train: mmsaSplit(4, { audio }) })));
    expect(ds.report.negInfReplaced).toEqual({ train: 2, valid: 0, test: 0, total: 2 });
    expect(ds.train.audio[3]).toBe(0);
    const text = Array.from({ length: 3 * 8 * 16 }, () => 0);
    text[200] = -Infinity;
    const e = dataError(() => loadMmsaPickle(pkl('neginf-text.pkl', mmsaValue({ test: mmsaSplit(3, { text }) }))));
    expect(e.code).toBe('SMC6017');
    expect(e.message).toBe('test.text: row 1 (id "vid1$_$1"), time step 4, feature 8 is -inf');
  });

  test('a list of labels that repeats a big list through the memo is bounded, not flattened', () => {
    // 2 bytes per reference in the pickle, n + 1 numbers at most read from it
    const big = Array.from({ length: 1000 }, (_, i) => i);
    const e = dataError(() => loadMmsaPickle(pkl('labels-nested.pkl', mmsaValue({ test: mmsaSplit(3, { labels: [big, big, big] }) }))));
    expect(e.code).toBe('SMC6012');
  });
});

describe('a converted folder: checksums and plain names', () => {
  let src: string;
  const fresh = (name: string): string => {
    const out = join(dir, name);
    convertPickleToChunked(src, out, { maxChunkBytes: 1000 });
    return out;
  };
  const manifestOf = (d: string) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
  const setManifest = (d: string, m: unknown) => writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
  beforeAll(() => {
    src = pkl('chunk-src.pkl', mmsaValue());
  });

  test('the manifest records a sha256 per file; a zeroed chunk is refused on first read (CLI: train)', async () => {
    const d = fresh('zeroed');
    const m = manifestOf(d);
    expect(m.version).toBe(2);
    for (const s of ['train', 'valid', 'test']) {
      for (const f of [...m.splits[s].files.text, m.splits[s].labels, m.splits[s].ids]) {
        expect(m.sha256[f]).toBe(createHash('sha256').update(readFileSync(join(d, f))).digest('hex'));
      }
    }
    const chunk = m.splits.test.files.vision[0];
    const size = readFileSync(join(d, chunk)).length;
    writeFileSync(join(d, chunk), new Uint8Array(size)); // same size, zeroed
    const r = await capped(['train', TINY, '--data', d, ...TINY_BATCH, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, 'never-5')]);
    expectCoded(r, 'SMC6021');
    expect(r.stderr).toContain(`${chunk} does not match the sha256 manifest.json records`);
    // in-process: the lazy reader checks a train chunk the first time a row of it is read
    const d2 = fresh('zeroed-train');
    const c2 = manifestOf(d2).splits.train.files.audio[1];
    writeFileSync(join(d2, c2), new Uint8Array(readFileSync(join(d2, c2)).length));
    const ds = openChunked(d2);
    expect(ds.train.gather([0]).n).toBe(1); // chunk 0 is intact
    const e = dataError(() => ds.train.loadAll());
    expect(e.code).toBe('SMC6021');
    ds.close();
  });

  test('a manifest naming ../../../etc/passwd, an absolute path or a link is refused (SMC6022)', async () => {
    const d = fresh('escape');
    const m = manifestOf(d);
    m.splits.valid.ids = '../../../etc/passwd';
    setManifest(d, m);
    const r = await capped(['train', TINY, '--data', d, ...TINY_BATCH, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, 'never-6')]);
    expectCoded(r, 'SMC6022');
    expect(r.stderr).not.toMatch(/root:/);
    for (const bad of ['/etc/passwd', 'train/../../x', 'train/', 'valid/a/b.f32', 42]) {
      const m2 = manifestOf(fresh(`escape-${String(bad).replace(/\W/g, '_')}`));
      m2.splits.train.files.text[0] = bad;
      const d2 = join(dir, `escape-${String(bad).replace(/\W/g, '_')}`);
      setManifest(d2, m2);
      expect(dataError(() => openChunked(d2)).code).toBe('SMC6022');
    }
    const d3 = fresh('linked');
    const m3 = manifestOf(d3);
    const f = m3.splits.test.labels;
    rmSync(join(d3, f));
    symlinkSync(join(dir, 'chunk-src.pkl'), join(d3, f));
    expect(dataError(() => openChunked(d3)).code).toBe('SMC6022');
  });

  test('ids.json corrupt, manifest.json damaged or from an older conversion: SMC6020 (CLI: train)', async () => {
    const d = fresh('ids');
    const m = manifestOf(d);
    writeFileSync(join(d, m.splits.train.ids), '["a", "b", ');
    m.sha256[m.splits.train.ids] = createHash('sha256').update('["a", "b", ').digest('hex');
    setManifest(d, m);
    const r = await capped(['train', TINY, '--data', d, ...TINY_BATCH, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, 'never-7')]);
    expectCoded(r, 'SMC6020');
    expect(r.stderr).toContain('train/ids.json is not valid JSON');
    const cases: [string, (m: Record<string, any>) => unknown][] = [
      ['v1', (x) => ({ ...x, version: 1, sha256: undefined })],
      ['null', () => null],
      ['no-sums', (x) => ({ ...x, sha256: [] })],
      ['n', (x) => ({ ...x, splits: { ...x.splits, test: { ...x.splits.test, n: -3 } } })],
      ['shape', (x) => ({ ...x, splits: { ...x.splits, test: { ...x.splits.test, shapes: { ...x.splits.test.shapes, audio: [1e9, 1e9] } } } })],
      ['report', (x) => ({ ...x, report: null })],
    ];
    for (const [name, edit] of cases) {
      const d2 = fresh(`m-${name}`);
      setManifest(d2, edit(manifestOf(d2)));
      expect(dataError(() => openChunked(d2)).code, name).toBe('SMC6020');
    }
  });

  test('`data convert` onto an existing folder says --overwrite (the option it has), and never replaces a bundle', async () => {
    const d = fresh('again');
    const r = await capped(['data', 'convert', src, d]);
    expectCoded(r, 'SMC6020');
    expect(r.stderr).toContain('--overwrite');
    expect(r.stderr).not.toContain('--force');
    const bundle = join(dir, 'a-bundle');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'manifest.json'), JSON.stringify({ format: 'smcirc-bundle' }));
    const r2 = await capped(['data', 'convert', src, bundle, '--overwrite']);
    expectCoded(r2, 'SMC6020');
    expect(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).format).toBe('smcirc-bundle');
  });
});
