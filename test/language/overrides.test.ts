// Overrides, in an importing file and with --set: a misspelt one is an error (SMC2020), one of another kind is
// reported at the override (SMC3008) while int → number widening stays allowed, and a setting or constant that
// takes a string accepts a bare word on the command line.

import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkSpec, type CheckOptions } from '../../compiler/check/index.js';
import { noStackTrace, smcirc } from '../e2e/cli.js';

const BASE = `
dim B
const d = 4
const eta = 0.8
const heads = 2
const use_msse = true
const completion = "cmcg"
const sizes = [1, 2]
input x: [B, 3, d]
target y: [B]
model M {
  lin = Linear(d, 1)
  forward(x) {
    let h = if use_msse then lin(x) * eta else lin(x)
    output pred = (if completion == "zero" then 0 * h else h)[:, 0, 0] * heads * sizes[0]
  }
}
train { loss = l1(pred, y) }
`;

/** Checks `main` (which may `import "base.smcir"`) from an in-memory folder. */
function check(main: string, opts: CheckOptions = {}) {
  const files = new Map([[resolve('/virtual/base.smcir'), BASE], [resolve('/virtual/main.smcir'), main]]);
  return checkSpec('/virtual/main.smcir', { withLoss: true, training: true, readFile: (p) => files.get(p), ...opts });
}
const codes = (r: ReturnType<typeof check>) => r.diagnostics.map((d) => `${d.code}@${d.span?.file.split('/').pop()}:${d.span?.line}`);

describe('overrides in an importing file', () => {
  test('an ablation that overrides existing constants checks clean', () => {
    expect(check('import "base.smcir"\nconst use_msse = false\nconst completion = "zero"').diagnostics).toEqual([]);
  });

  test('a whole number may replace a number, a whole-valued float a whole number', () => {
    const r = check('import "base.smcir"\nconst eta = 1\nconst heads = 4.0\nconst sizes = [3, 4, 5]');
    expect(r.diagnostics).toEqual([]);
  });

  test('a misspelt override is an error at the override, with did-you-mean', () => {
    const r = check('import "base.smcir"\n\nconst use_mse = false');
    expect(codes(r)).toEqual(['SMC2020@main.smcir:3']);
    expect(r.diagnostics[0]!.hint).toBe('did you mean `use_msse`?');
  });

  test('a new constant that is used, or starts with `_`, is fine', () => {
    expect(check('import "base.smcir"\nconst k = 2\nconst heads = k * 2\nconst _note = 1').diagnostics).toEqual([]);
  });

  test('an override of another kind is reported at the override, naming the original', () => {
    const r = check('import "base.smcir"\nconst eta = "0.4"\nconst heads = 2.5\nconst use_msse = 0\nconst sizes = ["a"]');
    expect(codes(r)).toEqual(['SMC3008@main.smcir:2', 'SMC3008@main.smcir:3', 'SMC3008@main.smcir:4', 'SMC3008@main.smcir:5']);
    expect(r.diagnostics[0]!.message).toBe('`eta` is a number, but this override makes it the string "0.4"');
    expect(r.diagnostics[0]!.hint).toContain('it replaces `const eta = 0.8` (base.smcir:4)');
    expect(r.diagnostics[0]!.hint).toContain('`const eta = 0.4`');
    expect(r.diagnostics[2]!.hint).toContain('`const use_msse = false`');
  });
});

describe('--set', () => {
  const tiny = 'specs/smcir-tiny.smcir';

  test('a string setting or constant takes a bare word; lists take commas', () => {
    const r = checkSpec(tiny, { overrides: ['eval.dmfd_stats=batch', 'completion=zero', 'eval.conditions=L,LV', 'train.seeds=1,2', 'data.label=labels'] });
    expect(r.diagnostics).toEqual([]);
    expect(r.settings!.eval.dmfd_stats).toBe('batch');
    expect(r.settings!.eval.conditions).toEqual(['L', 'LV']);
    expect(r.settings!.train.seeds).toEqual([1, 2]);
    expect(r.settings!.data.keys.label).toBe('labels');
    expect(r.program.consts.get('completion')!.value).toMatchObject({ kind: 'str', value: 'zero' });
  });

  test('quoted strings still work, and --set keeps the kinds a file override keeps', () => {
    expect(checkSpec(tiny, { overrides: ['eval.dmfd_stats="batch"', 'eta=1', 'hidden2=4'] }).diagnostics).toEqual([]);
    const r = checkSpec(tiny, { overrides: ['eta="0.4"', 'hidden2=4.5'] });
    expect(r.diagnostics.map((d) => `${d.code}@${d.span?.file}:${d.span?.line}:${d.span?.column}`)).toEqual(['SMC3008@<--set>:1:11', 'SMC3008@<--set>:2:15']);
    expect(r.diagnostics[0]!.hint).toContain('`--set eta=0.4`');
  });

  test('a bare word where a number is meant says how to write it', () => {
    const r = checkSpec(tiny, { overrides: ['eta=zero'] });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['SMC2009']);
    expect(r.diagnostics[0]!.hint).toBe('`eta` takes a number, e.g. `--set eta=0.6`');
  });

  test('the CLI accepts a bare word, and an invalid one errors with a caret and a hint', async () => {
    const [good, bad] = await Promise.all([
      smcirc(['check', 'specs/smcir-tiny.smcir', '--set', 'eval.dmfd_stats=batch']),
      smcirc(['check', 'specs/smcir-tiny.smcir', '--set', 'eval.dmfd_stats=bogus']),
    ]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('ok');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('<--set>:1:23: error SMC3004: `dmfd_stats` must be one of "batch", "population", got "bogus"');
    expect(bad.stderr).toContain('   1 | --set eval.dmfd_stats=bogus\n     |                       ^^^^^');
    expect(bad.stderr).toContain('hint: write `--set eval.dmfd_stats=batch` or `--set eval.dmfd_stats=population`');
    expect(noStackTrace(bad.stderr)).toBe(true);
  });
});
