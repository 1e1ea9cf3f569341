// `smcirc sweep` and `smcirc table` through the real CLI on the reference backend at tiny widths: the Table 5 specs and
// smcir-tiny over two seeds with a pool of two processes; a SIGKILL of the sweep and its workers midway, then a rerun
// that finishes without redoing finished cells; four `--worker` processes on one folder running each cell once; a
// failing cell that does not stop the others.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, noStackTrace, smcirc } from '../e2e/cli.js';
import { cellsOf, claimsOf, events, FAST, TINY, tiny } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-sweep-'));
const finished = (dir: string, id: string) => existsSync(join(dir, id, 'results.json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('smcirc sweep', () => {
  test('Table 5 specs and smcir-tiny × 2 seeds with --jobs 2, then smcirc table', async () => {
    const out = join(tmp, 'table5');
    const specs = readdirSync(join(ROOT, 'specs/ablations')).filter((f) => f.startsWith('table5-')).map((f) => `specs/ablations/${f}`);
    expect(specs).toEqual(['specs/ablations/table5-dmfd-a.smcir', 'specs/ablations/table5-dmfd-v.smcir']);
    const t0 = performance.now();
    const r = await smcirc(['sweep', ...specs, 'specs/smcir-tiny.smcir', '--seeds', '1111-1112', '--jobs', '2', ...FAST, ...TINY, '--out', out]);
    console.log(`sweep of 6 cells, 2 processes: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 cells \(3 specs × 2 seeds\): 6 to run/);
    expect(r.stdout).toContain('2 worker processes (--jobs)');
    expect(events(r.stdout, 'done').sort()).toEqual(cellsOf(out).map((c) => c.id).sort());
    expect(r.stdout).toContain('6 of 6 cells finished (6 run now)');
    // each cell is a run folder of its own, trained with its seed and the overrides
    const run = JSON.parse(readFileSync(join(out, 'table5-dmfd-v/seed-1112/run.json'), 'utf8'));
    expect(run.seeds).toEqual([1112]);
    expect(run.overrides).toContain('d_L=16');
    expect(run.spec).toMatch(/table5-dmfd-v\.smcir$/);

    const t = await smcirc(['table', out]);
    expect(t.code, t.stderr).toBe(0);
    console.log(t.stdout);
    const lines = t.stdout.split('\n');
    expect(lines[0]).toMatch(/^\| spec +\| LVA Has0_acc_2 \| LVA Has0_F1_score \| LVA Mult_acc_7 \| +LVA MAE \| +LVA Corr \| +L Has0_acc_2 \|/);
    expect(lines.slice(2, 5).map((l) => l.split('|')[1]!.trim())).toEqual(['table5-dmfd-a', 'table5-dmfd-v', 'smcir-tiny']);
    for (const l of lines.slice(2, 5)) expect(l).toMatch(/^\|[^|]+(\| +\d+\.\d\d ± \d+\.\d\d ){3}\| +\d\.\d{3} ± \d\.\d{3} \| +-?\d\.\d{3} ± \d\.\d{3} \|/);
    expect(t.stdout).not.toContain('—');
    expect(t.stdout).toContain('mean ± std over seeds 1111, 1112');

    const csv = await smcirc(['table', out, '--format', 'csv', '--metrics', 'all', '--conditions', 'LVA']);
    expect(csv.stdout.split('\n')[0]).toBe(`spec,${['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'].flatMap((m) => [`LVA ${m}`, `LVA ${m} std`]).join(',')},seeds,seeds_in_grid`);
    const tex = await smcirc(['table', out, '-o', join(tmp, 't5.tex')]);
    expect(tex.code).toBe(0);
    expect(readFileSync(join(tmp, 't5.tex'), 'utf8')).toContain('\\toprule');

    // the same command again: nothing to do; another grid into the folder: refused
    const again = await smcirc(['sweep', ...specs, 'specs/smcir-tiny.smcir', '--seeds', '1111-1112', '--jobs', '2', ...FAST, ...TINY, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/6 finished\n/);
    expect(events(again.stdout, '(run|resume)')).toEqual([]);
    const other = await smcirc(['sweep', ...specs, '--seeds', '1111-1112', ...FAST, ...TINY, '--out', out]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds another sweep .*; its grid differs:\n {2}specs: /);
    expect(noStackTrace(other.stderr)).toBe(true);
  });

  test('SIGKILL of the sweep and its workers midway; the rerun finishes without redoing finished cells', async () => {
    const out = join(tmp, 'killed');
    const args = ['sweep', 'specs/smcir-tiny.smcir', '--grid', 'eta=0.4,0.6', '--seeds', '1111-1112', '--jobs', '2', ...FAST, ...TINY, '--out', out];
    const p = spawn(process.execPath, [join(ROOT, 'bin/smcirc.js'), ...args], { cwd: ROOT, stdio: 'ignore', detached: true });
    const closed = new Promise((r) => p.on('close', r));
    // kill once a cell has finished and another one has started training (its run.json is written)
    let ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      await sleep(100);
      if (!existsSync(join(out, 'sweep.json'))) continue;
      ids = cellsOf(out).map((c) => c.id);
      if (ids.some((id) => finished(out, id)) && ids.some((id) => !finished(out, id) && existsSync(join(out, id, 'run.json')))) break;
    }
    process.kill(-p.pid!, 'SIGKILL');
    await closed;
    const done = ids.filter((id) => finished(out, id));
    const started = ids.filter((id) => !finished(out, id) && existsSync(join(out, id, 'run.json')));
    expect(done.length).toBeGreaterThan(0);
    expect(started.length).toBeGreaterThan(0);
    const claimed = ids.filter((id) => !finished(out, id) && claimsOf(out, id).length > 0);
    const mtimes = new Map(done.map((id) => [id, statSync(join(out, id, 'results.json')).mtimeMs]));

    const r = await smcirc(args);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`4 cells \\(1 spec × 2 grid points × 2 seeds\\): ${done.length} finished, ${claimed.length} interrupted \\(continued\\)`));
    for (const id of ids) expect(finished(out, id), id).toBe(true);
    // finished cells untouched; the one that had started resumed (train --resume), taking over its dead claim
    for (const [id, t] of mtimes) expect(statSync(join(out, id, 'results.json')).mtimeMs, id).toBe(t);
    expect(events(r.stdout, '(run|resume)').filter((id) => done.includes(id))).toEqual([]);
    for (const id of started) {
      expect(events(r.stdout, 'resume')).toContain(id);
      expect(r.stdout).toMatch(new RegExp(`resume +${id.replace(/[.]/g, '\\.')} +\\(claim 2; claim 1: its worker \\S+ is gone\\)`));
      expect(JSON.parse(readFileSync(join(out, id, 'run.json'), 'utf8')).resumed).toHaveLength(1);
      expect(claimsOf(out, id).map((g) => g.end?.status)).toEqual([undefined, 'finished']);
    }
    // never claimed again (the kill may have come between results.json and the claim's end record)
    for (const id of done) expect(claimsOf(out, id).map((g) => g.n)).toEqual([1]);
  });

  test('four --worker processes started at once on one folder run every cell exactly once', async () => {
    const out = join(tmp, 'workers');
    const plan = await smcirc(['sweep', 'specs/smcir-tiny.smcir', '--seeds', '1111-1115', ...FAST, ...TINY, '--out', out, '--plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/5 cells \(1 spec × 5 seeds\): 5 to run/);
    const t0 = performance.now();
    const rs = await Promise.all([0, 1, 2, 3].map(() => smcirc(['sweep', '--worker', out])));
    console.log(`4 workers, 5 cells: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const r of rs) expect(r.code, r.stdout + r.stderr).toBe(0);
    const ids = cellsOf(out).map((c) => c.id);
    // from the workers' logs: every cell run once, by one of them
    const ran = rs.flatMap((r) => events(r.stdout, 'run'));
    expect(ran.sort()).toEqual([...ids].sort());
    expect(rs.flatMap((r) => events(r.stdout, 'resume'))).toEqual([]);
    expect(rs.filter((r) => events(r.stdout, 'run').length > 0).length).toBeGreaterThan(1);
    // from the claim records: one generation per cell, finished, by a distinct worker process per run
    for (const id of ids) {
      expect(finished(out, id)).toBe(true);
      expect(claimsOf(out, id).map((g) => [g.n, g.end?.status])).toEqual([[1, 'finished']]);
      expect(JSON.parse(readFileSync(join(out, id, 'run.json'), 'utf8')).resumed).toBeUndefined();
    }
    const log = readFileSync(join(out, 'sweep.log'), 'utf8');
    expect(events(log, 'run').sort()).toEqual([...ids].sort());
  });

  test('a failing cell is reported with its error and does not stop the others; exit code 1', async () => {
    const out = join(tmp, 'failing');
    // batch 64 > the 32 training samples: SMC5001 in that cell only
    const args = ['sweep', 'specs/smcir-tiny.smcir', '--grid', 'train.batch_size=8,64', '--seeds', '1111', ...FAST, ...tiny(['train.batch_size']), '--out', out];
    const r = await smcirc(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/done +smcir-tiny\/train\.batch_size=8\/seed-1111/);
    expect(r.stdout).toMatch(/FAILED +smcir-tiny\/train\.batch_size=64\/seed-1111 +exit 1; error SMC5001: the training split has 32 samples, fewer than one batch of 64/);
    expect(r.stdout).toContain('1 of 2 cells finished');
    expect(readFileSync(join(out, 'smcir-tiny/train.batch_size=64/seed-1111/error.txt'), 'utf8')).toMatch(/^exit 1 \(claim 1, [\s\S]*error SMC5001/);
    const t = await smcirc(['table', out, '--metrics', 'MAE']);
    expect(t.stdout).toMatch(/\| 64 +\| +— \|/);
    expect(t.stdout).toContain('— not finished: smcir-tiny/train.batch_size=64 (1 failed).');
  });
});
