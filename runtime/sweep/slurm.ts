// Slurm: a job-array script whose tasks each run `smcirc sweep --worker <dir>` on the shared sweep folder (each claims
// and runs cells until none is left), its submission with sbatch, and waiting for the array to leave the queue.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeDirs } from '../fs.js';

export const SLURM_DIR = 'slurm';
export const JOB_SCRIPT = 'sweep.sbatch';

export interface JobScriptOptions {
  /** The sweep folder, absolute (the same path on every node: a shared file system). */
  root: string;
  /** Array tasks: one worker each. */
  tasks: number;
  /** At most this many tasks at once (`--array=0-N%k`). */
  concurrency?: number;
  /** Extra `#SBATCH` options, e.g. `--gres=gpu:1`, `--time=4:00:00`, `--partition=gpu`. */
  sbatchArgs: string[];
  /** How to start smcirc on a node: [node, path/to/bin/smcirc.js]. */
  smcirc: string[];
  cwd: string;
}

const shq = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const sbq = (s: string): string => (/\s/.test(s) ? `"${s}"` : s);

export function jobScript(o: JobScriptOptions): string {
  const array = `0-${Math.max(1, o.tasks) - 1}${o.concurrency ? `%${o.concurrency}` : ''}`;
  return [
    '#!/bin/bash',
    `# smcirc sweep of ${o.root}: each array task is a worker that claims and runs cells until none is left;`,
    '# resubmitting (or `smcirc sweep --worker` anywhere that sees the folder) continues an unfinished sweep.',
    `#SBATCH --job-name=${sbq(`smcirc-${basename(o.root)}`)}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --output=${sbq(join(o.root, SLURM_DIR, '%A_%a.out'))}`,
    ...o.sbatchArgs.map((a) => `#SBATCH ${sbq(a)}`),
    `cd ${shq(o.cwd)}`,
    `exec ${[...o.smcirc, 'sweep', '--worker', o.root].map(shq).join(' ')}`,
    '',
  ].join('\n');
}

export function writeJobScript(o: JobScriptOptions): string {
  const dir = join(o.root, SLURM_DIR);
  makeDirs(dir);
  const path = join(dir, JOB_SCRIPT);
  writeFileSync(path, jobScript(o), { mode: 0o755 });
  return path;
}

export interface Submission {
  ok: boolean;
  jobId?: string;
  /** sbatch's own words when it failed (or the job failed, with `wait`). */
  message: string;
  code: number | null;
}

/** `sbatch --parsable <script>`. */
export function submit(script: string): Submission {
  const r = spawnSync('sbatch', ['--parsable', script], { encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, code: null, message: missing ? 'sbatch not found on PATH (is this a Slurm login node?)' : r.error.message };
  }
  const jobId = /^(\d+)/m.exec(r.stdout)?.[1];
  return { ok: r.status === 0, jobId, code: r.status, message: `${r.stderr}${r.stdout}`.trim() };
}

/** Tasks of the job still in the queue (pending, running, completing), or undefined when squeue fails. */
export function queued(jobId: string): number | undefined {
  const r = spawnSync('squeue', ['--noheader', '--array', '--jobs', jobId, '--format', '%i'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

/** Polls squeue until the job has left the queue: every second at first, then less often (at most every 30 s, as
 *  sbatch --wait's own backoff would be too slow for short sweeps and squeue every second too much for long ones).
 *  Returns false when squeue keeps failing. */
export async function waitForJob(jobId: string, onPoll?: (left: number) => void): Promise<boolean> {
  let delay = 1000;
  let failures = 0;
  for (;;) {
    const left = queued(jobId);
    if (left === 0) return true;
    if (left === undefined && ++failures >= 5) return false;
    if (left !== undefined) onPoll?.(left);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(30_000, delay * 1.2);
  }
}
