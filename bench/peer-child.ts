// Child processes of the peer section (smcirc per size, the PyTorch peer per form), run asynchronously so that an
// interrupt (Ctrl-C, SIGTERM) reaches the section's handler: it ends the running child and removes the temporary
// folder of exported weights (220 MB at MOSI size) before the bench exits.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (e.g. ENOENT). */
  error?: Error;
}

const live = new Set<ChildProcess>();

/** Runs `cmd args`, collecting stdout (and stderr unless it is passed through to ours). */
export function runChild(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; passStderr?: boolean } = {}): Promise<ChildResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', opts.passStderr ? 'inherit' : 'pipe'] });
    live.add(c);
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', (e) => (error = e));
    c.on('close', (status, signal) => {
      live.delete(c);
      resolve({ status, signal, stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

/** While `body` runs, SIGINT / SIGTERM end the running children, call `cleanup` and exit (130 / 143). */
export async function withInterruptCleanup<T>(cleanup: () => void, body: () => Promise<T>): Promise<T> {
  const onSignal = (sig: NodeJS.Signals): void => {
    for (const c of live) c.kill(sig);
    cleanup();
    process.stderr.write(`peer: interrupted (${sig}); temporary files removed\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
