// Runs the real `smcirc` binary (bin/smcirc.js over dist/) and captures its exit code and output.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/smcirc.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs smcirc to completion without blocking the test worker (a blocked worker misses vitest's RPC deadlines).
 *  `stderrFile`: stderr goes to a file, as from a shell redirection (Node's own pipes are sockets). */
export function smcirc(args: string[], opts: { cwd?: string; timeout?: number; stderrFile?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const errFd = opts.stderrFile ? openSync(opts.stderrFile, 'w') : undefined;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, FORCE_COLOR: '0', ...opts.env }, stdio: ['ignore', 'pipe', errFd ?? 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (errFd !== undefined) {
        closeSync(errFd);
        stderr = readFileSync(opts.stderrFile!, 'utf8');
      }
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Starts smcirc in the background (for kill tests). */
export function smcircBackground(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' });
}

/** No stack trace lines ("    at f (file:line)") in user-facing output. */
export const noStackTrace = (s: string): boolean => !/^\s+at .+[:(]\d+/m.test(s);

/** Runs `node <args>` to completion without blocking the test worker. */
export function node(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
