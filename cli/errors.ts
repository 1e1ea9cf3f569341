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

/** The last line of defence: an allocation or a recursion that no limit caught. */
const OUT_OF_RESOURCES = 'SMC5055';

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
  const fsError = fileSystemError(e);
  if (fsError) {
    write(fsError);
    return 1;
  }
  if (e instanceof RangeError && /call stack|Array buffer allocation|Invalid (typed )?array length|Invalid string length/i.test(e.message)) {
    write(`error ${OUT_OF_RESOURCES}: out of memory or stack: ${e.message}\n  hint: a size or a nesting in the input is far beyond what smcirc expects (see compiler/check/limits.ts); check the spec, the --set values and the data's shapes${process.env.SMCIRC_DEBUG ? `\n${e.stack}` : ''}\n`);
    return 1;
  }
  write(`internal error: ${(e as Error)?.message ?? String(e)}\n  please report this with the command that caused it${process.env.SMCIRC_DEBUG ? `\n${(e as Error)?.stack}` : ' (set SMCIRC_DEBUG=1 for details)'}\n`);
  return 1;
}

/** What a file-system call was doing, from Node's `syscall`. */
const OPERATIONS: Record<string, string> = {
  open: 'open', read: 'read', write: 'write', close: 'close', mkdir: 'create the folder', rmdir: 'remove the folder', rm: 'remove',
  unlink: 'remove', rename: 'rename', scandir: 'list the folder', opendir: 'list the folder', stat: 'look at', lstat: 'look at',
  fstat: 'look at', access: 'access', realpath: 'resolve', copyfile: 'copy', symlink: 'link', link: 'link', fsync: 'flush',
  ftruncate: 'truncate', utime: 'touch', chmod: 'change the mode of', mkdtemp: 'create a temporary folder in',
};

/** Node's file-system error codes: an SMC code, what happened, and how to fix it. */
const FS_CODES: Record<string, [code: string, what: string, hint: string]> = {
  ENOENT: ['SMC5050', 'no such file or folder', 'check the path; for an output file, the folder it goes in must exist (create it first)'],
  EISDIR: ['SMC5051', 'it is a folder, where a file is needed', 'give a file name (e.g. `--json results/out.json`), not a folder'],
  ENOTDIR: ['SMC5051', 'a part of the path is a file, where a folder is needed', 'a file is in the way of a folder on this path: choose another path, or move the file'],
  EEXIST: ['SMC5052', 'it already exists', 'choose a new path, or remove what is there'],
  ENOTEMPTY: ['SMC5052', 'the folder is not empty', 'choose a new or empty folder'],
  ENAMETOOLONG: ['SMC5053', 'the path or a name in it is too long', 'shorten the path (a name may have at most 255 bytes)'],
  ELOOP: ['SMC5053', 'symbolic links on the path form a loop', 'fix the symbolic links on the path, or choose another path'],
  EACCES: ['SMC5012', 'permission denied', 'choose a folder you can write to (e.g. `--out` under your home folder), or fix the permissions'],
  EPERM: ['SMC5012', 'operation not permitted', 'choose a folder you can write to, or fix the permissions'],
  EROFS: ['SMC5012', 'the file system is read-only', 'choose a folder on a writable file system'],
  ENOSPC: ['SMC5011', 'the disk is full', 'free some space and rerun; with a run folder, `--resume` continues from the last checkpoint'],
  EDQUOT: ['SMC5011', 'the disk quota is exhausted', 'free some space and rerun; with a run folder, `--resume` continues from the last checkpoint'],
};

/** Node's file-system errors (they carry `code` and usually `syscall` and `path`) as a coded, located message; undefined
 *  for anything else. */
export function fileSystemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (!(e instanceof Error) || typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) return undefined;
  const known = FS_CODES[err.code];
  if (!known && !err.syscall) return undefined; // not from the file system
  const [code, what, hint] = known ?? ['SMC5054', `${err.code}`, 'check the path, the file system and the permissions, then rerun'];
  if (!err.path && err.code === 'ENOSPC') return `error SMC5011: the disk is full\n  hint: ${hint}\n`;
  const op = err.syscall ? (OPERATIONS[err.syscall] ?? err.syscall) : 'use';
  const target = err.path ? ` ${err.path}${err.dest ? ` → ${err.dest}` : ''}` : '';
  const detail = known ? `${what} (${err.code})` : `${err.code}${err.message ? `: ${err.message.replace(/^E[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}` : ''}`;
  return `error ${code}: cannot ${op}${target}: ${detail}\n${err.path ? `  at: ${err.path}\n` : ''}  hint: ${hint}\n`;
}
