// Every error code in the sources is in the catalogue that `smcirc explain` reads, and nothing stale is; every
// entry explains itself (what, an example, the fix), and `explain` takes SMC3001, smcir3001 and 3001.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { codeList, explanation, normalizeCode, runExplain } from '../../cli/commands/explain.js';
import { ERROR_CODES, EXPLANATIONS } from '../../cli/error-catalogue.js';
import { UsageError } from '../../cli/errors.js';
import { noStackTrace, smcirc } from '../e2e/cli.js';

const root = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every SMC code used in the sources has an entry, and every entry is used', () => {
  const used = new Set<string>();
  for (const dir of ['grammar', 'compiler', 'runtime', 'cli']) {
    for (const f of sources(join(root, dir))) {
      if (f.endsWith('error-catalogue.ts')) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/'(SMC\d{4})'/g)) used.add(m[1]!);
    }
  }
  expect([...used].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  expect(Object.keys(ERROR_CODES).filter((c) => !used.has(c))).toEqual([]);
});

describe('every entry explains itself', () => {
  test('ERROR_CODES is the titles of EXPLANATIONS', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual(Object.keys(EXPLANATIONS).sort());
    for (const [code, e] of Object.entries(EXPLANATIONS)) expect(ERROR_CODES[code]).toBe(e.title);
  });

  test.each(Object.keys(EXPLANATIONS).sort())('%s has what went wrong, an example and the fix', (code) => {
    const e = EXPLANATIONS[code]!;
    expect(e.title.trim().length).toBeGreaterThan(0);
    expect(e.what.length, 'what went wrong, in a sentence or more').toBeGreaterThan(40);
    expect(e.example.length).toBeGreaterThan(0);
    expect(e.example.every((l) => l.trim().length > 0)).toBe(true);
    expect(e.fix.length, 'how to fix it').toBeGreaterThan(15);
    const text = explanation(code)!;
    expect(text.startsWith(`${code}: ${e.title}\n`)).toBe(true);
    expect(text.split('\n').length).toBeGreaterThanOrEqual(8);
    const example = text.indexOf('\nExample:\n');
    const fix = text.indexOf('\nFix:\n');
    expect(example).toBeGreaterThan(0);
    expect(fix).toBeGreaterThan(example);
    expect(text.slice(example).includes(`    ${e.example[0]}`)).toBe(true);
  });
});

describe('smcirc explain', () => {
  const capture = (input: string | undefined) => {
    let out = '';
    const rc = runExplain(input, (s) => (out += s));
    return { rc, out };
  };

  test('accepts SMC3001, smcir3001, 3001 and lower case', () => {
    for (const spelling of ['SMC3001', 'smcir3001', 'SMCIR3001', '3001', 'smc3001', ' SMC3001 ']) expect(normalizeCode(spelling)).toBe('SMC3001');
    const want = capture('SMC3001');
    expect(want.rc).toBe(0);
    expect(capture('smcir3001')).toEqual(want);
    expect(capture('3001')).toEqual(want);
    expect(want.out).toContain('SMC3001: shape mismatch');
  });

  test('an unknown code is a usage error naming nearby codes; no code lists them all', () => {
    expect(() => capture('SMC3999')).toThrow(UsageError);
    try {
      capture('3999');
    } catch (e) {
      expect((e as UsageError).hint).toContain('SMC3008');
      expect((e as UsageError).hint).toContain('`smcirc explain`');
    }
    expect(() => capture('what')).toThrow(/not an error code/);
    const list = capture(undefined);
    expect(list.rc).toBe(0);
    for (const [code, title] of Object.entries(ERROR_CODES)) expect(list.out).toContain(`${code}  ${title}`);
    expect(codeList()).toBe(list.out);
  });

  test('the CLI prints the explanation for each spelling and exits 2 for an unknown code', async () => {
    const [a, b, c] = await Promise.all([smcirc(['explain', 'SMC2020']), smcirc(['explain', 'smcir2020']), smcirc(['explain', '2020'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('SMC2020: constant overrides nothing');
    expect(a.stdout).toContain('Example:');
    expect(a.stdout).toContain('Fix:');
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    const bad = await smcirc(['explain', 'SMC2999']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('there is no error code SMC2999');
    expect(bad.stderr).toContain('nearby codes: ');
    expect(noStackTrace(bad.stderr)).toBe(true);
  });
});
