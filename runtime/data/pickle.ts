// runtime/data/pickle.ts — owns reading numpy-bearing pickles: a file-descriptor reader for pickleparser (files > 2 GiB), numpy ndarray/dtype/scalar reconstruction, and streaming decode of array payloads.
//
// Design (see also examples/mosi/README.md, "Large files"):
//  * `pickleparser` walks the opcodes; we give it our own `IReader` (`SourceReader`) that reads the
//    file through a small window with `fs.readSync`, so file size is not bounded by Node's 2 GiB
//    `readFile` limit. Any byte payload larger than `lazyThreshold` (default 1 MiB) is not
//    materialised: the reader returns a `LazyBytes` (fd, offset, length) placeholder and seeks past it.
//    Huge protocol-2 payloads (`_codecs.encode(<latin-1 str>, 'latin1')`) get the same treatment
//    (`LazyLatin1Text`), decoded from UTF-8 to latin-1 while streaming.
//  * numpy globals are resolved by a `NameRegistry`, accepting both the numpy 1.x (`numpy.core.*`) and
//    numpy 2.x (`numpy._core.*`) module spellings, protocol <=4 `_reconstruct` + BUILD and protocol 5
//    `_frombuffer`.
//  * `NdArray` keeps its raw payload; `ndStreamNumeric` decodes it in bounded chunks (byte order,
//    dtype conversion, carry across chunk edges), so a > 4 GiB float64 array can be written out as
//    float32 chunks without ever holding it whole (see chunked.ts).
import * as fs from 'node:fs';
import pickleparserPkg from 'pickleparser';
import { DataError } from './errors.js';

// pickleparser ships a UMD bundle; take the classes off the CommonJS export object.
const { Parser, NameRegistry } = pickleparserPkg as unknown as {
  Parser: new (opts?: Record<string, unknown>) => { read(reader: unknown): unknown };
  NameRegistry: new () => {
    register(module: string, name: string, fn: (...args: any[]) => any): unknown;
    resolve(module: string, name: string): (...args: any[]) => any;
  };
};

// ---------------------------------------------------------------------------------------------
// Byte sources and the reader

export interface ByteSource {
  readonly size: number;
  /** Copy bytes [pos, pos + dst.length) into dst; returns bytes copied. */
  readInto(dst: Uint8Array, pos: number): number;
  readonly label: string;
}

export class MemorySource implements ByteSource {
  constructor(readonly bytes: Uint8Array, readonly label = '<memory>') {}
  get size(): number {
    return this.bytes.length;
  }
  readInto(dst: Uint8Array, pos: number): number {
    const n = Math.max(0, Math.min(dst.length, this.bytes.length - pos));
    dst.set(this.bytes.subarray(pos, pos + n));
    return n;
  }
}

/** Pseudo file systems: their files claim a size of 0 (or any size), and reading them may never end. */
const PSEUDO_FS = ['/proc', '/sys', '/dev'];

/**
 * Refuses — by `stat`, before anything is opened — a data path that is not a regular file: a FIFO (opening it would
 * block until a writer comes), a device (/dev/zero never ends), a socket, a folder, or a file under /proc, /sys or
 * /dev. Returns its Stats.
 */
export function statRegularFile(p: string, what = 'data file'): fs.Stats {
  let st: fs.Stats;
  let real: string;
  try {
    st = fs.statSync(p);
    real = fs.realpathSync(p);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError({
      code: 'SMC6001',
      message: `cannot open ${p}: ${err.code ?? err.message}`,
      location: p,
      hint: err.code === 'ENOENT' ? 'check the path; MMSA files live under <root>/MOSI/Processed/aligned_50.pkl' : 'check the path and its permissions',
    });
  }
  const kind = st.isFile() ? undefined : st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
  const pseudo = PSEUDO_FS.find((d) => real === d || real.startsWith(`${d}/`));
  if (kind || pseudo) {
    throw new DataError({
      code: 'SMC6006',
      message: `${p} is ${kind ?? `a file of the ${pseudo!.slice(1)} pseudo file system`}, not a ${what}; it was not opened`,
      location: p,
      hint: 'pass an MMSA pickle (a regular file) or a folder from `smcirc data convert`; copy streamed data to a file first',
    });
  }
  return st;
}

export class FileSource implements ByteSource {
  readonly fd: number;
  readonly size: number;
  constructor(readonly label: string) {
    statRegularFile(label);
    try {
      this.fd = fs.openSync(label, 'r');
      const st = fs.fstatSync(this.fd);
      if (!st.isFile()) {
        fs.closeSync(this.fd);
        throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
      }
      this.size = st.size;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new DataError({
        code: 'SMC6001',
        message: `cannot open ${label}: ${err.code ?? err.message}`,
        location: label,
        hint: err.code === 'ENOENT' ? 'check the path; MMSA files live under <root>/MOSI/Processed/aligned_50.pkl' : undefined,
      });
    }
  }
  readInto(dst: Uint8Array, pos: number): number {
    let done = 0;
    while (done < dst.length) {
      const n = fs.readSync(this.fd, dst, done, dst.length - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** A byte payload left in the source (not materialised). */
export class LazyBytes {
  constructor(readonly source: ByteSource, readonly offset: number, readonly length: number) {}
}

/** A large protocol-2 unicode string (UTF-8 in the file) meant to become latin-1 bytes. */
export class LazyLatin1Text {
  constructor(readonly bytes: LazyBytes) {}
}

/** A decoded `_codecs.encode(text, 'latin1')` payload still in UTF-8 form in the source. */
export class LazyLatin1Bytes {
  constructor(readonly utf8: LazyBytes) {}
}

class TruncatedError extends Error {
  constructor(readonly position: number, readonly needed: number) {
    super(`unexpected end of file: needed ${needed} more byte(s)`);
  }
}

const WINDOW = 1 << 20;

/** Implements pickleparser's IReader over a ByteSource with a sliding window. */
export class SourceReader {
  private window: Uint8Array = new Uint8Array(WINDOW);
  private winStart = 0;
  private winLen = 0;
  private pos = 0;
  private readonly utf8 = new TextDecoder('utf-8');
  private readonly ascii = new TextDecoder('latin1');
  readonly lazyThreshold: number;

  constructor(readonly source: ByteSource, lazyThreshold = 1 << 20) {
    this.lazyThreshold = lazyThreshold;
  }

  get position(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.source.size) throw new TruncatedError(this.pos, this.pos + n - this.source.size);
    if (this.pos >= this.winStart && this.pos + n <= this.winStart + this.winLen) return;
    if (n > this.window.length) this.window = new Uint8Array(n);
    this.winStart = this.pos;
    this.winLen = this.source.readInto(this.window, this.pos);
    if (this.winLen < n) throw new TruncatedError(this.pos, n - this.winLen);
  }

  private at(): number {
    return this.pos - this.winStart;
  }

  byte(): number {
    this.ensure(1);
    const v = this.window[this.at()]!;
    this.pos += 1;
    return v;
  }

  private view(n: number): DataView {
    this.ensure(n);
    const dv = new DataView(this.window.buffer, this.window.byteOffset + this.at(), n);
    this.pos += n;
    return dv;
  }

  uint16(): number {
    return this.view(2).getUint16(0, true);
  }
  int32(): number {
    return this.view(4).getInt32(0, true);
  }
  uint32(): number {
    return this.view(4).getUint32(0, true);
  }
  uint64(): number {
    const dv = this.view(8);
    return dv.getUint32(0, true) + 2 ** 32 * dv.getUint32(4, true);
  }
  float64(): number {
    return this.view(8).getFloat64(0, false);
  }

  skip(n: number): void {
    if (this.pos + n > this.source.size) throw new TruncatedError(this.pos, this.pos + n - this.source.size);
    this.pos += n;
  }

  /** Small payloads are copied out; large ones stay in the source as LazyBytes. */
  bytes(length: number): Uint8Array | LazyBytes {
    // pickleparser reads BINBYTES' 4-byte length with int32(); the format says unsigned, and
    // CPython writes BINBYTES for 2-4 GiB payloads, so undo the sign.
    if (length < 0) length += 2 ** 32;
    if (length > this.lazyThreshold) {
      const lb = new LazyBytes(this.source, this.pos, length);
      this.skip(length);
      return lb;
    }
    this.ensure(length);
    const out = this.window.slice(this.at(), this.at() + length);
    this.pos += length;
    return out;
  }

  string(size: number, encoding: 'ascii' | 'utf-8'): string | LazyLatin1Text {
    if (size > this.lazyThreshold) {
      const lb = this.bytes(size) as LazyBytes;
      if (lb instanceof LazyBytes) return new LazyLatin1Text(lb);
    }
    const b = this.bytes(size) as Uint8Array;
    return encoding === 'utf-8' ? this.utf8.decode(b) : this.ascii.decode(b);
  }

  line(): string {
    const parts: number[] = [];
    for (;;) {
      const c = this.byte();
      if (c === 0x0a) break;
      parts.push(c);
      if (parts.length > 1 << 16) throw new TruncatedError(this.pos, 1);
    }
    return String.fromCharCode(...parts);
  }

  hasNext(): boolean {
    return this.pos < this.source.size;
  }
}

// ---------------------------------------------------------------------------------------------
// numpy objects

export type NpKind = 'f' | 'i' | 'u' | 'b' | 'U' | 'S' | 'O' | 'V' | 'c' | 'M' | 'm';

export class NpDtype {
  kind: NpKind;
  itemsize: number;
  byteorder: string;
  constructor(readonly spec: string) {
    const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(spec);
    if (!m) throw new Error(`unsupported numpy dtype '${spec}'`);
    this.byteorder = m[1] || '=';
    this.kind = m[2] as NpKind;
    this.itemsize = m[3] ? parseInt(m[3], 10) : 0;
    if (this.kind === 'U' && m[3]) this.itemsize = 4 * parseInt(m[3], 10);
    if (this.kind === 'b' && !m[3]) this.itemsize = 1;
  }
  __setstate__(state: unknown[]): void {
    // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteorder = state[1];
    if (Array.isArray(state) && (state[3] != null || state[4] != null)) this.kind = 'V';
    if (Array.isArray(state) && typeof state[5] === 'number' && state[5] > 0) this.itemsize = state[5];
  }
  get littleEndian(): boolean {
    return this.byteorder !== '>';
  }
  /** numpy's `dtype.str`, e.g. `<f4`, `|b1`, `<U8`, `|O`. */
  get str(): string {
    const bo = this.kind === 'O' || this.kind === 'S' || this.kind === 'V' || this.itemsize === 1 ? '|' : this.littleEndian ? '<' : '>';
    if (this.kind === 'O') return '|O';
    return `${bo}${this.kind}${this.kind === 'U' ? this.itemsize / 4 : this.itemsize}`;
  }
}

export type RawPayload = Uint8Array | LazyBytes | LazyLatin1Bytes | unknown[];

export class NdArray {
  dtype!: NpDtype;
  shape: number[] = [];
  fortran = false;
  raw: RawPayload = new Uint8Array(0);
  /** Module that reconstructed it (numpy.core or numpy._core). */
  module = '';

  __setstate__(state: unknown[]): void {
    const s = state.length === 5 ? state.slice(1) : state;
    const [shape, dtype, fortran, raw] = s as [number[], NpDtype, boolean, RawPayload | string | LazyLatin1Text];
    this.shape = shape.map((x) => Number(x));
    this.dtype = dtype;
    this.fortran = !!fortran;
    this.raw = toPayload(raw);
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

function latin1(str: string): Uint8Array {
  const out = new Uint8Array(str.length);
  for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff;
  return out;
}

function toPayload(raw: unknown): RawPayload {
  if (raw instanceof Uint8Array || raw instanceof LazyBytes || raw instanceof LazyLatin1Bytes || Array.isArray(raw)) return raw;
  if (typeof raw === 'string') return latin1(raw); // protocol 0/1 str payload
  if (raw instanceof LazyLatin1Text) return new LazyLatin1Bytes(raw.bytes);
  throw new Error('unsupported ndarray payload');
}

/** Placeholder for `numpy.ndarray` (only ever passed to _reconstruct). */
class NdarrayClass {}

/** Python's bytes for the latin-1 text protocol 2 uses. */
function codecsEncode(text: unknown, encoding?: unknown): Uint8Array | LazyLatin1Bytes {
  const enc = String(encoding ?? 'utf-8').toLowerCase().replace('_', '-');
  if (text instanceof LazyLatin1Text) {
    if (enc !== 'latin1' && enc !== 'latin-1' && enc !== 'iso-8859-1') throw new Error(`_codecs.encode with ${enc} on a huge string`);
    return new LazyLatin1Bytes(text.bytes);
  }
  if (typeof text !== 'string') throw new Error('_codecs.encode on a non-string');
  if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') return latin1(text);
  return new TextEncoder().encode(text);
}

/** `bytes(n)` makes n zero bytes: a pickle could ask for gigabytes in a few bytes. No MMSA pickle uses it. */
const MAX_PY_BYTES = 1 << 20;

function pyBytes(...args: unknown[]): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const a = args[0];
  if (Array.isArray(a)) return Uint8Array.from(a as number[]);
  if (a instanceof Uint8Array) return a.slice();
  if (typeof a === 'string') return codecsEncode(a, args[1]) as Uint8Array;
  if (typeof a === 'number') {
    if (!(Number.isInteger(a) && a >= 0 && a <= MAX_PY_BYTES)) throw new Error(`bytes(${a}) asks for more than ${MAX_PY_BYTES} zero bytes`);
    return new Uint8Array(a);
  }
  throw new Error('unsupported bytes() arguments');
}

/** A global the pickle names that smcirc does not know: recorded, never called, and refused after parsing. */
export interface RefusedGlobal {
  module: string;
  name: string;
  /** Byte offset of the opcode that named it. */
  position: number;
}

/** Marks the objects built from a refused global (so the walk over the value can say where they ended up). */
const REFUSED = Symbol('smcirc.refusedGlobal');

function refusedClass(g: RefusedGlobal): (...args: any[]) => any {
  // Callable with and without `new` (pickle's REDUCE calls, NEWOBJ constructs); keeps nothing but its name.
  const cls = function (this: unknown) {
    const o = Object.create(cls.prototype as object) as Record<symbol, RefusedGlobal>;
    o[REFUSED] = g;
    return o;
  } as unknown as { prototype: Record<string | symbol, unknown> };
  cls.prototype.__module__ = g.module;
  cls.prototype.__name__ = g.name;
  cls.prototype[REFUSED] = g;
  (cls as unknown as Record<symbol, RefusedGlobal>)[REFUSED] = g;
  return cls as unknown as (...args: any[]) => any;
}

function makeRegistry(seenModules: Set<string>, refused: RefusedGlobal[] = [], position: () => number = () => 0) {
  const reg = new NameRegistry();
  // Unknown globals become inert placeholders that remember their name and byte, wherever they appear (top level,
  // nested in a dict or list, as the callable of a REDUCE, as a BUILD state); the parse is refused afterwards.
  (reg as unknown as { onMissingName(module: unknown, name: unknown): unknown }).onMissingName = (module: unknown, name: unknown) => {
    const g: RefusedGlobal = { module: String(module).slice(0, 200), name: String(name).slice(0, 200), position: Math.max(0, position() - 1) };
    refused.push(g);
    return refusedClass(g);
  };
  for (const core of ['numpy.core', 'numpy._core']) {
    reg.register(`${core}.multiarray`, '_reconstruct', (_cls: unknown, _shape: unknown, _typecode: unknown) => {
      seenModules.add(core);
      const a = new NdArray();
      a.module = core;
      return a;
    });
    reg.register(`${core}.numeric`, '_frombuffer', (buf: unknown, dtype: NpDtype, shape: number[], order: string) => {
      seenModules.add(core);
      const a = new NdArray();
      a.module = core;
      a.dtype = dtype;
      a.shape = (shape ?? []).map((x) => Number(x));
      a.fortran = order === 'F';
      a.raw = toPayload(buf);
      return a;
    });
    reg.register(`${core}.multiarray`, 'scalar', (dtype: NpDtype, raw: unknown) => {
      seenModules.add(core);
      if (dtype.kind === 'O') return raw;
      const a = new NdArray();
      a.dtype = dtype;
      a.shape = [];
      a.raw = toPayload(raw);
      if (dtype.kind === 'U' || dtype.kind === 'S') return ndToStrings(a)[0];
      return ndToNumbers(a)[0];
    });
  }
  reg.register('numpy', 'ndarray', NdarrayClass as unknown as (...args: any[]) => any);
  reg.register('numpy', 'dtype', (spec: unknown) => new NpDtype(String(spec)));
  reg.register('_codecs', 'encode', codecsEncode);
  for (const b of ['builtins', '__builtin__']) {
    reg.register(b, 'bytes', pyBytes);
    reg.register(b, 'bytearray', pyBytes);
    reg.register(b, 'set', (items?: unknown[]) => [...(items ?? [])]);
    reg.register(b, 'frozenset', (items?: unknown[]) => [...(items ?? [])]);
  }
  reg.register('collections', 'OrderedDict', () => ({}));
  return reg;
}

// ---------------------------------------------------------------------------------------------
// Parsing entry points

export interface PickleInfo {
  protocol: number;
  numpyModules: string[];
  source: string;
}

export interface ParsedPickle<T = unknown> {
  value: T;
  info: PickleInfo;
}

const PICKLE_FIRST_BYTES = new Set([0x80, 0x28, 0x7d, 0x5d, 0x63, 0x64, 0x6c, 0x29, 0x4e]); // PROTO ( } ] c d l ) N

/** Parse a pickle from a ByteSource. Lazy payloads keep referring to the source: keep it open while you decode them. */
export function parsePickleSource<T = unknown>(source: ByteSource, opts: { lazyThreshold?: number } = {}): ParsedPickle<T> {
  const where = (pos: number) => `${source.label} @ byte ${pos} of ${source.size}`;
  if (source.size === 0) {
    throw new DataError({ code: 'SMC6003', message: 'file is empty, not a pickle', location: where(0), hint: 'the download is incomplete; fetch it again' });
  }
  const head = new Uint8Array(2);
  source.readInto(head, 0);
  if (!PICKLE_FIRST_BYTES.has(head[0]!)) {
    throw new DataError({
      code: 'SMC6003',
      message: `not a pickle: invalid load key '\\x${head[0]!.toString(16).padStart(2, '0')}'`,
      location: where(0),
      hint: 'the file is corrupt (MMSA issue #98: a BaiduYun MOSEI copy started with \\x00); download it again and compare its SHA-256 with the MMSA README',
    });
  }
  const protocol = head[0] === 0x80 ? head[1]! : 0;
  if (protocol > 5) {
    throw new DataError({ code: 'SMC6003', message: `unsupported pickle protocol ${protocol}`, location: where(1) });
  }
  const seen = new Set<string>();
  const refused: RefusedGlobal[] = [];
  const reader = new SourceReader(source, opts.lazyThreshold);
  const parser = new Parser({ nameResolver: makeRegistry(seen, refused, () => reader.position) });
  let value: unknown;
  try {
    value = parser.read(reader);
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (refused.length) throw refusedError(source.label, where, refused, undefined);
    if (e instanceof TruncatedError || (e instanceof Error && /end of file/i.test(e.message))) {
      throw new DataError({
        code: 'SMC6002',
        message: `pickle is truncated: ${e instanceof TruncatedError ? e.message : 'no STOP opcode before end of file'}`,
        location: where(reader.position),
        hint: `the file has ${source.size} bytes; the download or copy was cut short. Fetch it again and check its SHA-256`,
      });
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (/out-of-band/.test(msg)) {
      throw new DataError({
        code: 'SMC6004',
        message: 'pickle refers to protocol-5 out-of-band buffers, which a file cannot carry',
        location: where(Math.max(0, reader.position - 1)),
        hint: 're-save it with pickle.dump(obj, f, protocol=5) without buffer_callback (or protocol 4)',
      });
    }
    throw new DataError({
      code: 'SMC6002',
      message: `pickle is corrupt: ${msg}`,
      location: where(Math.max(0, reader.position - 1)),
      hint: 'the file is damaged or not an MMSA feature pickle; download it again and check its SHA-256',
    });
  }
  if (refused.length) throw refusedError(source.label, where, refused, value);
  return { value: value as T, info: { protocol, numpyModules: [...seen].sort(), source: source.label } };
}

/** SMC6004 naming the first refused global, where it sits in the value (`train.text`, `test.extra[2].x`) and its byte. */
function refusedError(label: string, where: (pos: number) => string, refused: RefusedGlobal[], value: unknown): DataError {
  const first = refused[0]!;
  const at = value === undefined ? undefined : findRefused(value);
  const g = at?.global ?? first;
  const torch = g.module === 'torch' || g.module.startsWith('torch.');
  const others = new Set(refused.map((r) => `${r.module}.${r.name}`));
  others.delete(`${g.module}.${g.name}`);
  return new DataError({
    code: 'SMC6004',
    message: `${at ? `${at.path} is ` : 'the pickle names '}object ${g.module}.${g.name}, a global smcirc does not read (named at byte ${g.position})${others.size ? `; also ${[...others].slice(0, 3).join(', ')}${others.size > 3 ? ', …' : ''}` : ''}; nothing in it was run`,
    location: at ? `${label}: ${at.path} (byte ${g.position})` : where(g.position),
    hint: torch
      ? 'the file holds torch tensors (MMSA-FET return_type="pt"); re-extract with return_type="np"'
      : 'MMSA feature pickles hold dicts of numpy arrays, strings and numbers only; re-save the features without custom objects',
  });
}

/** Breadth-first walk (no recursion, each object once) to the first object built from a refused global. */
function findRefused(root: unknown): { path: string; global: RefusedGlobal } | undefined {
  const seen = new Set<object>();
  const queue: [unknown, string][] = [[root, '<root>']];
  const key = (p: string, k: string) => (p === '<root>' ? k : /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${p}.${k}` : `${p}[${JSON.stringify(k.slice(0, 40))}]`);
  for (let i = 0; i < queue.length && i < 10_000_000; i++) {
    const [v, p] = queue[i]!;
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null) continue;
    if (seen.has(v)) continue;
    seen.add(v);
    const g = (v as Record<symbol, RefusedGlobal | undefined>)[REFUSED];
    if (g) return { path: p, global: g };
    if (v instanceof Uint8Array || v instanceof LazyBytes || v instanceof LazyLatin1Bytes || v instanceof LazyLatin1Text || v instanceof NpDtype) continue;
    if (v instanceof NdArray) {
      if (Array.isArray(v.raw)) v.raw.forEach((x, j) => queue.push([x, `${p}[${j}]`]));
      continue;
    }
    if (Array.isArray(v)) v.forEach((x, j) => queue.push([x, `${p}[${j}]`]));
    else if (v instanceof Map) for (const [k, x] of v) queue.push([x, key(p, String(k))]);
    else {
      for (const k of Object.keys(v)) queue.push([(v as Record<string, unknown>)[k], key(p, k)]);
      const args = (v as { args?: unknown }).args;
      if (Array.isArray(args)) args.forEach((x, j) => queue.push([x, `${p}.args[${j}]`]));
    }
  }
  return undefined;
}

/** Parse an in-memory pickle (tests, small files). */
export function parsePickleBytes<T = unknown>(bytes: Uint8Array, label = '<memory>'): ParsedPickle<T> {
  return parsePickleSource<T>(new MemorySource(bytes, label), { lazyThreshold: Number.MAX_SAFE_INTEGER });
}

/**
 * Open a pickle file and run `fn` on the parsed value while the file stays open (lazy payloads
 * are read on demand), then close it.
 */
export function withPickleFile<R>(path: string, fn: (parsed: ParsedPickle) => R, opts: { lazyThreshold?: number } = {}): R {
  const src = new FileSource(path);
  try {
    return fn(parsePickleSource(src, opts));
  } finally {
    src.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding ndarray payloads

export function isNdArray(x: unknown): x is NdArray {
  return x instanceof NdArray;
}

const CHUNK_BYTES = 8 << 20;

/** Stream the raw payload bytes in order, in chunks of at most ~8 MiB. */
export function streamPayload(raw: RawPayload, onChunk: (chunk: Uint8Array) => void): void {
  if (raw instanceof Uint8Array) {
    for (let o = 0; o < raw.length; o += CHUNK_BYTES) onChunk(raw.subarray(o, Math.min(raw.length, o + CHUNK_BYTES)));
    return;
  }
  if (raw instanceof LazyBytes) {
    const buf = new Uint8Array(Math.min(CHUNK_BYTES, raw.length));
    for (let o = 0; o < raw.length; o += buf.length) {
      const n = Math.min(buf.length, raw.length - o);
      const got = raw.source.readInto(buf.subarray(0, n), raw.offset + o);
      if (got < n) throw new TruncatedError(raw.offset + o + got, n - got);
      onChunk(buf.subarray(0, n));
    }
    return;
  }
  if (raw instanceof LazyLatin1Bytes) {
    // UTF-8 text whose code points are all < 256 -> latin-1 bytes.
    let pendingLead = -1;
    const out = new Uint8Array(CHUNK_BYTES);
    streamPayload(raw.utf8, (chunk) => {
      let k = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (pendingLead >= 0) {
          out[k++] = ((pendingLead & 0x1f) << 6) | (c & 0x3f);
          pendingLead = -1;
        } else if (c < 0x80) out[k++] = c;
        else if (c === 0xc2 || c === 0xc3) pendingLead = c;
        else throw new Error('protocol-2 byte payload is not latin-1 text');
      }
      onChunk(out.subarray(0, k));
    });
    return;
  }
  throw new Error('object array has no byte payload');
}

export type NumericOut = 'f32' | 'f64';

function decodeAligned(dtype: NpDtype, bytes: Uint8Array, dst: Float32Array | Float64Array, dstOff: number): void {
  // bytes.length is a multiple of itemsize and bytes.byteOffset is aligned (we copy to ensure it).
  const n = bytes.length / dtype.itemsize;
  const le = dtype.littleEndian;
  const key = `${dtype.kind}${dtype.itemsize}`;
  const hostLE = true;
  if (le === hostLE || dtype.itemsize === 1) {
    switch (key) {
      case 'f4': dst.set(new Float32Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'f8': dst.set(new Float64Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'i1': dst.set(new Int8Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'u1': case 'b1': dst.set(new Uint8Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'i2': dst.set(new Int16Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'u2': dst.set(new Uint16Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'i4': dst.set(new Int32Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      case 'u4': dst.set(new Uint32Array(bytes.buffer, bytes.byteOffset, n), dstOff); return;
      default: break;
    }
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const sz = dtype.itemsize;
  for (let i = 0; i < n; i++) {
    const o = i * sz;
    let v: number;
    switch (key) {
      case 'f2': v = half(dv.getUint16(o, le)); break;
      case 'f4': v = dv.getFloat32(o, le); break;
      case 'f8': v = dv.getFloat64(o, le); break;
      case 'i2': v = dv.getInt16(o, le); break;
      case 'u2': v = dv.getUint16(o, le); break;
      case 'i4': v = dv.getInt32(o, le); break;
      case 'u4': v = dv.getUint32(o, le); break;
      case 'i8': v = Number(dv.getBigInt64(o, le)); break;
      case 'u8': v = Number(dv.getBigUint64(o, le)); break;
      case 'i1': v = dv.getInt8(o); break;
      case 'u1': case 'b1': v = dv.getUint8(o); break;
      default: throw new Error(`unsupported numeric dtype ${dtype.str}`);
    }
    dst[dstOff + i] = v;
  }
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export function isNumericDtype(d: NpDtype | undefined): boolean {
  if (!(d instanceof NpDtype)) return false;
  return (d.kind === 'f' && [2, 4, 8].includes(d.itemsize)) || (d.kind === 'i' || d.kind === 'u') && [1, 2, 4, 8].includes(d.itemsize) || d.kind === 'b';
}

/**
 * Decode a numeric ndarray in bounded chunks, in C (row-major) order. `onChunk(values, start)`
 * receives consecutive element ranges; the values array is reused between calls.
 */
export function ndStreamNumeric(
  a: NdArray,
  out: NumericOut,
  onChunk: (values: Float32Array | Float64Array, start: number) => void,
  chunkElems = 1 << 20,
): void {
  if (!isNumericDtype(a.dtype)) throw new Error(`dtype ${a.dtype.str} is not numeric`);
  checkPayloadSize(a);
  if (a.fortran && a.shape.filter((d) => d > 1).length > 1) {
    // Rare: decode whole, then transpose to C order.
    const whole = out === 'f32' ? new Float32Array(a.size) : new Float64Array(a.size);
    ndStreamNumeric(Object.assign(new NdArray(), a, { fortran: false }), out, (v, s) => whole.set(v, s), chunkElems);
    const c = fortranToC(whole, a.shape);
    onChunk(c, 0);
    return;
  }
  const isz = a.dtype.itemsize;
  const total = a.size;
  const vals = out === 'f32' ? new Float32Array(Math.min(chunkElems, total)) : new Float64Array(Math.min(chunkElems, total));
  const stage = new Uint8Array(Math.min(chunkElems, Math.max(total, 1)) * isz);
  let staged = 0;
  let emitted = 0;
  const flush = () => {
    const n = staged / isz;
    decodeAligned(a.dtype, stage.subarray(0, staged), vals, 0);
    onChunk(n === vals.length ? vals : vals.subarray(0, n), emitted);
    emitted += n;
    staged = 0;
  };
  if (total === 0) return;
  streamPayload(a.raw, (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      const take = Math.min(chunk.length - i, stage.length - staged);
      stage.set(chunk.subarray(i, i + take), staged);
      staged += take;
      i += take;
      if (staged === stage.length) flush();
    }
  });
  if (staged > 0) {
    if (staged % isz !== 0) throw new Error('payload length is not a multiple of the item size');
    flush();
  }
  if (emitted !== total) throw new Error(`payload holds ${emitted} elements, shape needs ${total}`);
}

function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: number[]): T {
  const nd = shape.length;
  const dst = new (src.constructor as new (n: number) => T)(src.length);
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fStride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(nd).fill(0);
  for (let c = 0; c < src.length; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k]! * fStride[k]!;
    dst[c] = src[f]!;
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return dst;
}

/** Bytes a payload holds (for UTF-8 held latin-1 text: an upper bound), or undefined for object arrays. */
function payloadBytes(raw: RawPayload): number | undefined {
  if (raw instanceof Uint8Array) return raw.length;
  if (raw instanceof LazyBytes) return raw.length;
  if (raw instanceof LazyLatin1Bytes) return raw.utf8.length;
  return undefined;
}

/** The shape must fit the payload before anything of the shape's size is allocated (a hostile shape is free). */
export function checkPayloadSize(a: NdArray): void {
  const have = payloadBytes(a.raw);
  if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`shape (${a.shape.join(', ')}) is not a list of whole numbers`);
  const need = a.size * (a.dtype?.itemsize ?? 0);
  if (have === undefined) {
    if (Array.isArray(a.raw) && a.raw.length !== a.size) throw new Error(`object array holds ${a.raw.length} items, shape (${a.shape.join(', ')}) needs ${a.size}`);
    return;
  }
  const exact = !(a.raw instanceof LazyLatin1Bytes);
  if (exact ? need !== have : need > have) throw new Error(`payload holds ${have} bytes, shape (${a.shape.join(', ')}) of ${a.dtype?.str} needs ${need}`);
}

export function ndToFloat32(a: NdArray): Float32Array {
  checkPayloadSize(a);
  const out = new Float32Array(a.size);
  ndStreamNumeric(a, 'f32', (v, s) => out.set(v, s));
  return out;
}

export function ndToFloat64(a: NdArray): Float64Array {
  checkPayloadSize(a);
  const out = new Float64Array(a.size);
  ndStreamNumeric(a, 'f64', (v, s) => out.set(v, s));
  return out;
}

/** Small arrays to plain numbers (lengths, labels). Object arrays of numbers are accepted. */
export function ndToNumbers(a: NdArray): number[] {
  if (a.dtype.kind === 'O') {
    if (!Array.isArray(a.raw)) throw new Error('object array without items');
    return a.raw.map((x, i) => plainNumber(x, i));
  }
  return Array.from(ndToFloat64(a));
}

/** A number from a pickled Python number (int, float, bool, numpy scalar); anything else is refused, naming its index. */
export function plainNumber(x: unknown, i: number): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint' || typeof x === 'boolean') return Number(x);
  throw new NotANumber(i, x);
}

/** Thrown by plainNumber for an item that is not a number (a string label, a nested list, None). */
export class NotANumber extends Error {
  constructor(readonly index: number, readonly item: unknown) {
    super(`item ${index} is ${typeof item === 'string' ? `the string ${JSON.stringify(item.slice(0, 40))}` : describeValue(item)}, not a number`);
  }
}

/** A string from a pickled str/bytes/number; a container is refused (String() of a shared nested list can be huge). */
export function plainString(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return new TextDecoder().decode(x);
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') return String(x);
  if (x === null || x === undefined) return 'None';
  throw new Error(`${describeValue(x)} where a string was expected`);
}

/** String arrays: object (`|O`), fixed-width unicode (`<U n`, UTF-32) or bytes (`|S n`). */
export function ndToStrings(a: NdArray): string[] {
  const d = a.dtype;
  if (d.kind === 'O') {
    if (!Array.isArray(a.raw)) throw new Error('object array without items');
    return a.raw.map((x) => plainString(x));
  }
  if (d.kind !== 'U' && d.kind !== 'S') return ndToNumbers(a).map((x) => String(x));
  checkPayloadSize(a);
  if (d.itemsize <= 0) throw new Error(`string dtype ${d.str} has no width`);
  const bytes = collectBytes(a.raw);
  const out: string[] = [];
  const n = a.size;
  const isz = d.itemsize;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < n; i++) {
    let s = '';
    if (d.kind === 'U') {
      for (let o = i * isz; o < (i + 1) * isz; o += 4) {
        const cp = dv.getUint32(o, d.littleEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
    } else {
      let end = (i + 1) * isz;
      while (end > i * isz && bytes[end - 1] === 0) end--;
      s = new TextDecoder('latin1').decode(bytes.subarray(i * isz, end));
    }
    out.push(s);
  }
  return out;
}

function collectBytes(raw: RawPayload): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  const parts: Uint8Array[] = [];
  let len = 0;
  streamPayload(raw, (c) => {
    parts.push(c.slice());
    len += c.length;
  });
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Describe any decoded pickle value briefly (for error messages). */
export function describeValue(v: unknown): string {
  if (v instanceof NdArray) return `ndarray ${v.dtype?.str ?? '?'} shape (${v.shape.join(', ')}${v.shape.length === 1 ? ',' : ''})`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  if (v === null) return 'None';
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as { __module__?: string; __name__?: string } | null;
    if (proto && proto.__module__) return `object ${proto.__module__}.${proto.__name__}`;
    return 'dict';
  }
  return typeof v;
}
