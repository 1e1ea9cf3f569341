// Hostile input, item 5: a seeded fuzz over mutated binary inputs (MMSA pickles from test/fixtures/data, a compiled
// bundle's manifest, a converted data folder) — in process, through the loaders — and over CLI options (the real
// binary). No case may end in an internal error (anything but the loaders' coded errors), a crash or a hang.
// SMCIRC_FUZZ_SEED=<n> reproduces a run; a failure names its seed and case.

import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reportError } from '../../cli/errors.js';
import { manifestDigest, type BundleManifest } from '../../runtime/abi/manifest.js';
import { openBundle } from '../../runtime/bundle/load.js';
import { convertPickleToChunked, DataError, mmsaFromParsed, openChunked } from '../../runtime/data/index.js';
import { MemorySource, parsePickleSource } from '../../runtime/data/pickle.js';
import { capped, encodePickle, float, mmsaSplit, mmsaValue, ROOT, tempDir, type Py } from './helpers.js';

const SEED = Number(process.env.SMCIRC_FUZZ_SEED ?? 20261201);
const FIX = join(ROOT, 'test/fixtures/data');
const dir = tempDir('fuzz');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const yieldNow = () => new Promise((r) => setImmediate(r));

/** mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof rng>;

/** Whether the CLI would print an internal error for `e` (what this fuzz hunts). */
function internal(e: unknown): string | undefined {
  let out = '';
  reportError(e, (s) => (out += s));
  return /internal error/.test(out) ? `${(e as Error)?.stack ?? String(e)}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Mutators

const BIG = [0xff, 0xff, 0xff, 0x7f];
function mutateBytes(r: Rng, src: Uint8Array, donors: Uint8Array[]): Uint8Array {
  let b = Array.from(src);
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    const at = r.int(b.length + 1);
    switch (r.int(8)) {
      case 0: // flip a bit
        if (b.length) b[at % b.length]! ^= 1 << r.int(8);
        break;
      case 1: // a random byte
        if (b.length) b[at % b.length] = r.int(256);
        break;
      case 2: // truncate
        b = b.slice(0, at);
        break;
      case 3: // delete a range
        b.splice(at, 1 + r.int(64));
        break;
      case 4: // duplicate a range
        b.splice(at, 0, ...b.slice(at, at + 1 + r.int(200)));
        break;
      case 5: // a huge length or count
        b.splice(at, 4, ...BIG);
        break;
      case 6: {
        // splice in a piece of another pickle
        const d = r.pick(donors);
        const s = r.int(d.length);
        b.splice(at, r.int(32), ...d.slice(s, s + 1 + r.int(300)));
        break;
      }
      default: // random bytes
        b.splice(at, 0, ...Array.from({ length: 1 + r.int(16) }, () => r.int(256)));
    }
  }
  return Uint8Array.from(b);
}

const HOSTILE_VALUES: unknown[] = [null, -1, 0, 1e308, -1e308, 2 ** 53 + 1, 1.5, 'x', '', '../../../etc/passwd', '/etc/passwd', [], {}, [1e9, 1e9], true, 'train/../x', Array(50).fill(7), { a: null }];

/** A JSON value with one to three random edits somewhere inside (delete, replace, duplicate into a sibling). */
function mutateJson(r: Rng, v: unknown): unknown {
  const root = structuredClone(v);
  const edits = 1 + r.int(3);
  for (let k = 0; k < edits; k++) {
    // walk down to a random container
    let parent: Record<string, unknown> | unknown[] | undefined;
    let key: string | number | undefined;
    let cur: unknown = root;
    for (let depth = 0; depth < 12 && cur && typeof cur === 'object' && r.next() < 0.8; depth++) {
      const keys = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
      if (!keys.length) break;
      parent = cur as Record<string, unknown>;
      key = r.pick(keys as (string | number)[]);
      cur = (cur as Record<string | number, unknown>)[key];
    }
    if (!parent || key === undefined) continue;
    const p = parent as Record<string | number, unknown>;
    switch (r.int(4)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete p[key];
        break;
      case 1:
        p[key] = structuredClone(r.pick(HOSTILE_VALUES));
        break;
      case 2:
        p[key] = typeof cur === 'number' ? r.pick([-cur, cur * 1e6, cur + 1, Math.floor(cur / 2)]) : typeof cur === 'string' ? r.pick([`${cur}x`, cur.slice(1), cur.toUpperCase()]) : null;
        break;
      default: {
        const keys = Object.keys(parent);
        p[key] = structuredClone(p[r.pick(keys) as keyof typeof p]);
      }
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------

describe('fuzz (in process): mutated pickles, converted folders and bundle manifests', () => {
  const failures: string[] = [];
  const fixtures: { name: string; bytes: Uint8Array }[] = readdirSync(FIX).filter((f) => f.endsWith('.pkl')).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(FIX, f))) }));
  fixtures.push({ name: 'hostile-writer.pkl', bytes: encodePickle(mmsaValue()) });

  test(`1,200 mutated MMSA pickles (seed ${SEED})`, async () => {
    const r = rng(SEED);
    const donors = fixtures.map((f) => f.bytes);
    let refused = 0;
    for (let i = 0; i < 1200; i++) {
      if (i % 50 === 0) await yieldNow();
      const fx = r.pick(fixtures);
      const bytes = mutateBytes(r, fx.bytes, donors);
      const lazy = r.next() < 0.5 ? 64 : Number.MAX_SAFE_INTEGER;
      try {
        const parsed = parsePickleSource(new MemorySource(bytes, `case-${i}`), { lazyThreshold: lazy });
        mmsaFromParsed(parsed, r.next() < 0.5 ? {} : { keys: { label: r.pick(['regression_labels', 'classification_labels', 'id']) } });
      } catch (e) {
        refused++;
        if (!(e instanceof DataError)) failures.push(`pickle case ${i} (seed ${SEED}, from ${fx.name}): ${internal(e) ?? `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`}`);
      }
    }
    expect(failures).toEqual([]);
    expect(refused).toBeGreaterThan(300); // the mutations do reach the error paths
  }, 120_000);

  test(`600 MMSA pickles with a hostile value at a random key (seed ${SEED})`, async () => {
    const r = rng(SEED + 4);
    const arr = (dtype: string, shape: number[], bytes: number): Py => ({ kind: 'array', dtype, shape, data: new Uint8Array(bytes) });
    const fn = (module: string, name: string, ...args: Py[]): Py => ({ kind: 'reduce', fn: { kind: 'global', module, name }, args });
    const ATOMS: Py[] = [null, 1, -1, 'x', float(NaN), float(Infinity), true, [], {}, [1, 2, 3], ['a', 'b'], [[1], [2]], [[[[[1]]]]],
      arr('<f4', [2], 8), arr('<f4', [0], 0), arr('<U3', [2], 24), arr('|S2', [3], 6), arr('<i8', [3], 24), arr('>f8', [1, 1, 1], 8),
      arr('<f4', [3, 2, 1], 7), arr('<f4', [100000, 100000, 100000], 16), arr('<c8', [2], 16), arr('|O', [2], 0),
      { kind: 'global', module: 'numpy', name: 'dtype' }, fn('numpy', 'dtype', 'f4'), fn('numpy', 'dtype', 'q9'), fn('builtins', 'bytes', 5),
      fn('builtins', 'bytes', 2 ** 31 - 1), fn('builtins', 'set', [1, 2]), fn('collections', 'OrderedDict'), fn('numpy._core.multiarray', 'scalar', 1, 2),
      fn('numpy._core.multiarray', '_reconstruct', 1, 2, 3), fn('numpy._core.numeric', '_frombuffer', 'x', 3, 4, 'F'), fn('_codecs', 'encode', 5, 'x'),
      fn('torch._utils', '_rebuild_tensor_v2', 1), fn('os', 'system', 'true')];
    const KEYS = ['id', 'text', 'vision', 'audio', 'regression_labels', 'audio_lengths', 'vision_lengths', 'raw_text', 'extra'];
    for (let i = 0; i < 600; i++) {
      if (i % 50 === 0) await yieldNow();
      const split = r.pick(['train', 'valid', 'test'] as const);
      const base = mmsaSplit(split === 'train' ? 4 : split === 'valid' ? 2 : 3);
      const key = r.pick(KEYS);
      base[key] = r.pick(ATOMS);
      const v = r.next() < 0.1 ? r.pick(ATOMS) : mmsaValue({ [split]: base });
      try {
        mmsaFromParsed(parsePickleSource(new MemorySource(encodePickle(v), `structured-${i}`), { lazyThreshold: r.next() < 0.5 ? 4 : Number.MAX_SAFE_INTEGER }));
      } catch (e) {
        if (!(e instanceof DataError)) failures.push(`structured case ${i} (seed ${SEED}, ${split}.${key}): ${internal(e) ?? `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  test(`400 damaged converted folders (seed ${SEED})`, async () => {
    const r = rng(SEED + 1);
    const folder = join(dir, 'chunked');
    convertPickleToChunked(join(FIX, 'mmsa_unaligned_p2_np2.pkl'), folder, { maxChunkBytes: 2000 });
    const files = new Map<string, Buffer>();
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (lstatSync(p).isDirectory()) walk(p);
        else files.set(relative(folder, p), readFileSync(p));
      }
    };
    walk(folder);
    const names = [...files.keys()].filter((f) => f !== 'manifest.json');
    const codes = new Map<string, number>();
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    const restore = (touched: Set<string>) => {
      for (const f of touched) {
        rmSync(join(folder, f), { recursive: true, force: true });
        writeFileSync(join(folder, f), files.get(f)!);
      }
    };
    for (let i = 0; i < 400; i++) {
      if (i % 20 === 0) await yieldNow();
      const touched = new Set<string>();
      const kind = r.int(5);
      if (kind <= 1) {
        // the manifest, its hashes kept consistent half of the time (so that the edit reaches the readers)
        const m = mutateJson(r, manifest) as Record<string, unknown>;
        writeFileSync(join(folder, 'manifest.json'), JSON.stringify(m));
        touched.add('manifest.json');
      } else if (kind === 2) {
        const f = r.pick(names);
        const b = mutateBytes(r, files.get(f)!, [files.get(f)!]);
        writeFileSync(join(folder, f), b);
        touched.add(f);
        if (r.next() < 0.5) {
          // re-record its hash: the reader then meets the damaged content itself (sizes, JSON, NaN labels)
          const m = structuredClone(manifest);
          m.sha256[f] = createHash('sha256').update(b).digest('hex');
          writeFileSync(join(folder, 'manifest.json'), JSON.stringify(m));
          touched.add('manifest.json');
        }
      } else if (kind === 3) {
        const f = r.pick(names);
        rmSync(join(folder, f));
        if (r.next() < 0.5) mkdirSync(join(folder, f));
        touched.add(f);
      } else {
        const f = r.pick(names);
        rmSync(join(folder, f));
        symlinkSync(r.pick(['/etc/passwd', '/dev/zero', join(folder, r.pick(names))]), join(folder, f));
        touched.add(f);
      }
      try {
        const ds = openChunked(folder);
        try {
          ds.loadAll();
          ds.train.gather([0]);
        } finally {
          ds.close();
        }
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (e instanceof DataError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        if (!(e instanceof DataError)) failures.push(`chunked case ${i} (seed ${SEED}, kind ${kind}): ${internal(e) ?? `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`}`);
      }
      restore(touched);
    }
    expect(failures).toEqual([]);
    // the damage reaches every check: the manifest, plain names, the hashes
    for (const c of ['SMC6020', 'SMC6021', 'SMC6022']) expect(codes.get(c), JSON.stringify([...codes])).toBeGreaterThan(5);
  }, 120_000);

  let bundle: string;
  beforeAll(async () => {
    bundle = join(dir, 'bundle');
    const c = await capped(['compile', join(ROOT, 'specs/smcir-tiny.smcir'), '-o', bundle], { timeout: 240_000 });
    expect(c.code, c.stderr).toBe(0);
  }, 300_000);

  test(`200 mutated bundle manifests, most with a recomputed manifest_sha256 (seed ${SEED})`, async () => {
    const r = rng(SEED + 2);
    const path = join(bundle, 'manifest.json');
    const original = JSON.parse(readFileSync(path, 'utf8')) as BundleManifest;
    const copy = join(dir, 'bundle-case');
    cpSync(bundle, copy, { recursive: true });
    let deep = 0;
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 0) await yieldNow();
      const m = mutateJson(r, original) as BundleManifest;
      if (m && typeof m === 'object' && r.next() < 0.8) {
        try {
          m.manifest_sha256 = manifestDigest(m);
          deep++;
        } catch {
          // a manifest too broken to hash is still a valid case
        }
      }
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
      try {
        openBundle(copy);
      } catch (e) {
        const bundleError = (e as { constructor?: { name?: string } })?.constructor?.name === 'BundleError';
        if (!bundleError) failures.push(`manifest case ${i} (seed ${SEED}): ${internal(e) ?? `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`}`);
      }
    }
    expect(deep).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe('fuzz (the CLI): random options and values', () => {
  const fifo = join(dir, 'pipe.pkl');
  const file = join(dir, 'plain.txt');
  const VALUES = ['', '-1', '0', '1e309', '99999999999999999999', 'NaN', 'abc', '/dev/zero', fifo, '/proc/self/status', dir, file, join(dir, 'missing'),
    '../../../etc/passwd', 'x'.repeat(300), '=', '∞', '-', '--', '1:0:-1', '0:1:0', 'L,LV,QQ', '1111-99999999'];
  const SETS = ['eta=', 'eta=1e400', 'train.lr=abc', 'T_L=1e9', 'd_L=-4', 'heads=0', 'nope=1', 'train.batch_size=0', 'eval.conditions=', `eta=${'('.repeat(200)}1${')'.repeat(200)}`, 'data.text=', 'T_L=99999999999999999999', 'train.seeds=[]'];

  test(`16 random command lines (seed ${SEED})`, async () => {
    writeFileSync(file, 'hello\n');
    execFileSync('mkfifo', [fifo]);
    // relative outputs (`-o 1e309`, `data convert x =`) land in a scratch folder, never in the repository
    const work = join(dir, 'cwd');
    mkdirSync(work);
    const r = rng(SEED + 3);
    const tiny = join(ROOT, 'specs/smcir-tiny.smcir');
    const v = () => r.pick(VALUES);
    const commands: (() => string[])[] = [
      () => ['check', r.pick([tiny, v()]), ...(r.next() < 0.7 ? ['--set', r.pick(SETS)] : []), ...(r.next() < 0.4 ? ['--batch', v()] : [])],
      () => ['compile', r.pick([tiny, v()]), '-o', r.pick([join(dir, `b${r.int(1e6)}`), v()]), ...(r.next() < 0.5 ? ['--target', r.pick(['software', 'gpu', file, join(dir, 'missing.json'), '{', 'x'.repeat(300)])] : []), ...(r.next() < 0.3 ? ['--set', r.pick(SETS)] : [])],
      () => ['inspect', r.pick([tiny, v()]), '--graph', ...(r.next() < 0.5 ? ['--set', r.pick(SETS)] : [])],
      () => ['explain', v()],
      () => ['data', 'convert', r.pick([join(FIX, 'mmsa_aligned_p4_np2.pkl'), v()]), r.pick([join(dir, `c${r.int(1e6)}`), v()])],
      () => ['eval', v(), ...(r.next() < 0.5 ? ['--spec', r.pick([tiny, v()])] : []), '--backend', 'reference', ...(r.next() < 0.5 ? ['--missing-rate', v()] : []), ...(r.next() < 0.5 ? ['--conditions', v()] : [])],
      () => ['diagnose', v(), '--backend', 'reference', ...(r.next() < 0.5 ? ['--csv', v()] : []), ...(r.next() < 0.5 ? ['--seed', v()] : [])],
      () => ['train', tiny, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, `t${r.int(1e6)}`), r.pick(['--data', '--resume', '--seeds', '--init']), v()],
      () => [r.pick(['check', 'train', 'eval', 'data', 'bogus']), `--${r.pick(['set', 'batch', 'out', 'nope'])}`, ...(r.next() < 0.5 ? [v()] : [])],
    ];
    const lines = Array.from({ length: 16 }, () => r.pick(commands)());
    const problems: string[] = [];
    for (let i = 0; i < lines.length; i += 4) {
      const batch = lines.slice(i, i + 4);
      const results = await Promise.all(batch.map((args) => capped(args, { cwd: work })));
      results.forEach((res, k) => {
        const args = JSON.stringify(batch[k]);
        const out = `${res.stderr}${res.stdout}`;
        if (res.timedOut || /\[killed by SIG/.test(res.stderr)) problems.push(`${args}: blocked or ran out of its 30 CPU seconds / 4 GB (${res.seconds}s wall, seed ${SEED}): ${res.stderr.slice(-300)}`);
        else if (![0, 1, 2].includes(res.code)) problems.push(`${args}: exit ${res.code}: ${out.slice(-500)}`);
        else if (/internal error|FATAL ERROR|out of memory|^\s+at .+[:(]\d+/m.test(out)) problems.push(`${args}: ${out.slice(-800)}`);
        else if (res.code !== 0 && !/(^|\n)(\S+: )?error( SMC\d{4})?: /.test(res.stderr)) problems.push(`${args}: exit ${res.code} without an error line: ${out.slice(-500)}`);
      });
    }
    expect(problems).toEqual([]);
  }, 600_000);
});
