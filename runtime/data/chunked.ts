// runtime/data/chunked.ts — owns the chunked on-disk dataset format: streaming conversion from an MMSA pickle (`smcirc data convert`) and lazy row reads for training.
//
// Why: MOSEI pickles exceed Node's 2 GiB `readFile` limit and, as float64, single arrays can exceed
// the 4 GiB typed-array limit (MOSEI unaligned train audio is ~4.8 GB). `convertPickleToChunked`
// parses the pickle through a file descriptor, leaves every large payload in the file, and streams
// each array in ~8 MiB pieces, casting to float32 (and audio -inf -> 0, as MMSA) while writing
// fixed-size chunk files. Peak memory is a few tens of MiB whatever the file size. Training then
// opens the directory with `openChunked` and reads only the rows of each batch (`gather`).
//
// Layout of <dir>:
//   manifest.json                 written last; its presence marks a complete conversion
//   <split>/text.00000.f32 ...    float32 little-endian, row-major [rows, T, d], `samplesPerChunk` rows per file
//   <split>/vision.*.f32, <split>/audio.*.f32
//   <split>/labels.f32            float32 [n]
//   <split>/ids.json              string[n]; raw_text.json when present
//   <split>/audio_lengths.i32, vision_lengths.i32   int32 [n], when present (unaligned files)
//
// Integrity: the manifest records the sha256 of every file it names (version 2); a file is checked once, when it is
// first read (a chunk on its first row read), so a zeroed or edited chunk is refused (SMC6021). Every name in the
// manifest must be a plain `<split>/<file>` inside the folder, a regular file, not a link (SMC6022).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchSource } from './batches.js';
import { DataError } from './errors.js';
import { inspectMmsa, nonFiniteError, type LoadMmsaOptions } from './mmsa.js';
import { ndStreamNumeric, withPickleFile } from './pickle.js';
import { SPLITS, type Dataset, type DatasetReport, type Modality, type ModalityArrays, type Split } from './types.js';

export const CHUNKED_FORMAT = 'smcirc-chunked';
export const CHUNKED_VERSION = 2;
const MODALITIES: readonly Modality[] = ['text', 'vision', 'audio'];

export interface ChunkedSplitManifest {
  n: number;
  samplesPerChunk: number;
  shapes: Record<Modality, [number, number]>;
  files: Record<Modality, string[]>;
  labels: string;
  ids: string;
  rawText?: string;
  audioLengths?: string;
  visionLengths?: string;
}

export interface ChunkedManifest {
  format: typeof CHUNKED_FORMAT;
  version: number;
  dtype: 'float32-le';
  source: { path: string; size: number; protocol?: number; numpyModules?: string[] };
  splits: Record<Split, ChunkedSplitManifest>;
  /** sha256 (hex) of every file the splits name, by its name (`train/text.00000.f32`). */
  sha256: Record<string, string>;
  report: DatasetReport;
}

export interface ConvertOptions extends LoadMmsaOptions {
  /** Upper bound on one chunk file (default 256 MiB). */
  maxChunkBytes?: number;
  /** Replace an existing converted directory (default false: refuse). */
  overwrite?: boolean;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes a float32 stream into fixed-size chunk files, hashing each as it goes. */
class ChunkWriter {
  private fd = -1;
  private inChunk = 0;
  private chunkIdx = 0;
  private hash = createHash('sha256');
  readonly files: string[] = [];
  constructor(private readonly dir: string, private readonly rel: string, private readonly elemsPerChunk: number, private readonly sums: Record<string, string>) {}
  write(values: Float32Array): void {
    let i = 0;
    while (i < values.length) {
      if (this.fd < 0 || this.inChunk === this.elemsPerChunk) this.next();
      const take = Math.min(values.length - i, this.elemsPerChunk - this.inChunk);
      const part = values.subarray(i, i + take);
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      writeAll(this.fd, bytes);
      this.hash.update(bytes);
      this.inChunk += take;
      i += take;
    }
  }
  private next(): void {
    this.finish();
    const name = `${this.rel}.${String(this.chunkIdx++).padStart(5, '0')}.f32`;
    this.files.push(name);
    this.fd = fs.openSync(path.join(this.dir, name), 'w');
    this.hash = createHash('sha256');
    this.inChunk = 0;
  }
  private finish(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    this.sums[this.files.at(-1)!] = this.hash.digest('hex');
  }
  close(): void {
    this.finish();
  }
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

import { makeDirs } from '../fs.js';
export { makeDirs };

/**
 * Convert an MMSA pickle into the chunked format under `dstDir`, streaming: memory use does not
 * grow with the file. Returns the manifest (also written to dstDir/manifest.json).
 */
export function convertPickleToChunked(src: string, dstDir: string, opts: ConvertOptions = {}): ChunkedManifest {
  const maxChunk = opts.maxChunkBytes ?? 256 << 20;
  const existing = path.join(dstDir, 'manifest.json');
  if (fs.existsSync(existing)) {
    if (!opts.overwrite) throw new DataError({ code: 'SMC6020', message: `${dstDir} already holds a converted dataset`, location: dstDir, hint: 'pass overwrite: true (CLI: --overwrite) or choose another directory' });
    let format: unknown;
    try {
      format = (JSON.parse(fs.readFileSync(existing, 'utf8')) as { format?: unknown }).format;
    } catch {
      format = undefined;
    }
    if (format !== CHUNKED_FORMAT) {
      throw new DataError({ code: 'SMC6020', message: `${dstDir} holds a manifest.json that is not a converted dataset's (a bundle?); --overwrite replaces converted datasets only`, location: existing, hint: 'choose another (new or empty) directory' });
    }
  }
  const srcSize = (() => {
    try {
      return fs.statSync(src).size;
    } catch (e) {
      throw new DataError({ code: 'SMC6001', message: `cannot open ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, location: src });
    }
  })();
  return withPickleFile(src, (parsed) => {
    let inspected: ReturnType<typeof inspectMmsa>;
    try {
      inspected = inspectMmsa(parsed, opts);
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError({ code: 'SMC6004', message: `unsupported content: ${(e as Error).message}`, location: src });
    }
    const { splits, report } = inspected;
    report.format = 'chunked';
    makeDirs(dstDir);
    fs.rmSync(path.join(dstDir, 'manifest.json'), { force: true });
    const out = {} as Record<Split, ChunkedSplitManifest>;
    const sums: Record<string, string> = {};
    for (const split of SPLITS) {
      const v = splits[split];
      makeDirs(path.join(dstDir, split));
      const shapes = { text: v.text.shape, vision: v.vision.shape, audio: v.audio.shape };
      const maxRow = Math.max(...MODALITIES.map((m) => shapes[m][0] * shapes[m][1] * 4));
      const spc = Math.max(1, Math.floor(maxChunk / maxRow));
      const files = {} as Record<Modality, string[]>;
      for (const m of MODALITIES) {
        const view = v[m];
        const w = new ChunkWriter(dstDir, `${split}/${m}`, spc * shapes[m][0] * shapes[m][1], sums);
        let ninf = 0;
        try {
          ndStreamNumeric(view.nd, 'f32', (vals, start) => {
            const f = vals as Float32Array;
            for (let i = 0; i < f.length; i++) {
              const x = f[i]!;
              if (m === 'audio' && x === -Infinity) {
                f[i] = 0;
                ninf++;
              } else if (!Number.isFinite(x)) throw nonFiniteError(src, view.keyPath, start + i, x, shapes[m], v.ids);
            }
            w.write(f);
          }, 1 << 21);
        } catch (e) {
          if (e instanceof DataError) throw e;
          throw new DataError({ code: 'SMC6002', message: `${view.keyPath}: cannot decode array payload: ${(e as Error).message}`, location: `${src}: ${view.keyPath}`, hint: 'the file is truncated or corrupt; download it again' });
        } finally {
          w.close();
        }
        if (m === 'audio') {
          report.negInfReplaced[split] = ninf;
          report.negInfReplaced.total += ninf;
        }
        if (v.n === 0) files[m] = [];
        else files[m] = w.files;
      }
      const rel = (f: string) => `${split}/${f}`;
      const put = (f: string, data: Uint8Array | string) => {
        fs.writeFileSync(path.join(dstDir, f), data);
        sums[f] = sha256(data);
      };
      const lab = v.labels;
      put(rel('labels.f32'), new Uint8Array(lab.buffer, lab.byteOffset, lab.byteLength));
      put(rel('ids.json'), JSON.stringify(v.ids));
      const sm: ChunkedSplitManifest = { n: v.n, samplesPerChunk: spc, shapes, files, labels: rel('labels.f32'), ids: rel('ids.json') };
      if (v.rawText) {
        put(rel('raw_text.json'), JSON.stringify(v.rawText));
        sm.rawText = rel('raw_text.json');
      }
      for (const [key, arr] of [['audioLengths', v.audioLengths], ['visionLengths', v.visionLengths]] as const) {
        if (!arr) continue;
        const f = rel(key === 'audioLengths' ? 'audio_lengths.i32' : 'vision_lengths.i32');
        put(f, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
        sm[key] = f;
      }
      out[split] = sm;
    }
    const manifest: ChunkedManifest = {
      format: CHUNKED_FORMAT,
      version: CHUNKED_VERSION,
      dtype: 'float32-le',
      source: { path: path.resolve(src), size: srcSize, protocol: report.protocol, numpyModules: report.numpyModules },
      splits: out,
      sha256: sums,
      report,
    };
    fs.writeFileSync(path.join(dstDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
    return manifest;
  }, { lazyThreshold: opts.lazyThreshold });
}

// ---------------------------------------------------------------------------------------------
// Reading

function chunkErr(dir: string, message: string, file?: string): DataError {
  return new DataError({
    code: 'SMC6020',
    message,
    location: file ? path.join(dir, file) : dir,
    hint: 'convert the pickle again: smcirc data convert --overwrite <pkl> <dir>',
  });
}

/** The names a manifest may use: `<split>/<plain file name>`, nothing that leaves the folder. */
const PLAIN_NAME = /^(train|valid|test)\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/;

/** Checks a name from the manifest and returns its path inside `dir`; refuses `../`, absolute paths, links and
 *  anything that is not a regular file (SMC6022). */
function safePath(dir: string, rel: unknown, what: string): string {
  if (typeof rel !== 'string' || !PLAIN_NAME.test(rel) || rel.includes('..')) {
    throw new DataError({
      code: 'SMC6022',
      message: `manifest.json names ${what} ${JSON.stringify(typeof rel === 'string' ? rel.slice(0, 120) : rel ?? null)}, which is not a plain <split>/<file> name inside the folder`,
      location: path.join(dir, 'manifest.json'),
      hint: 'a converted folder only refers to its own files; convert the pickle again instead of editing manifest.json',
    });
  }
  const p = path.join(dir, rel);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    throw chunkErr(dir, `missing file ${rel}`, rel);
  }
  if (!st.isFile()) {
    throw new DataError({ code: 'SMC6022', message: `${rel} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; a converted folder holds its files itself`, location: p, hint: 'convert the pickle again: smcirc data convert --overwrite <pkl> <dir>' });
  }
  return p;
}

function hashMismatch(dir: string, rel: string, want: string | undefined, got: string): DataError {
  return new DataError({
    code: 'SMC6021',
    message: want ? `${rel} does not match the sha256 manifest.json records (expected ${want.slice(0, 16)}…, found ${got.slice(0, 16)}…): the file was changed or damaged after conversion` : `manifest.json records no sha256 for ${rel}`,
    location: path.join(dir, rel),
    hint: 'convert the pickle again: smcirc data convert --overwrite <pkl> <dir>',
  });
}

/** A small file of the folder, read whole and checked against its recorded sha256. */
function readChecked(dir: string, rel: string, sums: Record<string, string>, what: string): Buffer {
  const p = safePath(dir, rel, what);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(p);
  } catch {
    throw chunkErr(dir, `cannot read ${rel}`, rel);
  }
  const got = sha256(buf);
  if (sums[rel] !== got) throw hashMismatch(dir, rel, sums[rel], got);
  return buf;
}

function readTyped<T extends Float32Array | Int32Array>(dir: string, rel: string, n: number, ctor: new (b: ArrayBuffer) => T, sums: Record<string, string>, what: string): T {
  const buf = readChecked(dir, rel, sums, what);
  if (buf.length !== n * 4) throw chunkErr(dir, `${rel} has ${buf.length} bytes, expected ${n * 4}`, rel);
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new ctor(ab);
}

function readStrings(dir: string, rel: string, n: number, sums: Record<string, string>, what: string): string[] {
  const buf = readChecked(dir, rel, sums, what);
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw chunkErr(dir, `${rel} is not valid JSON: ${(e as Error).message}`, rel);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw chunkErr(dir, `${rel} is not a JSON list of strings`, rel);
  if (v.length !== n) throw chunkErr(dir, `${rel} has ${v.length} entries, expected ${n}`, rel);
  return v as string[];
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The shape of one split's manifest entry, checked before anything is read or allocated from it. */
function checkSplitManifest(dir: string, split: Split, m: unknown): ChunkedSplitManifest {
  const bad = (what: string) => chunkErr(dir, `manifest.json: splits.${split}${what}`, 'manifest.json');
  if (typeof m !== 'object' || m === null) throw bad(' is not an object');
  const s = m as Record<string, unknown>;
  if (!isCount(s.n) || s.n > 2 ** 31) throw bad(`.n is ${JSON.stringify(s.n)}, not a whole number of rows`);
  if (!isCount(s.samplesPerChunk) || s.samplesPerChunk < 1) throw bad(`.samplesPerChunk is ${JSON.stringify(s.samplesPerChunk)}, not a positive whole number`);
  const shapes = s.shapes as Record<string, unknown> | undefined;
  const files = s.files as Record<string, unknown> | undefined;
  for (const mod of MODALITIES) {
    const sh = shapes?.[mod];
    if (!Array.isArray(sh) || sh.length !== 2 || !sh.every((d) => isCount(d) && d >= 1) || sh[0] * sh[1] > 2 ** 28) throw bad(`.shapes.${mod} is ${JSON.stringify(sh)}, not [T, d]`);
    if (!Array.isArray(files?.[mod])) throw bad(`.files.${mod} is not a list`);
  }
  for (const k of ['labels', 'ids'] as const) if (typeof s[k] !== 'string') throw bad(`.${k} is not a file name`);
  return m as ChunkedSplitManifest;
}

/** One split of a chunked dataset; rows are read from disk on demand, each chunk checked once on first use. */
export class ChunkedSplit implements BatchSource {
  readonly n: number;
  readonly textShape: [number, number];
  readonly visionShape: [number, number];
  readonly audioShape: [number, number];
  readonly labels: Float32Array;
  readonly ids: string[];
  readonly rawText?: string[];
  readonly audioLengths?: Int32Array;
  readonly visionLengths?: Int32Array;
  private readonly fds = new Map<string, number>();

  constructor(private readonly dir: string, private readonly m: ChunkedSplitManifest, private readonly sums: Record<string, string> = {}) {
    this.n = m.n;
    this.textShape = m.shapes.text;
    this.visionShape = m.shapes.vision;
    this.audioShape = m.shapes.audio;
    this.labels = readTyped(dir, m.labels, m.n, Float32Array, sums, 'labels');
    for (let i = 0; i < this.labels.length; i++) {
      if (!Number.isFinite(this.labels[i]!)) throw chunkErr(dir, `${m.labels}: label ${i} is ${this.labels[i]}`, m.labels);
    }
    this.ids = readStrings(dir, m.ids, m.n, sums, 'ids');
    if (m.rawText) this.rawText = readStrings(dir, m.rawText, m.n, sums, 'raw_text');
    if (m.audioLengths) this.audioLengths = readTyped(dir, m.audioLengths, m.n, Int32Array, sums, 'audio_lengths');
    if (m.visionLengths) this.visionLengths = readTyped(dir, m.visionLengths, m.n, Int32Array, sums, 'vision_lengths');
    for (const mod of MODALITIES) {
      const rowBytes = m.shapes[mod][0] * m.shapes[mod][1] * 4;
      const expectChunks = Math.ceil(m.n / m.samplesPerChunk);
      if (m.files[mod].length !== expectChunks) throw chunkErr(dir, `${mod} has ${m.files[mod].length} chunk files, expected ${expectChunks}`);
      m.files[mod].forEach((f, c) => {
        const rows = Math.min(m.samplesPerChunk, m.n - c * m.samplesPerChunk);
        const size = fs.statSync(safePath(dir, f, `a ${mod} chunk`)).size;
        if (size !== rows * rowBytes) throw chunkErr(dir, `${f} has ${size} bytes, expected ${rows * rowBytes} (${rows} rows)`, f);
        if (!sums[f]) throw hashMismatch(dir, f, undefined, '');
      });
    }
  }

  /** The open file of a chunk; on first use its whole content is hashed and compared with the manifest (once). */
  private fd(rel: string): number {
    let fd = this.fds.get(rel);
    if (fd === undefined) {
      fd = fs.openSync(safePath(this.dir, rel, 'a chunk'), 'r');
      try {
        const h = createHash('sha256');
        const buf = Buffer.allocUnsafe(8 << 20);
        for (let pos = 0; ; ) {
          const k = fs.readSync(fd, buf, 0, buf.length, pos);
          if (k === 0) break;
          h.update(buf.subarray(0, k));
          pos += k;
        }
        const got = h.digest('hex');
        if (got !== this.sums[rel]) throw hashMismatch(this.dir, rel, this.sums[rel], got);
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      this.fds.set(rel, fd);
    }
    return fd;
  }

  private readRows(mod: Modality, idx: ArrayLike<number>): Float32Array {
    const [T, d] = this.m.shapes[mod];
    const row = T * d;
    const out = new Float32Array(idx.length * row);
    const bytes = new Uint8Array(out.buffer);
    const spc = this.m.samplesPerChunk;
    let b = 0;
    while (b < idx.length) {
      const i = idx[b]!;
      const c = Math.floor(i / spc);
      // coalesce consecutive rows within one chunk into one read
      let run = 1;
      while (b + run < idx.length && idx[b + run] === i + run && Math.floor((i + run) / spc) === c) run++;
      const fd = this.fd(this.m.files[mod][c]!);
      const want = run * row * 4;
      let got = 0;
      while (got < want) {
        const k = fs.readSync(fd, bytes, b * row * 4 + got, want - got, (i - c * spc) * row * 4 + got);
        if (k === 0) throw chunkErr(this.dir, `short read in ${this.m.files[mod][c]}`, this.m.files[mod][c]);
        got += k;
      }
      b += run;
    }
    return out;
  }

  gather(idx: ArrayLike<number>): ModalityArrays {
    for (let b = 0; b < idx.length; b++) {
      const i = idx[b]!;
      if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new DataError({ code: 'SMC6030', message: `row index ${i} out of range [0, ${this.n})` });
    }
    const out: ModalityArrays = {
      text: this.readRows('text', idx),
      vision: this.readRows('vision', idx),
      audio: this.readRows('audio', idx),
      labels: Float32Array.from(idx, (i) => this.labels[i]!),
      n: idx.length,
      textShape: this.textShape,
      visionShape: this.visionShape,
      audioShape: this.audioShape,
      ids: Array.from(idx, (i) => this.ids[i]!),
    };
    if (this.audioLengths) out.audioLengths = Int32Array.from(idx, (i) => this.audioLengths![i]!);
    if (this.visionLengths) out.visionLengths = Int32Array.from(idx, (i) => this.visionLengths![i]!);
    if (this.rawText) out.rawText = Array.from(idx, (i) => this.rawText![i]!);
    return out;
  }

  /** Whole split in memory. */
  loadAll(): ModalityArrays {
    return this.gather(Int32Array.from({ length: this.n }, (_, i) => i));
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

export class ChunkedDataset {
  readonly train: ChunkedSplit;
  readonly valid: ChunkedSplit;
  readonly test: ChunkedSplit;
  constructor(readonly dir: string, readonly manifest: ChunkedManifest) {
    const sums = manifest.sha256 ?? {};
    this.train = new ChunkedSplit(dir, manifest.splits.train, sums);
    this.valid = new ChunkedSplit(dir, manifest.splits.valid, sums);
    this.test = new ChunkedSplit(dir, manifest.splits.test, sums);
  }
  get report(): DatasetReport {
    return this.manifest.report;
  }
  split(s: Split): ChunkedSplit {
    return this[s];
  }
  /** Everything in memory as a Dataset (fine for MOSI; MOSEI wants `split(s).gather`). */
  loadAll(): Dataset {
    return { train: this.train.loadAll(), valid: this.valid.loadAll(), test: this.test.loadAll(), report: this.manifest.report };
  }
  close(): void {
    for (const s of SPLITS) this[s].close();
  }
}

/** The largest manifest.json read (a converted MOSEI manifest is a few hundred KiB). */
const MAX_MANIFEST_BYTES = 64 << 20;

/** Open a directory written by convertPickleToChunked; validates the manifest, the names and sizes of its files, and
 *  the sha256 of the small ones (chunks are checked on first read). */
export function openChunked(dir: string): ChunkedDataset {
  const mp = path.join(dir, 'manifest.json');
  let manifest: ChunkedManifest;
  try {
    const st = fs.statSync(mp);
    if (!st.isFile()) throw chunkErr(dir, 'manifest.json is not a regular file', 'manifest.json');
    if (st.size > MAX_MANIFEST_BYTES) throw chunkErr(dir, `manifest.json is ${st.size} bytes, more than a converted folder's manifest can be`, 'manifest.json');
    manifest = JSON.parse(fs.readFileSync(mp, 'utf8')) as ChunkedManifest;
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw chunkErr(dir, code === 'ENOENT' ? `no manifest.json in ${dir} (not converted, or conversion did not finish)` : `manifest.json is unreadable: ${(e as Error).message}`, 'manifest.json');
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw chunkErr(dir, 'manifest.json is not an object', 'manifest.json');
  if (manifest.format !== CHUNKED_FORMAT || manifest.version !== CHUNKED_VERSION) {
    const old = manifest.format === CHUNKED_FORMAT && typeof manifest.version === 'number' && manifest.version < CHUNKED_VERSION;
    throw chunkErr(dir, `manifest.json is format ${String(manifest.format).slice(0, 40)} v${String(manifest.version).slice(0, 20)}, expected ${CHUNKED_FORMAT} v${CHUNKED_VERSION}${old ? ' (an older conversion, without checksums)' : ''}`, 'manifest.json');
  }
  if (typeof manifest.splits !== 'object' || manifest.splits === null) throw chunkErr(dir, 'manifest.json has no splits', 'manifest.json');
  for (const s of SPLITS) {
    if (!manifest.splits[s]) throw chunkErr(dir, `manifest.json lacks split ${s}`, 'manifest.json');
    checkSplitManifest(dir, s, manifest.splits[s]);
  }
  const sums = manifest.sha256 as unknown;
  if (typeof sums !== 'object' || sums === null || Array.isArray(sums) || !Object.values(sums).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw chunkErr(dir, 'manifest.json has no valid sha256 table', 'manifest.json');
  }
  const r = manifest.report as unknown as Record<string, unknown> | null;
  const obj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!obj(r) || !obj(r!.dtypes) || !obj(r!.negInfReplaced) || !obj(r!.nonFinite) || !Array.isArray(r!.warnings) || !(r!.warnings as unknown[]).every((w) => typeof w === 'string')) {
    throw chunkErr(dir, 'manifest.json has no valid load report', 'manifest.json');
  }
  return new ChunkedDataset(dir, manifest);
}
