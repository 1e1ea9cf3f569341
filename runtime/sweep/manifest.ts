// sweep.json — the grid of a sweep folder and its cells, written once (a rerun with another grid is refused) and read
// by `--worker` and `smcirc table` — and retry.json, the failed attempts that the latest `smcirc sweep` retries.

import { existsSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMCIRC_VERSION } from '../abi/version.js';
import { expandGrid, GridError, type Cell, type SweepGrid } from './grid.js';
import { makeDirs } from '../fs.js';

export const SWEEP_FILE = 'sweep.json';
export const RETRY_FILE = 'retry.json';

export interface SweepManifest {
  smcirc_sweep: 1;
  smcirc: string;
  created: string;
  grid: SweepGrid;
  cells: Cell[];
}

/** Writes through a unique temporary file: a reader never sees half a file. `exclusive`: link, failing with EEXIST. */
export function writeJsonFile(path: string, value: unknown, exclusive = false): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  try {
    if (exclusive) linkSync(tmp, path);
    else renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function readSweep(root: string): SweepManifest {
  const p = join(root, SWEEP_FILE);
  if (!existsSync(p)) throw new GridError(`${root} is not a sweep folder (no ${SWEEP_FILE})`, 'pass the --out folder of `smcirc sweep`');
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as SweepManifest;
    if (m.smcirc_sweep !== 1 || !m.grid || !Array.isArray(m.cells)) throw new Error('fields missing');
    return m;
  } catch (e) {
    throw new GridError(`${p} is damaged (${(e as Error).message})`, 'start the sweep again in a new folder');
  }
}

/** What differs between two grids, in words (empty: the same sweep). */
export function gridDifferences(was: SweepGrid, now: SweepGrid): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(was), ...Object.keys(now)] as (keyof SweepGrid)[]);
  for (const k of keys) {
    const a = JSON.stringify(was[k] ?? null);
    const b = JSON.stringify(now[k] ?? null);
    if (a !== b) out.push(`${k}: ${a} before, ${b} now`);
  }
  return out;
}

/** Records the grid in a new folder, or checks that it is the one recorded there; returns the manifest. */
export function createOrCheckSweep(root: string, grid: SweepGrid): { manifest: SweepManifest; created: boolean } {
  makeDirs(root);
  const manifest: SweepManifest = { smcirc_sweep: 1, smcirc: SMCIRC_VERSION, created: new Date().toISOString(), grid, cells: expandGrid(grid) };
  try {
    writeJsonFile(join(root, SWEEP_FILE), manifest, true);
    return { manifest, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const was = readSweep(root);
  const diff = gridDifferences(was.grid, grid);
  if (diff.length) {
    throw new GridError(
      `${root} holds another sweep (${join(root, SWEEP_FILE)}); its grid differs:\n  ${diff.join('\n  ')}`,
      `rerun with the same specs, --data, --set, --grid, --seeds, --backend and limits to continue it (\`smcirc sweep --worker ${root}\` needs none of them), or choose another --out`,
    );
  }
  return { manifest: was, created: false };
}

/** Failed attempts to retry once more: cell id → the generation of its failed claim. */
export function writeRetry(root: string, retry: Record<string, number>): void {
  writeJsonFile(join(root, RETRY_FILE), retry);
}

export function readRetry(root: string): Map<string, number> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(join(root, RETRY_FILE), 'utf8')) as Record<string, number>));
  } catch {
    return new Map();
  }
}
