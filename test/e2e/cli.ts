// Runs the real `smcirc` binary (bin/smcirc.js over dist/) and captures its exit code and output.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/smcirc.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function smcirc(args: string[], opts: { cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', timeout: opts.timeout ?? 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Starts smcirc in the background (for kill tests). */
export function smcircBackground(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' });
}

/** No stack trace lines ("    at f (file:line)") in user-facing output. */
export const noStackTrace = (s: string): boolean => !/^\s+at .+[:(]\d+/m.test(s);
