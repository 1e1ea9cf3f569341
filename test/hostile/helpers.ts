// Helpers of the hostile-input tests: the real CLI under a memory cap and a wall-clock limit, assertions that an error
// is coded, located and free of stack traces, and a small pickle writer for files a well-behaved writer never makes
// (unknown globals nested anywhere, NaN labels, strings where numbers belong).

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { noStackTrace, ROOT } from '../e2e/cli.js';

export { ROOT };
const BIN = join(ROOT, 'bin/smcirc.js');

export interface CappedResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

/** Virtual memory cap of a capped run (KiB, as `ulimit -v`): 4 GB, far below what the unbounded inputs used to take. */
export const MEMORY_KIB = 4_000_000;

/** CPU seconds a capped run may use (`ulimit -t`): the "bounded time" of the tests, independent of how loaded the
 *  machine is; the kernel stops the process past it. */
export const CPU_SECONDS = 30;

/**
 * Runs `smcirc args…` through `bash -c 'ulimit -v …; ulimit -t …; exec node …'`: at most 4 GB of memory and 30 s of
 * CPU. `timeout` (wall clock, default 120 s) only catches a process that blocks without using CPU (a FIFO).
 */
export function capped(args: string[], opts: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}): Promise<CappedResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('bash', ['-c', `ulimit -v ${MEMORY_KIB}; ulimit -t ${CPU_SECONDS}; exec "$0" "$@"`, process.execPath, BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FORCE_COLOR: '0', SMCIRC_DEBUG: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeout ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) stderr += `\n[killed by ${signal}]`;
      resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - t0) / 1000, timedOut });
    });
  });
}

/** A failure the CLI reported as it should: exit 1 (or `exit`), in bounded time, `error SMCxxxx:` with the expected
 *  code, a location (a `file:line:col:` prefix or an `at:` line) and a hint, no stack trace, no internal error. */
export function expectCoded(r: CappedResult, code: string | RegExp, opts: { exit?: number; located?: boolean; hint?: boolean } = {}): void {
  const out = `${r.stderr}\n${r.stdout}`;
  expect(r.timedOut, `blocked for ${r.seconds}s:\n${out.slice(0, 2000)}`).toBe(false);
  expect(out, 'stopped by the CPU or memory limit').not.toMatch(/\[killed by SIG/);
  expect(out).not.toMatch(/internal error/);
  expect(out).not.toMatch(/FATAL ERROR|heap out of memory|bad_alloc|Maximum call stack/);
  expect(noStackTrace(out), out.slice(0, 2000)).toBe(true);
  const re = typeof code === 'string' ? new RegExp(`error ${code}: `) : code;
  expect(r.stderr, r.stderr.slice(0, 2000)).toMatch(re);
  expect(r.code, out.slice(0, 2000)).toBe(opts.exit ?? 1);
  if (opts.located ?? true) expect(r.stderr, 'a location').toMatch(/(^|\n)\S+:\d+:\d+: error SMC|\n {2}at: \S/);
  if (opts.hint ?? true) expect(r.stderr, 'a hint').toMatch(/\n {2}hint: \S/);
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `smcirc-hostile-${name}-`));
}

// ---------------------------------------------------------------------------------------------
// A pickle writer (protocol 4 opcodes), in memory

export type Py =
  | string
  | number
  | boolean
  | null
  | Py[]
  | { [k: string]: Py }
  | PyFloat
  | PyArray
  | PyGlobal
  | PyReduce;
/** A Python float (BINFLOAT), also for whole numbers, NaN and inf. */
export interface PyFloat {
  kind: 'float';
  value: number;
}
export interface PyArray {
  kind: 'array';
  dtype: string;
  shape: number[];
  data: Uint8Array;
}
/** `GLOBAL module name`: a class or function reference. */
export interface PyGlobal {
  kind: 'global';
  module: string;
  name: string;
}
/** `callable(*args)` through REDUCE. */
export interface PyReduce {
  kind: 'reduce';
  fn: PyGlobal;
  args: Py[];
}

export const float = (value: number): PyFloat => ({ kind: 'float', value });
export const f32 = (shape: number[], values: ArrayLike<number>): PyArray => ({ kind: 'array', dtype: '<f4', shape, data: new Uint8Array(Float32Array.from(values).buffer) });

export function encodePickle(value: Py): Uint8Array {
  const out: number[] = [];
  const put = (...b: number[]) => out.push(...b);
  const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  const bytes = (b: Uint8Array) => {
    for (const x of b) out.push(x);
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    put(0x58, ...u32(b.length));
    bytes(b);
  };
  const ascii = (s: string): void => void put(...Array.from(s, (c) => c.charCodeAt(0) & 0x7f));
  const emit = (v: Py): void => {
    if (v === null) return void put(0x4e);
    if (v === true) return void put(0x88);
    if (v === false) return void put(0x89);
    if (typeof v === 'string') return str(v);
    if (typeof v === 'number') {
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 31) return void put(0x4a, ...u32(v | 0));
      return emit(float(v));
    }
    if (Array.isArray(v)) {
      put(0x5d, 0x28); // EMPTY_LIST MARK
      v.forEach(emit);
      return void put(0x65); // APPENDS
    }
    switch ((v as { kind?: string }).kind) {
      case 'float': {
        const dv = new DataView(new ArrayBuffer(8));
        dv.setFloat64(0, (v as PyFloat).value, false);
        return void put(0x47, ...new Uint8Array(dv.buffer)); // BINFLOAT
      }
      case 'global': {
        const g = v as PyGlobal;
        return void ascii(`c${g.module}\n${g.name}\n`);
      }
      case 'reduce': {
        const r = v as PyReduce;
        emit(r.fn);
        put(0x28); // MARK
        r.args.forEach(emit);
        return void put(0x74, 0x52); // TUPLE REDUCE
      }
      case 'array': {
        const a = v as PyArray;
        ascii('cnumpy._core.numeric\n_frombuffer\n');
        put(0x28, 0x96, ...u32(a.data.length), 0, 0, 0, 0); // MARK BYTEARRAY8
        bytes(a.data);
        ascii('cnumpy\ndtype\n');
        str(a.dtype.replace(/^[<>|]/, ''));
        put(0x89, 0x88, 0x87, 0x52); // False True TUPLE3 REDUCE
        put(0x28, 0x4b, 3); // MARK BININT1 3
        str(a.dtype.startsWith('>') ? '>' : a.dtype.startsWith('|') ? '|' : '<');
        put(0x4e, 0x4e, 0x4e);
        const isU = /U(\d+)/.exec(a.dtype);
        put(0x4a, ...u32(isU ? 4 * Number(isU[1]) : -1), 0x4a, ...u32(isU ? 4 : -1), 0x4b, isU ? 8 : 0, 0x74, 0x62); // TUPLE BUILD
        put(0x28);
        for (const d of a.shape) put(0x4a, ...u32(d));
        put(0x74); // TUPLE (shape)
        str('C');
        return void put(0x74, 0x52); // TUPLE REDUCE
      }
      default: {
        put(0x7d, 0x28); // EMPTY_DICT MARK
        for (const [k, x] of Object.entries(v as Record<string, Py>)) {
          str(k);
          emit(x);
        }
        return void put(0x75); // SETITEMS
      }
    }
  };
  put(0x80, 4);
  emit(value);
  put(0x2e); // STOP
  return Uint8Array.from(out);
}

/** Per-sample [T, d] of specs/smcir-tiny.smcir's inputs, so that the files below train with it as they are. */
export const TINY = { text: [8, 16], vision: [12, 6], audio: [10, 4] } as const;
/** `--set`s that let smcir-tiny train on the few rows of mmsaValue(). */
export const TINY_BATCH = ['--set', 'train.batch_size=2', '--set', 'eval.batch_size=2'];

/** An MMSA-layout split with n rows, shaped for smcir-tiny; `text`/`vision`/`audio` replace the (finite) values. */
export function mmsaSplit(n: number, opts: { labels?: Py; text?: number[]; audio?: number[]; vision?: number[]; extra?: Record<string, Py> } = {}): Record<string, Py> {
  const ramp = (k: number, s: number) => Array.from({ length: k }, (_, i) => ((i * 7) % 11) / 10 - 0.5 + s);
  const mod = (m: keyof typeof TINY, s: number, given?: number[]) => f32([n, ...TINY[m]], given ?? ramp(n * TINY[m][0] * TINY[m][1], s));
  return {
    id: Array.from({ length: n }, (_, i) => `vid${i}$_$${i}`),
    text: mod('text', 0, opts.text),
    vision: mod('vision', 0.1, opts.vision),
    audio: mod('audio', 0.2, opts.audio),
    regression_labels: opts.labels ?? f32([n], ramp(n, 0).map((x) => x * 4)),
    ...opts.extra,
  };
}

/** A whole MMSA pickle value with small splits; `edit` changes one split. */
export function mmsaValue(edit: Partial<Record<'train' | 'valid' | 'test', Record<string, Py>>> = {}): Record<string, Py> {
  return { train: edit.train ?? mmsaSplit(4), valid: edit.valid ?? mmsaSplit(2), test: edit.test ?? mmsaSplit(3) };
}
