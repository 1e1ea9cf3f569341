// Hostile input, item 1: the front end's inputs are bounded up front (compiler/check/limits.ts). Every case drives the
// real CLI under a 4 GB memory cap and a 30 s CPU cap and must end with a coded, located error — never an internal
// error, a stack overflow or an out-of-memory abort.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkSpec } from '../../compiler/check/index.js';
import { LIMITS } from '../../compiler/check/limits.js';
import { capped, expectCoded, ROOT, tempDir } from './helpers.js';

const dir = tempDir('front');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TINY = join(ROOT, 'specs/smcir-tiny.smcir');
const spec = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
/** A minimal model around `body` (a forward statement list over input x: [B, 4]). */
const model = (decls: string, body = 'output pred = x[:, 0]') => `dim B\ninput x: [B, 4]\n${decls}\nmodel M {\n  forward(x) {\n    ${body}\n  }\n}\n`;

describe('sizes are decided before anything is allocated', () => {
  test('T_L = d_L = 100,000,000 in a two-line spec: SMC3009 naming the tensor and its numbers (was 21.6 GB)', async () => {
    const p = spec('huge-dims.smcir', `import "${TINY}"\nconst T_L = 100000000\nconst d_L = 100000000\n`);
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC3009');
    expect(r.stderr).toContain('input `text` would have shape [16, 100000000, 100000000]');
    expect(r.stderr).toContain('160,000,000,000,000,000 elements');
    expect(r.stderr).toContain('2,147,483,648 (2^31)');
    expect(r.stderr).toMatch(/smcir\.smcir:\d+:\d+: error SMC3009/);
    expect(r.stderr).not.toContain('is not a declared input'); // no follow-on error
  });

  test('--set d_L=99999999999999999999 is refused at the --set (not 2.475e44 parameters)', async () => {
    const r = await capped(['check', TINY, '--set', 'd_L=99999999999999999999']);
    expectCoded(r, 'SMC2009');
    expect(r.stderr).toContain('<--set>:1:11: error SMC2009');
    expect(r.stderr).toContain('beyond the whole numbers smcirc represents exactly');
    expect(r.stderr).not.toMatch(/parameters:|e\+44/);
  });

  test('--set T_L=1000000: an attention matrix of 16e12 elements is refused before it exists', async () => {
    const r = await capped(['check', TINY, '--set', 'T_L=1000000']);
    expectCoded(r, 'SMC3009');
    expect(r.stderr).toMatch(/the result of `matmul` in `[\w.]+` would have shape \[16, 1, 1000000, 1000000\]/);
  });

  test('a compile-time pooling matrix is bounded before it is computed (SMC3009)', async () => {
    const p = spec('pool.smcir', 'dim B\ninput t: [B, 50, 4]\nmodel M {\n  forward(t) { output pred = adaptive_avg_pool(t, 100000000)[:, 0, 0] }\n}\n');
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC3009');
    expect(r.stderr).toContain('adaptive_avg_pool needs a constant [100000000, 50] matrix: 5,000,000,000 elements');
  });

  test('one parameter over 2^31 elements, and all parameters over 16 GiB, are refused by name', async () => {
    const p = spec('params.smcir', 'dim B\ninput x: [B, 46341]\nmodel M {\n  wide = Linear(46341, 46341)\n  forward(x) { output pred = wide(x)[:, 0] }\n}\n');
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC3009');
    expect(r.stderr).toContain('parameter `wide.weight` would have shape [46341, 46341]: 2,147,488,281 elements');
    const q = spec('params2.smcir', 'dim B\ninput x: [B, 32768]\nmodel M {\n  side = repeat(200, Linear(32768, 32768))\n  forward(x) { output pred = side(x)[:, 0] }\n}\n');
    const r2 = await capped(['check', q]);
    expectCoded(r2, 'SMC3010');
    expect(r2.stderr).toMatch(/the parameters would take [\d.]+ GiB in f32 with parameter `side\.3\.weight` \(shape \[32768, 32768\]\), more than the 16 GiB allowed/);
  });

  test('nested repeats cannot multiply instances without bound (SMC3010)', async () => {
    const p = spec('repeats.smcir', `block L3() {\n  a = repeat(1000, Linear(4, 4))\n  forward(x) { return a(x) }\n}\nblock L2() {\n  b = repeat(1000, L3())\n  forward(x) { return b(x) }\n}\ndim B\ninput x: [B, 4]\nmodel M {\n  c = repeat(1000, L2())\n  forward(x) { output pred = c(x)[:, 0] }\n}\n`);
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC3010');
    expect(r.stderr).toContain('more than 100,000 block and layer instances');
  });

  test('a 13.5 MB spec is refused by its size, before it is read (SMC1005)', async () => {
    const p = spec('big.smcir', 'const a = 1\n'.repeat(1_125_000));
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC1005');
    expect(r.stderr).toContain('is 12.9 MiB (13,500,000 bytes), more than the 1 MiB a spec file may have');
    // an import of it too, located at the import
    const q = spec('imports-big.smcir', `import "big.smcir"\n${model('')}`);
    const r2 = await capped(['check', q]);
    expectCoded(r2, 'SMC1005');
    expect(r2.stderr).toMatch(/imports-big\.smcir:1:1: error SMC1005: `big\.smcir` is 12\.9 MiB/);
  });
});

describe('nesting is capped with a located error (no stack overflow in the parser or the checker)', () => {
  const cases: [string, string, RegExp][] = [
    ['300 nested (', `const a = ${'('.repeat(300)}1${')'.repeat(300)}\n`, /nest more than 64 deep/],
    ['2,000 nested [', `const a = ${'['.repeat(2000)}1${']'.repeat(2000)}\n`, /nest more than 64 deep/],
    ['5,000 unary -', `const a = ${'-'.repeat(5000)}1\n`, /nest more than 64 deep/],
    ['3,000 not', `const a = ${'not '.repeat(3000)}true\n`, /nest more than 64 deep/],
    ['3,000 **', `const a = ${Array(3000).fill('1').join(' ** ')}\n`, /nest more than 64 deep/],
    ['2,000 chained if', `const a = ${'if true then 1 else '.repeat(2000)}1\n`, /nest more than 64 deep/],
    ['50,000 + in a row', `const a = ${Array(50000).fill('1').join(' + ')}\n`, /more than 256 levels deep/],
    ['20,000 member accesses', `const a = x${'.y'.repeat(20000)}\n`, /more than 256 levels deep/],
  ];
  test.each(cases)('%s → SMC1006', async (name, text, message) => {
    const p = spec(`nest-${name.replace(/\W+/g, '_')}.smcir`, text);
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC1006');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/nest-\w+\.smcir:1:\d+: error SMC1006/);
  });

  test('--set values are parsed under the same bound', async () => {
    const r = await capped(['check', TINY, '--set', `eta=${'('.repeat(500)}0.5${')'.repeat(500)}`]);
    expectCoded(r, /error SMC(1006|2009): /);
  });

  test('constants defined through 40,000 constants: SMC1006 at the chain, in bounded time', async () => {
    const chain = Array.from({ length: 39_999 }, (_, i) => `const a${i + 1} = a${i} + 1\n`).join('');
    const p = spec('const-chain.smcir', `const a0 = 0\n${chain}${model('').replace('input x: [B, 4]', 'input x: [B, a39999]')}`);
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC1006');
    expect(r.stderr).toContain('evaluation nests more than 1,000 deep here');
  });

  test('3,000 blocks each containing the next: SMC2015', async () => {
    const blocks = Array.from({ length: 2999 }, (_, i) => `block B${i + 1}() {\n  m = ${i === 0 ? 'A' : `B${i}`}()\n  forward(x) { return m(x) }\n}\n`).join('');
    const p = spec('block-chain.smcir', `block A() {\n  forward(x) { return x }\n}\n${blocks}dim B\ninput x: [B, 4]\nmodel M {\n  m = B2999()\n  forward(x) { output pred = m(x)[:, 0] }\n}\n`);
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC2015');
  });
});

describe('bounded output and hints', () => {
  test('a megabyte of garbage on one line: one diagnostic, its line shown as a window', async () => {
    const p = spec('garbage.smcir', '$'.repeat(1_000_000));
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC1001');
    expect(r.stderr.length).toBeLessThan(5000);
  });

  test('a spec with thousands of errors lists 100 and counts the rest (SMC1007)', async () => {
    const p = spec('many.smcir', 'const a = 1 $\n'.repeat(3000));
    const r = await capped(['check', p]);
    expectCoded(r, 'SMC1001');
    expect(r.stderr).toMatch(/error SMC1007: [\d,]+ more diagnostics \([\d,]+ errors\) not shown/);
    expect(r.stderr.split('\n').filter((l) => / error SMC1\d{3}:/.test(l)).length).toBe(101);
  });

  test('did-you-mean hints do bounded work on huge names and many candidates', () => {
    const consts = Array.from({ length: 20000 }, (_, i) => `const k${String(i).padStart(6, '0')} = ${i}\n`).join('');
    const long = 'z'.repeat(200_000);
    const t0 = Date.now();
    const text = `${consts}dim B\ninput x: [B, k00000x]\ninput y: [B, ${long}]\nmodel M {\n  forward(x) { output pred = x[:, 0] }\n}\n`;
    const r = checkSpec(join(dir, 'hints.smcir'), { text, readFile: () => undefined });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const unknown = r.diagnostics.filter((d) => d.code === 'SMC2001');
    expect(unknown.find((d) => d.message.includes('`k00000x`'))?.hint).toBe('did you mean `k000000`?');
    expect(unknown.some((d) => d.message.includes('zzzz'))).toBe(true);
  });
});

test('the limits live in one module and are what the messages say', () => {
  expect(LIMITS.specBytes).toBe(1 << 20);
  expect(LIMITS.tensorElements).toBe(2 ** 31);
  expect(LIMITS.nesting).toBe(64);
  expect(LIMITS.exprDepth).toBe(256);
  expect(LIMITS.parameterBytes).toBe(16 * 2 ** 30);
});
