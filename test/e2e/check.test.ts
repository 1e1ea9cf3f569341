// `smcirc check` end to end: a summary and exit 0 for a good spec, located diagnostics and exit 1 for a bad
// one, exit 2 for a usage error.

import { describe, expect, test } from 'vitest';
import { noStackTrace, smcirc } from './cli.js';

describe('smcirc check', () => {
  test('reports the SMCIR parameter counts for MOSI', async () => {
    const r = await smcirc(['check', 'specs/smcir.smcir']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model without head: 55,359,507; head: 16,641');
    expect(r.stdout).toMatch(/dmfd\s+DMFD\s+0 \(\+ 101,888 frozen\)/);
    expect(r.stdout).toMatch(/vision\s+\[64, 500, 20\]/);
  });

  test('overrides change the summary', async () => {
    const r = await smcirc(['check', 'specs/smcir-tiny.smcir', '--set', 'hidden2=4', '--batch', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/text\s+\[3, 8, 16\]/);
  });

  test('a broken spec gives a located diagnostic and exit code 1', async () => {
    const r = await smcirc(['check', 'test/fixtures/bad-specs/unknown-name/main.smcir']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('test/fixtures/bad-specs/unknown-name/main.smcir:7:19: error SMC2001: unknown name `hiden2`');
    expect(r.stderr).toContain('hint: did you mean `hidden2`?');
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  test('usage errors exit with code 2', async () => {
    expect((await smcirc(['check'])).code).toBe(2);
    expect((await smcirc(['check', 'specs/smcir.smcir', '--batch', 'zero'])).code).toBe(2);
    expect((await smcirc(['frobnicate'])).code).toBe(2);
  });

  test.each([
    [['train', '--max-steps', 'abc'], /argument 'abc' is invalid\. expected a positive whole number/],
    [['train', '--max-steps', '0'], /expected a positive whole number, got "0"/],
    [['train', '--max-epochs', '-1'], /expected a positive whole number, got "-1"/],
    [['train', '--backend', 'cuda'], /argument 'cuda' is invalid\. Allowed choices are auto, gpu, reference/],
  ])('a bad option value exits 2 with its message: %j', async (args, message) => {
    const r = await smcirc(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('stdlib lists every layer and function the checker knows', async () => {
    const { FUNCTIONS, LAYERS } = await import('../../compiler/check/builtins.js');
    const r = await smcirc(['stdlib']);
    expect(r.code).toBe(0);
    for (const name of [...Object.keys(LAYERS), ...Object.keys(FUNCTIONS)]) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\(`, 'm'));
    expect(r.stdout).toContain('interpolate(x, length, align_corners = false)');
  });

  test('a missing file is an error, not a crash', async () => {
    const r = await smcirc(['check', 'specs/nope.smcir']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error SMC2007');
    expect(noStackTrace(r.stderr)).toBe(true);
  });
});
