// runtime/data/batches.ts — owns deterministic batching and seeded shuffling over in-memory splits or lazily-read (chunked) splits.
//
// Shuffle order for epoch e is `RandomState(mix(seed, e)).permutation(n)` with numpy's legacy
// MT19937 (mt19937.ts), so the same (seed, epoch) always gives the same batches on any machine.
// mix(seed, 0) = seed, so epoch 0 is exactly np.random.RandomState(seed).permutation(n).
import { DataError } from './errors.js';
import { MT19937 } from './mt19937.js';
import type { ModalityArrays } from './types.js';

/** Anything that can hand out rows by index (ModalityArrays are wrapped; ChunkedSplit implements it). */
export interface BatchSource {
  readonly n: number;
  gather(indices: ArrayLike<number>): ModalityArrays;
}

export interface Batch extends ModalityArrays {
  /** Row indices into the split, in batch order. */
  indices: Int32Array;
  /** Batch number within the epoch. */
  index: number;
}

export interface BatchOptions {
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Drop a final partial batch (default false). */
  dropLast?: boolean;
}

function rows(src: Float32Array, rowSize: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * rowSize);
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b]!;
    out.set(src.subarray(i * rowSize, (i + 1) * rowSize), b * rowSize);
  }
  return out;
}

function pick<T extends Uint8Array | Int32Array | Float32Array>(src: T, idx: ArrayLike<number>): T {
  const out = new (src.constructor as new (n: number) => T)(idx.length);
  for (let b = 0; b < idx.length; b++) out[b] = src[idx[b]!]!;
  return out;
}

/** Copy the given rows of an in-memory split into a new contiguous ModalityArrays. */
export function gatherRows(ds: ModalityArrays, idx: ArrayLike<number>): ModalityArrays {
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b]!;
    if (!(Number.isInteger(i) && i >= 0 && i < ds.n)) throw new DataError({ code: 'SMC6030', message: `row index ${i} out of range [0, ${ds.n})` });
  }
  const out: ModalityArrays = {
    text: rows(ds.text, ds.textShape[0] * ds.textShape[1], idx),
    vision: rows(ds.vision, ds.visionShape[0] * ds.visionShape[1], idx),
    audio: rows(ds.audio, ds.audioShape[0] * ds.audioShape[1], idx),
    labels: pick(ds.labels, idx),
    n: idx.length,
    textShape: ds.textShape,
    visionShape: ds.visionShape,
    audioShape: ds.audioShape,
    ids: Array.from(idx, (i) => ds.ids[i]!),
  };
  if (ds.missing) {
    out.missing = { vision: pick(ds.missing.vision, idx), audio: pick(ds.missing.audio, idx) };
    if (ds.missing.text) out.missing.text = pick(ds.missing.text, idx);
  }
  if (ds.missingKind) out.missingKind = { vision: pick(ds.missingKind.vision, idx), audio: pick(ds.missingKind.audio, idx) };
  if (ds.audioLengths) out.audioLengths = pick(ds.audioLengths, idx);
  if (ds.visionLengths) out.visionLengths = pick(ds.visionLengths, idx);
  if (ds.rawText) out.rawText = Array.from(idx, (i) => ds.rawText![i]!);
  if (ds.latent) out.latent = { text: pick(ds.latent.text, idx), vision: pick(ds.latent.vision, idx), audio: pick(ds.latent.audio, idx) };
  return out;
}

function isBatchSource(x: ModalityArrays | BatchSource): x is BatchSource {
  return typeof (x as BatchSource).gather === 'function';
}

/** Mix (seed, epoch) into one 32-bit seed; epoch 0 gives `seed` itself. */
export function epochSeed(seed: number, epoch: number): number {
  return (seed + Math.imul(epoch, 0x9e3779b1)) >>> 0;
}

/** The order rows are visited in, for one epoch. */
export function epochOrder(n: number, opts: BatchOptions = {}): Int32Array {
  if (!opts.shuffle) {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return a;
  }
  return new MT19937(epochSeed(opts.seed ?? 0, opts.epoch ?? 0)).permutation(n);
}

/** Number of batches an epoch yields. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Deterministic batches over a split. Each batch is a fresh contiguous copy of its rows. */
export function* iterateBatches(split: ModalityArrays | BatchSource, batchSize: number, opts: BatchOptions = {}): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError({ code: 'SMC6030', message: `batch size must be a positive integer, got ${batchSize}` });
  const n = split.n;
  const order = epochOrder(n, opts);
  const nb = batchCount(n, batchSize, opts.dropLast);
  for (let b = 0; b < nb; b++) {
    const idx = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
    const data = isBatchSource(split) ? split.gather(idx) : gatherRows(split, idx);
    yield { ...data, indices: Int32Array.from(idx), index: b };
  }
}
