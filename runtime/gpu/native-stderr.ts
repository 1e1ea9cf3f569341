// Keeps Dawn's known native noise out of the user's output: while Dawn opens an adapter, file descriptor 2 points
// at a temporary file; afterwards the original stderr is restored and every line that is not known noise (today:
// lavapipe's "…artificially reduced…" limit warnings) is written to it. Linux only; SMCIRC_DEBUG=1 shows all.

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Lines Dawn prints for every lavapipe adapter; they say nothing a user can act on. */
const NOISE = [/artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit/];

export function isDawnNoise(line: string): boolean {
  return NOISE.some((re) => re.test(line));
}

/** Runs `fn` with native writes to fd 2 captured; passes on what is not noise. Falls back to running it plainly. */
export async function filterNativeStderr<T>(fn: () => Promise<T>): Promise<T> {
  if (process.platform !== 'linux' || process.env.SMCIRC_DEBUG) return fn();
  let saved: number;
  let dir: string;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
  } catch {
    return fn(); // a socket or another stderr that cannot be reopened: nothing is filtered
  }
  try {
    dir = mkdtempSync(join(tmpdir(), 'smcirc-dawn-'));
  } catch {
    closeSync(saved);
    return fn();
  }
  const captured = join(dir, 'stderr');
  closeSync(2);
  const fd = openSync(captured, 'w'); // the lowest free descriptor: 2
  const restore = () => {
    closeSync(fd);
    const back = openSync(`/proc/self/fd/${saved}`, 'a');
    if (back !== 2) closeSync(back);
    closeSync(saved);
  };
  if (fd !== 2) {
    // another descriptor was free below 2 (not expected): undo without filtering
    closeSync(fd);
    openSync(`/proc/self/fd/${saved}`, 'a');
    closeSync(saved);
    rmSync(dir, { recursive: true, force: true });
    return fn();
  }
  try {
    return await fn();
  } finally {
    restore();
    let text = '';
    try {
      text = readFileSync(captured, 'utf8');
    } catch {
      // nothing captured
    }
    rmSync(dir, { recursive: true, force: true });
    const keep = text.split('\n').filter((l) => l.trim() && !isDawnNoise(l));
    if (keep.length) process.stderr.write(`${keep.join('\n')}\n`);
  }
}
