// A sweep worker: claims cells of a sweep folder and runs the real `smcirc train` for each — a new run, or `--resume`
// of an interrupted one — in up to `jobs` child processes at once, until no cell is left to claim. Each attempt's
// output goes to <cell>/sweep-<generation>.log, a failure's tail to <cell>/error.txt; every event is one line on
// stdout and in <sweep>/sweep.log. SIGINT/SIGTERM stop the children and release their cells as interrupted.

import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isFinished, tryClaim, type Claim, type EndRecord } from './claim.js';
import { trainArgs, type Cell } from './grid.js';
import type { SweepManifest } from './manifest.js';
import { waitGone } from './procs.js';
import { makeDirs } from '../fs.js';

export const SWEEP_LOG = 'sweep.log';
export const ERROR_FILE = 'error.txt';

export interface WorkerOptions {
  root: string;
  manifest: SweepManifest;
  jobs: number;
  /** How to start smcirc: [node, path/to/bin/smcirc.js]. */
  smcirc: string[];
  staleMs?: number;
  retry?: Map<string, number>;
  /** Where event lines go besides sweep.log (default: stdout). */
  say?: (line: string) => void;
}

export interface Outcome {
  cell: Cell;
  generation: number;
  status: EndRecord['status'];
  resumed: boolean;
  seconds: number;
  error?: string[];
}

export interface WorkerResult {
  outcomes: Outcome[];
  /** The signal that stopped the worker, if one did. */
  signal?: NodeJS.Signals;
}

/** The last `n` non-empty lines of a file. */
export function tail(path: string, n: number): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-n);
  } catch {
    return [];
  }
}

export async function runWorker(o: WorkerOptions): Promise<WorkerResult> {
  const root = resolve(o.root);
  const { cells } = o.manifest;
  const say = o.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const event = (slot: number, what: string, cell: Cell, extra = '') => {
    const line = `${new Date().toISOString()} ${process.pid}/${slot} ${what.padEnd(8)} ${cell.id}${extra ? `  ${extra}` : ''}`;
    appendFileSync(join(root, SWEEP_LOG), `${line}\n`);
    say(line);
  };
  const outcomes: Outcome[] = [];
  const finishedIds = new Set<string>(); // a finished cell stays finished: read each results.json once
  const children = new Set<import('node:child_process').ChildProcess>();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    signal ??= s;
    for (const c of children) c.kill(s);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const runCell = async (claim: Claim, slot: number): Promise<void> => {
    const { cell } = claim;
    const dir = join(root, cell.id);
    const gen = claim.record.generation;
    // a train process left by a killed worker must be gone before its run folder is resumed
    if (claim.takeover && claim.previous?.child) await waitGone(claim.previous.child, 15_000);
    const resumed = existsSync(join(dir, 'run.json'));
    const args = resumed ? ['train', '--resume', dir] : trainArgs(o.manifest.grid, cell, dir);
    const why = claim.takeover ? `; claim ${gen - 1}: ${claim.takeover}` : claim.previous ? `; claim ${gen - 1} ${claim.previous.end?.status}` : '';
    event(slot, resumed ? 'resume' : 'run', cell, `(claim ${gen}${why})`);
    makeDirs(dir);
    const logPath = join(dir, `sweep-${gen}.log`);
    const fd = openSync(logPath, 'w');
    writeSync(fd, `# ${new Date().toISOString()} smcirc ${args.join(' ')}\n`);
    const t0 = performance.now();
    const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((done) => {
      const child = spawn(o.smcirc[0]!, [...o.smcirc.slice(1), ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, FORCE_COLOR: '0' } });
      children.add(child);
      if (child.pid !== undefined) claim.setChild(child.pid);
      child.on('error', (e) => {
        writeSync(fd, `could not start smcirc: ${e.message}\n`);
        children.delete(child);
        done({ code: null, sig: null });
      });
      child.on('close', (c, s) => {
        children.delete(child);
        done({ code: c, sig: s });
      });
    });
    closeSync(fd);
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    let status: EndRecord['status'];
    let error: string[] | undefined;
    if (code === 0 && isFinished(root, cell)) {
      status = 'finished';
      rmSync(join(dir, ERROR_FILE), { force: true });
      finishedIds.add(cell.id);
      event(slot, 'done', cell, `${seconds} s  (${cells.filter((c) => finishedIds.has(c.id) || isFinished(root, c)).length} of ${cells.length} finished)`);
    } else if (signal) {
      status = 'interrupted';
      event(slot, 'stopped', cell, `by ${signal}; rerun the sweep to resume it`);
    } else {
      status = 'failed';
      error = tail(logPath, 20);
      const how = sig ? `killed by ${sig}` : code === 0 ? 'exit 0 without results.json' : `exit ${code}`;
      writeFileSync(join(dir, ERROR_FILE), `${how} (claim ${gen}, ${claim.record.worker}, log ${logPath})\n${error.join('\n')}\n`);
      event(slot, 'FAILED', cell, `${how}; ${error.filter((l) => /error|hint/i.test(l)).slice(-2).join(' / ') || error.at(-1) || 'no output'}`);
    }
    claim.release({ status, seconds, exit: code, signal: sig, ...(error ? { error } : {}) });
    outcomes.push({ cell, generation: gen, status, resumed, seconds, error });
  };

  const slot = async (i: number): Promise<void> => {
    while (!signal) {
      let claim: Claim | undefined;
      for (const cell of cells) {
        if (finishedIds.has(cell.id)) continue;
        if (isFinished(root, cell)) {
          finishedIds.add(cell.id);
          continue;
        }
        claim = tryClaim(root, cell, { slot: i, staleMs: o.staleMs, retry: o.retry });
        if (claim) break;
      }
      if (!claim) return;
      await runCell(claim, i);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, (_, i) => slot(i)));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { outcomes, signal };
}
