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
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchSource } from './batches.js';
import { DataError } from './errors.js';
import { inspectMmsa, type LoadMmsaOptions } from './mmsa.js';
import { ndStreamNumeric, withPickleFile } from './pickle.js';
import { SPLITS, type Dataset, type DatasetReport, type Modality, type ModalityArrays, type Split } from './types.js';

export const CHUNKED_FORMAT = 'smcirc-chunked';
export const CHUNKED_VERSION = 1;
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

/** Writes a float32 stream into fixed-size chunk files. */
class ChunkWriter {
  private fd = -1;
  private inChunk = 0;
  private chunkIdx = 0;
  readonly files: string[] = [];
  constructor(private readonly dir: string, private readonly rel: string, private readonly elemsPerChunk: number) {}
  write(values: Float32Array): void {
    let i = 0;
    while (i < values.length) {
      if (this.fd < 0 || this.inChunk === this.elemsPerChunk) this.next();
      const take = Math.min(values.length - i, this.elemsPerChunk - this.inChunk);
      const part = values.subarray(i, i + take);
      writeAll(this.fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      this.inChunk += take;
      i += take;
    }
  }
  private next(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    const name = `${this.rel}.${String(this.chunkIdx++).padStart(5, '0')}.f32`;
    this.files.push(name);
    this.fd = fs.openSync(path.join(this.dir, name), 'w');
    this.inChunk = 0;
  }
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Convert an MMSA pickle into the chunked format under `dstDir`, streaming: memory use does not
 * grow with the file. Returns the manifest (also written to dstDir/manifest.json).
 */
export function convertPickleToChunked(src: string, dstDir: string, opts: ConvertOptions = {}): ChunkedManifest {
  const maxChunk = opts.maxChunkBytes ?? 256 << 20;
  if (fs.existsSync(path.join(dstDir, 'manifest.json')) && !opts.overwrite) {
    throw new DataError({ code: 'SMC6020', message: `${dstDir} already holds a converted dataset`, location: dstDir, hint: 'pass overwrite: true (CLI: --force) or choose another directory' });
  }
  const srcSize = (() => {
    try {
      return fs.statSync(src).size;
    } catch (e) {
      throw new DataError({ code: 'SMC6001', message: `cannot open ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, location: src });
    }
  })();
  return withPickleFile(src, (parsed) => {
    const { splits, report } = inspectMmsa(parsed, opts);
    report.format = 'chunked';
    fs.mkdirSync(dstDir, { recursive: true });
    fs.rmSync(path.join(dstDir, 'manifest.json'), { force: true });
    const out = {} as Record<Split, ChunkedSplitManifest>;
    for (const split of SPLITS) {
      const v = splits[split];
      fs.mkdirSync(path.join(dstDir, split), { recursive: true });
      const shapes = { text: v.text.shape, vision: v.vision.shape, audio: v.audio.shape };
      const maxRow = Math.max(...MODALITIES.map((m) => shapes[m][0] * shapes[m][1] * 4));
      const spc = Math.max(1, Math.floor(maxChunk / maxRow));
      const files = {} as Record<Modality, string[]>;
      for (const m of MODALITIES) {
        const view = v[m];
        const w = new ChunkWriter(dstDir, `${split}/${m}`, spc * shapes[m][0] * shapes[m][1]);
        let ninf = 0;
        let nonFinite = 0;
        try {
          ndStreamNumeric(view.nd, 'f32', (vals) => {
            const f = vals as Float32Array;
            for (let i = 0; i < f.length; i++) {
              const x = f[i]!;
              if (m === 'audio' && x === -Infinity) {
                f[i] = 0;
                ninf++;
              } else if (!Number.isFinite(x)) nonFinite++;
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
        if (nonFinite) {
          report.nonFinite[view.keyPath] = nonFinite;
          report.warnings.push(`${view.keyPath}: ${nonFinite} non-finite value(s) (NaN/inf) left unchanged`);
        }
        if (v.n === 0) files[m] = [];
        else files[m] = w.files;
      }
      const rel = (f: string) => `${split}/${f}`;
      const lab = v.labels;
      fs.writeFileSync(path.join(dstDir, rel('labels.f32')), new Uint8Array(lab.buffer, lab.byteOffset, lab.byteLength));
      fs.writeFileSync(path.join(dstDir, rel('ids.json')), JSON.stringify(v.ids));
      const sm: ChunkedSplitManifest = { n: v.n, samplesPerChunk: spc, shapes, files, labels: rel('labels.f32'), ids: rel('ids.json') };
      if (v.rawText) {
        fs.writeFileSync(path.join(dstDir, rel('raw_text.json')), JSON.stringify(v.rawText));
        sm.rawText = rel('raw_text.json');
      }
      for (const [key, arr] of [['audioLengths', v.audioLengths], ['visionLengths', v.visionLengths]] as const) {
        if (!arr) continue;
        const f = rel(key === 'audioLengths' ? 'audio_lengths.i32' : 'vision_lengths.i32');
        fs.writeFileSync(path.join(dstDir, f), new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
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
    hint: 'convert the pickle again: convertPickleToChunked(src, dir) (CLI: smcirc data convert <pkl> <dir>)',
  });
}

function readTyped<T extends Float32Array | Int32Array>(dir: string, rel: string, n: number, ctor: new (b: ArrayBuffer) => T): T {
  const p = path.join(dir, rel);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(p);
  } catch {
    throw chunkErr(dir, `missing file ${rel}`, rel);
  }
  if (buf.length !== n * 4) throw chunkErr(dir, `${rel} has ${buf.length} bytes, expected ${n * 4}`, rel);
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  return new ctor(ab);
}

/** One split of a chunked dataset; rows are read from disk on demand. */
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

  constructor(private readonly dir: string, private readonly m: ChunkedSplitManifest) {
    this.n = m.n;
    this.textShape = m.shapes.text;
    this.visionShape = m.shapes.vision;
    this.audioShape = m.shapes.audio;
    this.labels = readTyped(dir, m.labels, m.n, Float32Array);
    this.ids = JSON.parse(fs.readFileSync(path.join(dir, m.ids), 'utf8')) as string[];
    if (this.ids.length !== m.n) throw chunkErr(dir, `${m.ids} has ${this.ids.length} ids, expected ${m.n}`, m.ids);
    if (m.rawText) this.rawText = JSON.parse(fs.readFileSync(path.join(dir, m.rawText), 'utf8')) as string[];
    if (m.audioLengths) this.audioLengths = readTyped(dir, m.audioLengths, m.n, Int32Array);
    if (m.visionLengths) this.visionLengths = readTyped(dir, m.visionLengths, m.n, Int32Array);
    for (const mod of MODALITIES) {
      const rowBytes = m.shapes[mod][0] * m.shapes[mod][1] * 4;
      const expectChunks = Math.ceil(m.n / m.samplesPerChunk);
      if (m.files[mod].length !== expectChunks) throw chunkErr(dir, `${mod} has ${m.files[mod].length} chunk files, expected ${expectChunks}`);
      m.files[mod].forEach((f, c) => {
        const rows = Math.min(m.samplesPerChunk, m.n - c * m.samplesPerChunk);
        let size: number;
        try {
          size = fs.statSync(path.join(dir, f)).size;
        } catch {
          throw chunkErr(dir, `missing chunk file ${f}`, f);
        }
        if (size !== rows * rowBytes) throw chunkErr(dir, `${f} has ${size} bytes, expected ${rows * rowBytes} (${rows} rows)`, f);
      });
    }
  }

  private fd(rel: string): number {
    let fd = this.fds.get(rel);
    if (fd === undefined) {
      fd = fs.openSync(path.join(this.dir, rel), 'r');
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
    this.train = new ChunkedSplit(dir, manifest.splits.train);
    this.valid = new ChunkedSplit(dir, manifest.splits.valid);
    this.test = new ChunkedSplit(dir, manifest.splits.test);
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

/** Open a directory written by convertPickleToChunked; validates the manifest and file sizes. */
export function openChunked(dir: string): ChunkedDataset {
  const mp = path.join(dir, 'manifest.json');
  let manifest: ChunkedManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(mp, 'utf8')) as ChunkedManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw chunkErr(dir, code === 'ENOENT' ? `no manifest.json in ${dir} (not converted, or conversion did not finish)` : `manifest.json is unreadable: ${(e as Error).message}`, 'manifest.json');
  }
  if (manifest.format !== CHUNKED_FORMAT || manifest.version !== CHUNKED_VERSION) {
    throw chunkErr(dir, `manifest.json is format ${manifest.format} v${manifest.version}, expected ${CHUNKED_FORMAT} v${CHUNKED_VERSION}`, 'manifest.json');
  }
  for (const s of SPLITS) if (!manifest.splits?.[s]) throw chunkErr(dir, `manifest.json lacks split ${s}`, 'manifest.json');
  return new ChunkedDataset(dir, manifest);
}
