// Claims on sweep cells, safe between processes and machines sharing the folder: generation n is `<cell>.claim/<n>.json`,
// created by link(2) from a complete temporary file (whole or absent; one winner). A stale generation — its worker gone
// on this host, or no heartbeat for `staleMs` from another — is taken over by creating n+1; nothing is ever deleted.
// `<n>.end.json` releases n, `<n>.child.json` names its train process; together they record who ran what.

import { existsSync, linkSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cell } from './grid.js';
import { writeJsonFile } from './manifest.js';
import { procId, running, type ProcId } from './procs.js';
import { makeDirs } from '../fs.js';

export const HEARTBEAT_MS = 30_000;
export const DEFAULT_STALE_MS = 5 * 60_000;

export interface ClaimRecord extends ProcId {
  generation: number;
  /** `host:pid/slot`: one worker slot of one process. */
  worker: string;
  started: string;
  slurm?: { job?: string; array_job?: string; task?: string };
}

export interface EndRecord {
  status: 'finished' | 'failed' | 'interrupted' | 'skipped';
  at: string;
  seconds?: number;
  exit?: number | null;
  signal?: string | null;
  /** The last lines of the train process's output (failed). */
  error?: string[];
}

export interface Generation {
  generation: number;
  claim?: ClaimRecord;
  end?: EndRecord;
  child?: ProcId;
  /** The claim file's mtime: its last heartbeat. */
  beat: number;
}

export type CellState =
  | { kind: 'finished' }
  | { kind: 'free' }
  | { kind: 'held'; last: Generation }
  | { kind: 'stale'; last: Generation; why: string }
  | { kind: 'ended'; last: Generation };

export const claimDir = (root: string, cell: Cell): string => join(root, `${cell.id}.claim`);
export const RESULTS = 'results.json';

const readJson = <T>(p: string): T | undefined => {
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  } catch {
    return undefined;
  }
};

/** A cell is finished when its run folder has a results.json that parses. */
export function isFinished(root: string, cell: Cell): boolean {
  const r = readJson<{ seeds?: unknown[] }>(join(root, cell.id, RESULTS));
  return Array.isArray(r?.seeds) && r.seeds.length > 0;
}

/** Every generation of a cell's claims, oldest first. */
export function generations(root: string, cell: Cell): Generation[] {
  const dir = claimDir(root, cell);
  if (!existsSync(dir)) return [];
  const ns = readdirSync(dir).map((f) => /^(\d+)\.json$/.exec(f)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
  return ns.map((n) => {
    let beat = 0;
    try {
      beat = statSync(join(dir, `${n}.json`)).mtimeMs;
    } catch {
      // vanished: not expected, since nothing deletes claims
    }
    return { generation: n, claim: readJson(join(dir, `${n}.json`)), end: readJson(join(dir, `${n}.end.json`)), child: readJson(join(dir, `${n}.child.json`)), beat };
  });
}

/** Why a generation without an end record no longer runs, or undefined while it does. */
export function staleness(g: Generation, staleMs: number, now = Date.now()): string | undefined {
  const c = g.claim;
  if (!c) return now - g.beat > staleMs ? 'an unreadable claim, untouched for a while' : undefined;
  if (c.host === procId().host) {
    if (running(c) || (g.child && running(g.child))) return undefined;
    return `its worker ${c.worker} is gone`;
  }
  const age = now - g.beat;
  return age > staleMs ? `no heartbeat from ${c.worker} for ${Math.round(age / 1000)} s` : undefined;
}

export function cellState(root: string, cell: Cell, staleMs = DEFAULT_STALE_MS): CellState {
  if (isFinished(root, cell)) return { kind: 'finished' };
  const last = generations(root, cell).at(-1);
  if (!last) return { kind: 'free' };
  // finished between the two reads (results.json is written before the end record)
  if (last.end?.status === 'finished' && isFinished(root, cell)) return { kind: 'finished' };
  if (last.end) return { kind: 'ended', last };
  const why = staleness(last, staleMs);
  return why ? { kind: 'stale', last, why } : { kind: 'held', last };
}

export interface ClaimOptions {
  slot: number;
  staleMs?: number;
  /** Cell id → the generation of a failed attempt that may be retried (retry.json). */
  retry?: Map<string, number>;
}

/** A claim this process holds: heartbeats until released. */
export class Claim {
  private timer: NodeJS.Timeout;
  constructor(
    readonly root: string,
    readonly cell: Cell,
    readonly record: ClaimRecord,
    /** The generation this one follows, when there was one (a takeover, a retry, an interrupted attempt). */
    readonly previous: Generation | undefined,
    readonly takeover: string | undefined,
  ) {
    const p = this.path('json');
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(p, now, now);
      } catch {
        // a heartbeat that cannot be written is retried at the next one
      }
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  private path(ext: string): string {
    return join(claimDir(this.root, this.cell), `${this.record.generation}.${ext}`);
  }

  setChild(pid: number): void {
    writeJsonFile(this.path('child.json'), procId(pid));
  }

  release(end: Omit<EndRecord, 'at'>): void {
    clearInterval(this.timer);
    writeJsonFile(this.path('end.json'), { ...end, at: new Date().toISOString() });
  }
}

/** Claims `cell` for this process, or returns undefined when it is finished, held, failed, or another worker won. */
export function tryClaim(root: string, cell: Cell, o: ClaimOptions): Claim | undefined {
  const state = cellState(root, cell, o.staleMs);
  if (state.kind === 'finished' || state.kind === 'held') return undefined;
  let previous: Generation | undefined;
  let takeover: string | undefined;
  if (state.kind === 'ended') {
    if (state.last.end!.status === 'failed' && o.retry?.get(cell.id) !== state.last.generation) return undefined;
    previous = state.last;
  } else if (state.kind === 'stale') {
    previous = state.last;
    takeover = state.why;
  }
  const generation = (previous?.generation ?? 0) + 1;
  const me = procId();
  const env = process.env;
  const record: ClaimRecord = {
    generation,
    ...me,
    worker: `${me.host}:${me.pid}/${o.slot}`,
    started: new Date().toISOString(),
    ...(env.SLURM_JOB_ID ? { slurm: { job: env.SLURM_JOB_ID, array_job: env.SLURM_ARRAY_JOB_ID, task: env.SLURM_ARRAY_TASK_ID } } : {}),
  };
  const dir = claimDir(root, cell);
  makeDirs(dir);
  const tmp = join(dir, `.${generation}.${me.pid}.${o.slot}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  try {
    linkSync(tmp, join(dir, `${generation}.json`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined; // another worker won this generation
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  // finished by a worker that died before releasing it: nothing to run
  if (isFinished(root, cell)) {
    const c = new Claim(root, cell, record, previous, takeover);
    c.release({ status: 'skipped' });
    return undefined;
  }
  return new Claim(root, cell, record, previous, takeover);
}
