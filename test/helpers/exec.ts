// Runs a command without blocking the test worker and captures its exit code, stdout and stderr (a signal counts
// as 128): the tests that drive shell scripts with stand-in commands on PATH.
import { spawn } from 'node:child_process';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export function execCapture(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; cwd: string }): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}
