// `smcirc report` through the real binary: prints the path of report.html (exit 0); a folder that is not a run is
// a coded error (exit 1); usage errors exit 2; and a report of a real (short, reference-backend) training run
// holds the run's own history, with every optional file either drawn or "not recorded".

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { FigureData } from '../../runtime/report/figure-data.js';
import { noStackTrace, smcirc } from '../e2e/cli.js';
import { writeRunFixture } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-report-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const embedded = (html: string): FigureData => JSON.parse(/id="figure-data">([\s\S]*?)<\/script>/.exec(readFileSync(html, 'utf8'))![1]!);

describe('smcirc report', () => {
  test('prints the path of report.html; -o chooses the folder, the default is <run>/report', async () => {
    const run = join(tmp, 'run');
    writeRunFixture(run);
    const a = await smcirc(['report', run, '-o', join(tmp, 'out')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(`${resolve(tmp, 'out', 'report.html')}\n`);
    expect(a.stderr).toBe('');
    expect(existsSync(join(tmp, 'out', 'fig1-training.svg'))).toBe(true);
    const b = await smcirc(['report', run]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(`${resolve(run, 'report', 'report.html')}\n`);
  });

  test('several runs: one report', async () => {
    writeRunFixture(join(tmp, 'a'));
    writeRunFixture(join(tmp, 'b'), { offset: 0.05 });
    const r = await smcirc(['report', join(tmp, 'a'), join(tmp, 'b'), '-o', join(tmp, 'ab')]);
    expect(r.code, r.stderr).toBe(0);
    expect(embedded(r.stdout.trim()).runs.map((x) => x.name)).toEqual(['a', 'b']);
  });

  test('a folder that is not a run: SMC5016, exit 1; a damaged run.json: SMC5015, exit 1', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const r = await smcirc(['report', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error SMC5016: ${empty} is not a run folder (no run.json)`);
    expect(r.stderr).toContain('hint:');
    expect(noStackTrace(r.stderr)).toBe(true);
    expect(r.stdout).toBe('');
    writeFileSync(join(empty, 'run.json'), '{ not json');
    const d = await smcirc(['report', empty]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('error SMC5015:');
    expect((await smcirc(['explain', 'SMC5016'])).stdout).toContain('SMC5016: not a run folder (no run.json)');
  });

  test('usage errors exit 2: no run, a path that does not exist, a file, -o onto a file', async () => {
    const run = join(tmp, 'u');
    writeRunFixture(run);
    writeFileSync(join(tmp, 'file.txt'), 'x');
    for (const args of [['report'], ['report', join(tmp, 'nope')], ['report', join(tmp, 'file.txt')], ['report', run, '-o', join(tmp, 'file.txt')]]) {
      const r = await smcirc(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(noStackTrace(r.stderr)).toBe(true);
    }
  });

  test('a real training run: the report holds its history; optional files drawn or "not recorded"', async () => {
    const run = join(tmp, 'real');
    const t = await smcirc(['train', '--backend', 'reference', '--max-steps', '3', '--seeds', '1111', '--out', run, '--quiet']);
    expect(t.code, t.stderr).toBe(0);
    const r = await smcirc(['report', run]);
    expect(r.code, r.stderr).toBe(0);
    const html = r.stdout.trim();
    const page = readFileSync(html, 'utf8');
    const fd = embedded(html);
    const steps = readFileSync(join(run, 'seed-1111', 'history-steps.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(fd.training.steps.map((s) => [s.epoch, s.step, s.loss])).toEqual(steps.map((c) => [Number(c[0]), Number(c[1]), Number(c[2])]));
    const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
    expect(fd.test_metrics.find((m) => m.condition === 'LVA' && m.metric === 'MAE')!.mean).toBe(results.mean_std.LVA.MAE.mean);
    expect(page).toContain('<code>backend</code></th><td>reference</td>');
    for (const [file, fig] of [['dmfd-scores.csv', 'fig4-dmfd-scores'], ['missing-curve.json', 'fig5-missing-curve']]) {
      if (existsSync(join(run, 'seed-1111', file!))) expect(page, file).toContain(`id="${fig}"`);
      else expect(page, file).toMatch(new RegExp(`\\(${file!.replace('.', '\\.')}\\): not recorded \\(real seed 1111\\)`));
    }
  });
});
