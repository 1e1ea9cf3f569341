// The claim protocol on its own (no training): processes racing for the same cells each win a cell at most once, also
// when they race to take over stale claims; what counts as stale (a dead or reused pid here, no heartbeat from another
// host) and what does not (a live worker, a fresh claim from elsewhere); failed cells are retried only when asked.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cellState, tryClaim } from '../../runtime/sweep/claim.js';
import { createOrCheckSweep } from '../../runtime/sweep/manifest.js';
import { procId } from '../../runtime/sweep/procs.js';
import type { SweepGrid } from '../../runtime/sweep/grid.js';
import { ROOT } from '../e2e/cli.js';
import { claimsOf } from './helpers.js';

const grid = (seeds: number[]): SweepGrid => ({ specs: ['/s/a.smcir'], data: ['synthetic'], set: [], axes: [], seeds, backend: 'reference', max_epochs: null, max_steps: null });
const seeds = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);

/** A process of this host that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Writes generation `n` of a cell's claim as another worker would have. */
function plantClaim(dir: string, id: string, n: number, who: { host: string; pid: number; start?: string }): string {
  const cd = join(dir, `${id}.claim`);
  mkdirSync(cd, { recursive: true });
  const p = join(cd, `${n}.json`);
  writeFileSync(p, JSON.stringify({ generation: n, ...who, worker: `${who.host}:${who.pid}/0`, started: new Date().toISOString() }));
  return p;
}

/** `racers` processes, released at the same instant, each trying to claim every cell of the sweep once; a winner
 *  "runs" the cell at once (writes its results.json) and releases it. Returns each cell id → the racers that won it. */
async function race(dir: string, racers: number): Promise<Map<string, number[]>> {
  const at = Date.now() + 1500;
  const script = `
    import { writeFileSync, mkdirSync } from 'node:fs';
    import { join } from 'node:path';
    import { tryClaim } from ${JSON.stringify(join(ROOT, 'dist/runtime/sweep/claim.js'))};
    import { readSweep } from ${JSON.stringify(join(ROOT, 'dist/runtime/sweep/manifest.js'))};
    const dir = process.argv[1];
    const m = readSweep(dir);
    while (Date.now() < ${at});
    const won = [];
    for (const cell of m.cells) {
      const c = tryClaim(dir, cell, { slot: 0 });
      if (!c) continue;
      won.push(cell.id);
      mkdirSync(join(dir, cell.id), { recursive: true });
      writeFileSync(join(dir, cell.id, 'results.json'), JSON.stringify({ seeds: [{ seed: cell.seed, conditions: [] }] }));
      c.release({ status: 'finished' });
    }
    process.stdout.write(JSON.stringify(won));`;
  const outs = await Promise.all(
    Array.from({ length: racers }, () => new Promise<string>((done) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      p.on('close', () => done(out));
    })),
  );
  const winners = new Map<string, number[]>();
  outs.forEach((o, i) => {
    for (const id of JSON.parse(o) as string[]) winners.set(id, [...(winners.get(id) ?? []), i]);
  });
  return winners;
}

describe('claims between processes', () => {
  test('8 processes racing for 40 free cells: every cell won exactly once, one claim generation each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-claim-race-'));
    const { manifest } = createOrCheckSweep(dir, grid(seeds(40)));
    const winners = await race(dir, 8);
    for (const c of manifest.cells) {
      expect(winners.get(c.id), c.id).toHaveLength(1);
      expect(claimsOf(dir, c.id).map((g) => [g.n, g.end?.status])).toEqual([[1, 'finished']]);
    }
    expect(new Set([...winners.values()].flat()).size).toBeGreaterThan(1);
  }, 60_000);

  test('8 processes racing to take over 40 stale claims: each taken over once, as generation 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-claim-stale-'));
    const { manifest } = createOrCheckSweep(dir, grid(seeds(40)));
    const dead = deadPid();
    for (const c of manifest.cells) plantClaim(dir, c.id, 1, { host: hostname(), pid: dead });
    const winners = await race(dir, 8);
    for (const c of manifest.cells) {
      expect(winners.get(c.id), c.id).toHaveLength(1);
      expect(claimsOf(dir, c.id).map((g) => [g.n, g.end?.status])).toEqual([[1, undefined], [2, 'finished']]);
    }
  }, 60_000);
});

describe('what is stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smcirc-claim-'));
  const { manifest } = createOrCheckSweep(dir, grid(seeds(6)));
  const [live, dead, reused, away, silent, failed] = manifest.cells as [typeof manifest.cells[0], ...typeof manifest.cells];

  test('a live worker of this host holds its cell; a dead or reused pid does not', () => {
    plantClaim(dir, live.id, 1, procId());
    expect(cellState(dir, live).kind).toBe('held');
    expect(tryClaim(dir, live, { slot: 0 })).toBeUndefined();

    plantClaim(dir, dead.id, 1, { host: hostname(), pid: deadPid() });
    const c = tryClaim(dir, dead, { slot: 0 })!;
    expect(c.record.generation).toBe(2);
    expect(c.takeover).toMatch(/is gone/);
    c.release({ status: 'interrupted' });

    plantClaim(dir, reused.id, 1, { ...procId(), start: '1' }); // this pid, but a process that started at another time
    expect(cellState(dir, reused).kind).toBe('stale');
  });

  test('another host: held while its heartbeat is fresh, stale after five minutes without one', () => {
    plantClaim(dir, away.id, 1, { host: 'elsewhere', pid: 1 });
    expect(cellState(dir, away).kind).toBe('held');
    const p = plantClaim(dir, silent.id, 1, { host: 'elsewhere', pid: 1 });
    const old = new Date(Date.now() - 6 * 60_000);
    utimesSync(p, old, old);
    const st = cellState(dir, silent);
    expect(st.kind).toBe('stale');
    expect(st.kind === 'stale' && st.why).toMatch(/no heartbeat from elsewhere:1\/0 for 3\d\d s/);
  });

  test('a failed cell is claimed again only when retry.json names that failed generation', () => {
    const c = tryClaim(dir, failed, { slot: 0 })!;
    c.release({ status: 'failed', exit: 1, error: ['error SMC5001: …'] });
    expect(cellState(dir, failed).kind).toBe('ended');
    expect(tryClaim(dir, failed, { slot: 0 })).toBeUndefined();
    expect(tryClaim(dir, failed, { slot: 0, retry: new Map([[failed.id, 0]]) })).toBeUndefined();
    const again = tryClaim(dir, failed, { slot: 0, retry: new Map([[failed.id, 1]]) })!;
    expect(again.record.generation).toBe(2);
    again.release({ status: 'failed', exit: 1 });
    expect(tryClaim(dir, failed, { slot: 0, retry: new Map([[failed.id, 1]]) })).toBeUndefined(); // once per retry
  });

  test('a finished cell is never claimed', () => {
    mkdirSync(join(dir, live.id), { recursive: true });
    writeFileSync(join(dir, live.id, 'results.json'), JSON.stringify({ seeds: [{ seed: 1, conditions: [] }] }));
    expect(cellState(dir, live).kind).toBe('finished');
    expect(tryClaim(dir, live, { slot: 0 })).toBeUndefined();
  });
});
