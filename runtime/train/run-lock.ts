// One training process per run folder: `run.lock`, created exclusively (O_EXCL) and holding the owner's host and
// pid, claims the folder; a second `train` on it stops with an error naming the owner. A lock left by a killed
// process (same host, pid gone) is taken over, so `--resume` after a kill -9 works.

import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from './safetensors.js';
import { makeDirs } from '../fs.js';

export const RUN_LOCK = 'run.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `dir` for this process; returns the release function. Throws SMC5017 when another process holds it. */
export function claimRunFolder(dir: string): () => void {
  makeDirs(dir);
  const path = join(dir, RUN_LOCK);
  const me = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner: { host?: string; pid?: number; since?: string } = {};
      try {
        owner = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        // a lock being written right now, or damaged: treat as held
      }
      const stale = owner.host === me.host && typeof owner.pid === 'number' && !alive(owner.pid);
      if (stale && attempt === 0) {
        rmSync(path, { force: true });
        continue;
      }
      throw new CheckpointError(
        'SMC5017',
        `${dir} is in use by another smcirc train (${owner.host ?? 'unknown host'}, pid ${owner.pid ?? '?'}, since ${owner.since ?? '?'})`,
        `wait for it to finish, or choose another --out; if that process is gone (on another machine), delete ${path}`,
      );
    }
  }
  throw new CheckpointError('SMC5017', `${dir} could not be claimed`, `delete ${path} if no smcirc train is using the folder`);
}
