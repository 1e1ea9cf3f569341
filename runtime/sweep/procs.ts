// Which process holds a claim and whether it still runs: host name, pid and (on Linux) the process's start time, so
// that a reused pid is not taken for the claimer; a zombie (exited, not yet reaped) counts as stopped.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcId {
  host: string;
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks after boot), where there is /proc. */
  start?: string;
}

/** Fields after the command name of /proc/<pid>/stat (state first), or undefined without /proc or the process. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function procId(pid = process.pid): ProcId {
  return { host: hostname(), pid, start: statFields(pid)?.[19] };
}

/** Whether the process exists at all (a zombie does). */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `p`, a process of this host, still runs: it exists, is no zombie, and started when it did. */
export function running(p: ProcId): boolean {
  if (!exists(p.pid)) return false;
  const f = statFields(p.pid);
  if (!f) return true; // no /proc: the pid is all there is to go by
  if (f[0] === 'Z' || f[0] === 'X') return false;
  return p.start === undefined || f[19] === p.start;
}

/** Waits (up to `ms`) until the process has gone completely, reaped too, so that a lock it held (which other code
 *  checks with kill(pid, 0)) is seen as stale. A pid reused by another process counts as gone. */
export async function waitGone(p: ProcId, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (exists(p.pid) && (p.start === undefined || statFields(p.pid)?.[19] === p.start)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
