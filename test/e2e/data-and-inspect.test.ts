// The CLI on MMSA pickles (a committed fixture in the MMSA layout), `data convert`, and `inspect --graph`.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { noStackTrace, ROOT, smcirc } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-data-'));
const PKL = 'test/fixtures/data/mmsa_unaligned_p4_np1.pkl';
// the fixture's shapes: text [6, 12], vision [11, 20], audio [9, 5]; 5 / 3 / 4 samples
const FIT = ['--set', 'T_L=6', '--set', 'd_L=12', '--set', 'T_V=11', '--set', 'd_V=20', '--set', 'T_A=9', '--set', 'd_A=5', '--set', 'train.batch_size=2', '--set', 'eval.batch_size=2'];

describe('MMSA data through the CLI', () => {
  test('a spec whose shapes do not match the file is told which key, expected and found', async () => {
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', '--backend', 'reference', '--data', PKL, '--out', join(tmp, 'mismatch'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error SMC6013: train\.(text|vision|audio): expected shape \(5, \d+, \d+\), found \(5, \d+, \d+\)/);
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  test('train and eval on a pickle, and on its converted chunked folder', async () => {
    const run = join(tmp, 'run');
    const r = await smcirc(['train', 'specs/smcir-tiny.smcir', '--backend', 'reference', '--data', PKL, ...FIT, '--max-epochs', '1', '--out', run, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).data).toBe(join(ROOT, PKL));
    const e = await smcirc(['eval', run, '--backend', 'reference', '--conditions', 'L,LVA']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^L\s/m);

    const dir = join(tmp, 'chunked');
    const c = await smcirc(['data', 'convert', PKL, dir]);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('train 5');
    expect(existsSync(join(dir, 'manifest.json'))).toBe(true);
    const e2 = await smcirc(['eval', run, '--backend', 'reference', '--conditions', 'L,LVA', '--data', dir]);
    expect(e2.code).toBe(0);
    expect(e2.stdout).toBe(e.stdout);
    // training reads the converted folder lazily
    const t2 = await smcirc(['train', 'specs/smcir-tiny.smcir', '--backend', 'reference', '--data', dir, ...FIT, '--max-epochs', '1', '--out', join(tmp, 'run-chunked'), '--quiet']);
    expect(t2.stderr).toBe('');
    expect(t2.code).toBe(0);
    expect(readFileSync(join(tmp, 'run-chunked', 'results.csv'), 'utf8')).toBe(readFileSync(join(run, 'results.csv'), 'utf8'));
  });
});

test('inspect --graph reports op counts, parameters and graph sizes', async () => {
  const r = await smcirc(['inspect', 'specs/smcir-tiny.smcir', '--graph']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/matmul/);
  expect(r.stdout).toMatch(/routine:lstm|lstm/);
  expect(r.stdout).toContain('head.out_proj.weight');
});
