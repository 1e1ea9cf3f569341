// Turns every known failure (spec diagnostics, data, GPU, checkpoint, training) into a located message and an
// exit code — never a stack trace. Unknown errors are reported as internal, with a request to report them.

import { CompileError } from '../compiler/compile.js';
import { DataError } from '../runtime/data/index.js';
import { GpuError } from '../runtime/gpu/errors.js';
import { TrainingStopped } from '../runtime/train/loop.js';
import { CheckpointError } from '../runtime/train/safetensors.js';
import { BundleError } from '../runtime/bundle/load.js';
import { KernelError } from '../compiler/kernels/errors.js';
import { TargetError } from '../compiler/targets.js';
import { BundleDirError } from '../compiler/bundle/write.js';
import { printDiagnostics } from './diagnostics-output.js';

export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Prints `e` for a user; returns the exit code (1 failure, 2 usage). */
export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (e instanceof CompileError) {
    printDiagnostics(e.diagnostics, e.sources, write);
    return 1;
  }
  if (e instanceof UsageError) {
    write(`error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return 2;
  }
  if (e instanceof DataError || e instanceof GpuError || e instanceof BundleError || e instanceof KernelError) {
    write(`${e.format()}\n`);
    return 1;
  }
  if (e instanceof TrainingStopped || e instanceof CheckpointError || e instanceof BundleDirError || e instanceof TargetError) {
    write(`error ${e.code}: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return 1;
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') {
    write('error SMC5011: the disk is full\n  hint: free some space and rerun; with a run folder, `--resume` continues from the last checkpoint\n');
    return 1;
  }
  if (code === 'EACCES' || code === 'EROFS') {
    write(`error SMC5012: ${(e as Error).message}\n  hint: choose a writable folder with --out\n`);
    return 1;
  }
  write(`internal error: ${(e as Error)?.message ?? String(e)}\n  please report this with the command that caused it${process.env.SMCIRC_DEBUG ? `\n${(e as Error)?.stack}` : ' (set SMCIRC_DEBUG=1 for details)'}\n`);
  return 1;
}
