// Hostile input, item 4: usage and file-system errors print their message with a code, the operation, the path and a
// hint (cli/errors.ts maps Node's error codes); damaged bundles and checkpoints are coded errors.

import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fileSystemError, reportError } from '../../cli/errors.js';
import { manifestDigest } from '../../runtime/abi/manifest.js';
import { capped, encodePickle, expectCoded, mmsaValue, ROOT, tempDir } from './helpers.js';

const dir = tempDir('fs');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = join(ROOT, 'specs/smcir-tiny.smcir');
const file = join(dir, 'a-file');
writeFileSync(file, 'not a folder\n');
const run = join(dir, 'run');
const bundle = join(dir, 'bundle');

beforeAll(async () => {
  // One short run (reference backend, one step) and one bundle to point the commands at.
  const [t, c] = await Promise.all([
    capped(['train', TINY, '--backend', 'reference', '--max-steps', '1', '--max-epochs', '1', '--out', run, '--quiet'], { timeout: 240_000 }),
    capped(['compile', TINY, '-o', bundle], { timeout: 240_000 }),
  ]);
  expect(t.code, t.stderr).toBe(0);
  expect(c.code, c.stderr).toBe(0);
}, 300_000);

describe.concurrent('output paths', () => {
  test('train --out onto a file, or under a file', async () => {
    const r = await capped(['train', TINY, '--backend', 'reference', '--max-steps', '1', '--out', file]);
    expectCoded(r, /error SMC505[12]: /);
    expect(r.stderr).toContain(file);
    const r2 = await capped(['train', TINY, '--backend', 'reference', '--max-steps', '1', '--out', join(file, 'run')]);
    expectCoded(r2, 'SMC5051');
  });

  test('eval --json onto a folder, --csv into a missing folder; diagnose --csv into a missing folder', async () => {
    const r = await capped(['eval', run, '--backend', 'reference', '--json', dir]);
    expectCoded(r, 'SMC5051');
    expect(r.stderr).toContain(`cannot open ${dir}: it is a folder, where a file is needed (EISDIR)`);
    const r2 = await capped(['eval', run, '--backend', 'reference', '--csv', join(dir, 'missing', 'x.csv')]);
    expectCoded(r2, 'SMC5050');
    expect(r2.stderr).toContain(`at: ${join(dir, 'missing', 'x.csv')}`);
    const r3 = await capped(['diagnose', run, '--backend', 'reference', '--csv', join(dir, 'missing', 'y.csv')]);
    expectCoded(r3, 'SMC5050');
  });

  test('compile -o onto a file, and onto a file system that refuses writes (/sys)', async () => {
    const r = await capped(['compile', TINY, '-o', file]);
    expectCoded(r, 'SMC5051');
    const r2 = await capped(['compile', TINY, '-o', '/sys/smcirc-hostile-bundle']);
    expectCoded(r2, /error SMC50(12|50): /);
  });

  test('data convert into a file, under a file, and onto /sys', async () => {
    const src = join(dir, 'ok.pkl');
    writeFileSync(src, encodePickle(mmsaValue()));
    for (const [out, code] of [[join(file, 'x'), 'SMC5051'], ['/sys/smcirc-hostile', 'SMC5012']] as const) {
      const r = await capped(['data', 'convert', src, out]);
      expectCoded(r, code);
    }
  });
});

describe.concurrent('bundles and checkpoints', () => {
  test('a bundle manifest with "programs": null is refused by shape (SMC5031)', async () => {
    const b = join(dir, 'bundle-null');
    cpSync(bundle, b, { recursive: true });
    const m = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8'));
    m.programs = null;
    writeFileSync(join(b, 'manifest.json'), JSON.stringify(m));
    const r = await capped(['train', b, '--backend', 'reference', '--max-steps', '1', '--out', join(dir, 'never-b')]);
    expectCoded(r, 'SMC5031', { located: false });
    expect(r.stderr).toContain(`${join(b, 'manifest.json')}: manifest.programs should be an object`);
  });

  test('a routed dispatch pointing outside the routing buffer is refused by field, even with its hash recomputed', async () => {
    const b = join(dir, 'bundle-routed');
    cpSync(bundle, b, { recursive: true });
    const m = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8'));
    const i = m.programs.forward.dispatches.findIndex((d: { routed?: unknown }) => d.routed);
    expect(i).toBeGreaterThanOrEqual(0);
    m.programs.forward.dispatches[i].routed.at = 1e9;
    m.manifest_sha256 = manifestDigest(m);
    writeFileSync(join(b, 'manifest.json'), JSON.stringify(m));
    const r = await capped(['train', b, '--max-steps', '1', '--out', join(dir, 'never-r')]);
    expectCoded(r, 'SMC5031', { located: false });
    expect(r.stderr).toContain(`manifest.programs.forward.dispatches[${i}].routed.at should be a multiple of 256`);
  });

  test('a checkpoint whose header gives a negative shape is refused (SMC5010)', async () => {
    const best = readFileSync(join(run, 'seed-1111', 'best.safetensors'));
    const n = Number(best.readBigUInt64LE(0));
    const header = JSON.parse(best.subarray(8, 8 + n).toString('utf8'));
    const name = Object.keys(header).find((k) => k !== '__metadata__')!;
    header[name].shape = [-1, ...header[name].shape.slice(1)];
    const h = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const p = join(dir, 'negative.safetensors');
    writeFileSync(p, Buffer.concat([len, h, best.subarray(8 + n)]));
    const r = await capped(['eval', p, '--spec', TINY, '--backend', 'reference']);
    expectCoded(r, 'SMC5010', { located: false });
    expect(r.stderr).toContain(`${p} is not a valid safetensors file`);
  });

  test.each([
    ['null', 'its header is not a JSON object'],
    ['{"w": null}', 'tensor w has no valid shape or data_offsets'],
    ['{"__metadata__": 3}', 'its __metadata__ is not an object of strings'],
  ])('a checkpoint whose header is %s is refused (SMC5010)', async (json, message) => {
    const h = Buffer.from(json);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const p = join(dir, `header-${h.length}.safetensors`);
    writeFileSync(p, Buffer.concat([len, h]));
    const r = await capped(['eval', p, '--spec', TINY, '--backend', 'reference']);
    expectCoded(r, 'SMC5010', { located: false });
    expect(r.stderr).toContain(message);
  });

  test('output folders under /proc fail at once with a coded error (Node’s recursive mkdir would spin there)', async () => {
    for (const args of [['train', '--backend', 'reference', '--max-steps', '1', '--out', '/proc/smcirc-test/run'], ['compile', TINY, '-o', '/proc/smcirc-test/bundle']]) {
      const r = await capped(args);
      expectCoded(r, /SMC505\d/);
      expect(r.stderr).toContain('/proc/smcirc-test');
    }
  });

  test('a checkpoint path that is not a regular file is refused before reading (SMC5013)', async () => {
    const r = await capped(['eval', '/dev/zero', '--spec', TINY, '--backend', 'reference']);
    expectCoded(r, 'SMC5013', { located: false });
    expect(r.stderr).toContain('/dev/zero is not a regular file');
  });
});

describe('every Node file-system error code becomes a coded, located message', () => {
  const capture = (e: unknown) => {
    let out = '';
    const code = reportError(e, (s) => (out += s));
    return { code, out };
  };
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    throw new Error('no error');
  };

  test('real errors from fs calls', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const cases: [unknown, string, string][] = [
      [thrown(() => readFileSync(join(dir, 'nope'))), 'SMC5050', 'cannot open'],
      [thrown(() => writeFileSync(join(dir, 'sub'), 'x')), 'SMC5051', 'it is a folder'],
      [thrown(() => mkdirSync(join(file, 'x'))), 'SMC5051', 'cannot create the folder'],
      [thrown(() => mkdirSync(join(dir, 'sub'))), 'SMC5052', 'already exists'],
      [thrown(() => readFileSync(join(dir, 'x'.repeat(300)))), 'SMC5053', 'too long'],
      [thrown(() => readFileSync(join(dir, 'loop-a'))), 'SMC5053', 'loop'],
      [thrown(() => writeFileSync('/sys/smcirc-hostile-file', 'x')), 'SMC50', 'cannot open /sys/smcirc-hostile-file'],
    ];
    for (const [e, code, text] of cases) {
      const { code: rc, out } = capture(e);
      expect(rc).toBe(1);
      expect(out).toMatch(new RegExp(`^error ${code}\\d*: `));
      expect(out).toContain(text);
      expect(out).toMatch(/\n {2}at: \S/);
      expect(out).toMatch(/\n {2}hint: \S/);
      expect(out).not.toContain('internal error');
    }
  });

  test('synthesised: EROFS, EACCES, ENOSPC (with and without a path), an unknown code', () => {
    const mk = (code: string, syscall?: string, path?: string) => Object.assign(new Error(`${code}: x`), { code, syscall, path });
    expect(fileSystemError(mk('EROFS', 'open', '/ro/x'))).toMatch(/^error SMC5012: cannot open \/ro\/x: the file system is read-only \(EROFS\)/);
    expect(fileSystemError(mk('EACCES', 'mkdir', '/root/x'))).toMatch(/^error SMC5012: cannot create the folder \/root\/x: permission denied/);
    expect(fileSystemError(mk('ENOSPC', 'write'))).toMatch(/^error SMC5011: the disk is full/);
    expect(fileSystemError(mk('ENOSPC', 'open', '/full/x'))).toMatch(/^error SMC5011: cannot open \/full\/x/);
    expect(fileSystemError(mk('EBUSY', 'rmdir', '/mnt/x'))).toMatch(/^error SMC5054: cannot remove the folder \/mnt\/x: EBUSY/);
    expect(fileSystemError(new Error('plain'))).toBeUndefined();
    expect(fileSystemError(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeUndefined();
  });

  test('an out-of-stack or allocation failure that escaped every limit is SMC5055, not an internal error', () => {
    const { out } = capture(new RangeError('Maximum call stack size exceeded'));
    expect(out).toMatch(/^error SMC5055: out of memory or stack/);
  });
});
