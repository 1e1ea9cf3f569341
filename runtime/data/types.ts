// runtime/data/types.ts — owns the Dataset / ModalityArrays types shared by loaders, generator, protocols and batching.

export type Split = 'train' | 'valid' | 'test';
export const SPLITS: readonly Split[] = ['train', 'valid', 'test'] as const;

export type Modality = 'text' | 'vision' | 'audio';

/**
 * One split, row-major: `text` is [n, T, d] with [T, d] = textShape, same for vision/audio.
 * `missing` is ground-truth planted missingness (1 = removed or degraded), per sample.
 */
export interface ModalityArrays {
  text: Float32Array;
  vision: Float32Array;
  audio: Float32Array;
  labels: Float32Array;
  n: number;
  textShape: [number, number];
  visionShape: [number, number];
  audioShape: [number, number];
  ids: string[];
  missing?: { vision: Uint8Array; audio: Uint8Array; text?: Uint8Array };
  /** Valid frame counts (MMSA unaligned files only). */
  audioLengths?: Int32Array;
  visionLengths?: Int32Array;
  /** Transcripts, when the source has them. */
  rawText?: string[];
  /** Synthetic data only: how each sample's modality was degraded (see DEGRADATION_CODES). */
  missingKind?: { vision: Uint8Array; audio: Uint8Array };
  /** Synthetic data only: the per-sample latent sentiment components the label was built from. */
  latent?: { text: Float32Array; vision: Float32Array; audio: Float32Array };
}

/** Codes used in `missingKind`: 0 intact, 1 zeroed, 2 replaced by noise, 3 frames dropped. */
export const DEGRADATION_CODES = { none: 0, zero: 1, noise: 2, drop: 3 } as const;

export interface DatasetReport {
  source: string;
  format: 'mmsa-pickle' | 'synthetic' | 'chunked';
  /** Pickle protocol, when read from a pickle. */
  protocol?: number;
  /** numpy module spelling seen (`numpy.core` = numpy 1.x writer, `numpy._core` = numpy 2.x). */
  numpyModules?: string[];
  /** dtype string per key path, e.g. `train.audio: '<f8'`. */
  dtypes: Record<string, string>;
  /** -inf values in audio replaced by 0 (as MMSA does), per split and total. */
  negInfReplaced: Record<Split, number> & { total: number };
  /** NaN / +inf / -inf (outside audio) left in features, per key path; not modified. */
  nonFinite: Record<string, number>;
  warnings: string[];
  textKey?: string;
}

export type Dataset = Record<Split, ModalityArrays> & { report: DatasetReport };

export function emptyReport(source: string, format: DatasetReport['format']): DatasetReport {
  return {
    source,
    format,
    dtypes: {},
    negInfReplaced: { train: 0, valid: 0, test: 0, total: 0 },
    nonFinite: {},
    warnings: [],
  };
}

/** Per-sample element count of a modality. */
export function sampleSize(shape: [number, number]): number {
  return shape[0] * shape[1];
}
