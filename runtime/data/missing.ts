// runtime/data/missing.ts — owns missing-modality test protocols: whole-modality conditions ({L},{V},{A},{L,V},{L,A},{V,A},{L,V,A}) by zeroing, and TFR-Net/MMSA frame-level masks (numpy legacy MT19937, bit-exact).
//
// Whole-modality conditions (MMIN / GCNet style): the condition lists the *available* modalities;
// the others are replaced by zeros. `mode: 'whole'` applies the condition to every sample;
// `mode: 'mixed'` applies it to a seeded random subset of samples (rate `p`, default 0.5) so
// complete and incomplete samples are mixed inside each batch. `applyConditionMix` draws one
// condition per sample from a list (MPLMM-style mixes).
//
// Frame-level missing (TFR-Net `generate_m`, shared by MMSA and EMT-DLFR):
//   np.random.seed(seed); missing_mask = (np.random.uniform(size=(N, L)) > rate) * input_mask
// audio/vision: input_mask = first `length` frames; dropped frames are multiplied by 0.
// text (BERT ids): input_len = argmin(attention_mask) (0 for full-length rows, a quirk we keep),
// positions 0 and input_len-1 are forced to 1, dropped ids become 100 ([UNK]).
// Default seeds (111, 1111, 11111) for (text, audio, vision) as in TFR-Net / EMT-DLFR.
import { DataError } from './errors.js';
import { MT19937 } from './mt19937.js';
import type { ModalityArrays } from './types.js';

export type Condition = 'L' | 'V' | 'A' | 'LV' | 'LA' | 'VA' | 'LVA';
export const CONDITIONS: readonly Condition[] = ['L', 'A', 'V', 'LA', 'LV', 'VA', 'LVA'];

/** Normalise spellings like 'AV', 'VAL', '{L,V}' to a canonical Condition. */
export function parseCondition(s: string): Condition {
  const letters = new Set(s.toUpperCase().replace(/[^LVA]/g, '').split(''));
  const c = (['L', 'V', 'A'] as const).filter((m) => letters.has(m)).join('');
  const canon = c === 'VA' || c === 'LVA' || c === 'LV' || c === 'LA' || c === 'L' || c === 'V' || c === 'A' ? (c as Condition) : undefined;
  if (!canon || s.toUpperCase().replace(/[^A-Z]/g, '').replace(/[LVA]/g, '') !== '') {
    throw new DataError({ code: 'SMC6030', message: `unknown modality condition '${s}'`, hint: `use one of ${CONDITIONS.join(', ')} (available modalities)` });
  }
  return canon;
}

export function conditionKeeps(cond: Condition): { text: boolean; vision: boolean; audio: boolean } {
  return { text: cond.includes('L'), vision: cond.includes('V'), audio: cond.includes('A') };
}

function cloneArrays(ds: ModalityArrays): ModalityArrays {
  const out: ModalityArrays = {
    ...ds,
    text: ds.text.slice(),
    vision: ds.vision.slice(),
    audio: ds.audio.slice(),
    labels: ds.labels.slice(),
    ids: ds.ids.slice(),
    missing: {
      vision: ds.missing?.vision.slice() ?? new Uint8Array(ds.n),
      audio: ds.missing?.audio.slice() ?? new Uint8Array(ds.n),
      text: ds.missing?.text?.slice() ?? new Uint8Array(ds.n),
    },
  };
  return out;
}

function zeroSample(a: Float32Array, shape: [number, number], i: number): void {
  const s = shape[0] * shape[1];
  a.fill(0, i * s, (i + 1) * s);
}

function applyToSample(out: ModalityArrays, i: number, cond: Condition): void {
  const keep = conditionKeeps(cond);
  const m = out.missing!;
  if (!keep.text) {
    zeroSample(out.text, out.textShape, i);
    m.text![i] = 1;
  }
  if (!keep.vision) {
    zeroSample(out.vision, out.visionShape, i);
    m.vision[i] = 1;
  }
  if (!keep.audio) {
    zeroSample(out.audio, out.audioShape, i);
    m.audio[i] = 1;
  }
}

export interface ConditionResult extends ModalityArrays {
  /** Condition applied to each sample ('LVA' = untouched). */
  conditions: Condition[];
}

/**
 * Zero the modalities that `cond` does not list. Returns a copy; `missing` records (OR-ed with any
 * existing ground truth) which samples lost which modality.
 */
export function applyCondition(
  ds: ModalityArrays,
  cond: Condition | string,
  mode: 'whole' | 'mixed' = 'whole',
  seed = 0,
  opts: { p?: number } = {},
): ConditionResult {
  const c = parseCondition(cond);
  const out = cloneArrays(ds) as ConditionResult;
  out.conditions = new Array<Condition>(ds.n).fill('LVA');
  const p = opts.p ?? 0.5;
  if (mode === 'mixed' && !(p >= 0 && p <= 1)) throw new DataError({ code: 'SMC6030', message: `mixed-condition probability must be in [0, 1], got ${p}` });
  const rng = new MT19937(seed >>> 0);
  for (let i = 0; i < ds.n; i++) {
    const hit = mode === 'whole' ? true : rng.randomSample() < p;
    if (hit) {
      applyToSample(out, i, c);
      out.conditions[i] = c;
    }
  }
  return out;
}

/** Each sample gets one condition drawn uniformly (or by `weights`) from `conds`. */
export function applyConditionMix(ds: ModalityArrays, conds: (Condition | string)[], seed = 0, weights?: number[]): ConditionResult {
  if (conds.length === 0) throw new DataError({ code: 'SMC6030', message: 'applyConditionMix needs at least one condition' });
  const cs = conds.map(parseCondition);
  const w = weights ?? cs.map(() => 1);
  if (w.length !== cs.length || w.some((x) => !(x >= 0))) throw new DataError({ code: 'SMC6030', message: 'weights must be non-negative, one per condition' });
  const total = w.reduce((a, b) => a + b, 0);
  const out = cloneArrays(ds) as ConditionResult;
  out.conditions = new Array<Condition>(ds.n).fill('LVA');
  const rng = new MT19937(seed >>> 0);
  for (let i = 0; i < ds.n; i++) {
    let u = rng.randomSample() * total;
    let k = 0;
    while (k < cs.length - 1 && u >= w[k]!) u -= w[k++]!;
    applyToSample(out, i, cs[k]!);
    out.conditions[i] = cs[k]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frame-level masks (TFR-Net / MMSA generate_m)

export interface FrameMaskOptions {
  n: number;
  /** Sequence length L (frames per sample). */
  T: number;
  /** Valid frames per sample; default all T. */
  lengths?: ArrayLike<number>;
  rate: number;
  seed: number;
}

export interface FrameMask {
  /** MMSA `missing_mask`: 1 = frame kept, 0 = dropped or padding. Row-major [n, T]. */
  missingMask: Uint8Array;
  /** MMSA `input_mask`: 1 for the first `length` frames. */
  inputMask: Uint8Array;
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new DataError({ code: 'SMC6030', message: `missing rate must be in [0, 1], got ${rate}` });
}

/** audio/vision mask exactly as generate_m(mode='audio'|'vision'). */
export function frameMissingMask(o: FrameMaskOptions): FrameMask {
  checkRate(o.rate);
  const { n, T } = o;
  const inputMask = new Uint8Array(n * T);
  for (let i = 0; i < n; i++) {
    const len = o.lengths ? o.lengths[i]! : T;
    if (!(len >= 0 && len <= T)) throw new DataError({ code: 'SMC6030', message: `length ${len} of sample ${i} is outside [0, ${T}]` });
    inputMask.fill(1, i * T, i * T + len);
  }
  const rng = new MT19937(o.seed);
  const missingMask = new Uint8Array(n * T);
  for (let k = 0; k < n * T; k++) missingMask[k] = rng.randomSample() > o.rate && inputMask[k] ? 1 : 0;
  return { missingMask, inputMask };
}

export interface TextMask {
  missingMask: Uint8Array;
  /** argmin(attention_mask) per row, as TFR-Net computes it (0 for full-length rows). */
  inputLen: Int32Array;
}

/** text mask exactly as generate_m(mode='text') on an attention mask [n, L]. */
export function textMissingMask(attentionMask: ArrayLike<number>, n: number, L: number, rate: number, seed: number): TextMask {
  checkRate(rate);
  const inputLen = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let t = 1; t < L; t++) if (attentionMask[i * L + t]! < attentionMask[i * L + best]!) best = t;
    inputLen[i] = best;
  }
  const rng = new MT19937(seed);
  const missingMask = new Uint8Array(n * L);
  for (let k = 0; k < n * L; k++) missingMask[k] = rng.randomSample() > rate && attentionMask[k]! ? 1 : 0;
  for (let i = 0; i < n; i++) {
    missingMask[i * L] = 1;
    const last = inputLen[i]! - 1; // python index -1 = last position
    missingMask[i * L + (last < 0 ? L + last : last)] = 1;
  }
  return { missingMask, inputLen };
}

/** text_m = missing_mask * ids + 100 * (input_mask - missing_mask)  ([UNK] = 100). */
export function applyTextTokenMissing(ids: ArrayLike<number>, attentionMask: ArrayLike<number>, n: number, L: number, rate: number, seed: number): { ids: Float32Array; mask: TextMask } {
  const mask = textMissingMask(attentionMask, n, L, rate, seed);
  const out = new Float32Array(n * L);
  for (let k = 0; k < n * L; k++) out[k] = mask.missingMask[k]! * ids[k]! + 100 * (attentionMask[k]! - mask.missingMask[k]!);
  return { ids: out, mask };
}

export interface FrameMissingOptions {
  /** One rate for all, or [text, audio, vision]. */
  rate: number | [number, number, number];
  /** [text, audio, vision]; default TFR-Net's (111, 1111, 11111). */
  seeds?: [number, number, number];
  /**
   * How text *features* are treated: 'zero' drops token frames like audio/vision but always keeps
   * position 0 and the last valid position (CLS/SEP, as generate_m does for ids); 'keep' leaves text
   * untouched. Rows of the text feature that are all zero count as padding. 'tokens': the text holds BERT ids
   * [3, L] (ids, attention mask, segment ids) and dropped tokens become [UNK] = 100 (TFR-Net's generate_m).
   */
  text?: 'zero' | 'keep' | 'tokens';
  /**
   * Valid lengths per sample; default `audioLengths`/`visionLengths` of the split, else full T.
   * For aligned MMSA data pass the text attention-mask sums, as MMSA does.
   */
  lengths?: { audio?: ArrayLike<number>; vision?: ArrayLike<number> };
}

export interface FrameMissingResult extends ModalityArrays {
  masks: { text?: Uint8Array; audio: Uint8Array; vision: Uint8Array };
}

function zeroFrames(a: Float32Array, shape: [number, number], keep: Uint8Array, n: number): void {
  const [T, d] = shape;
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) if (!keep[i * T + t]) a.fill(0, (i * T + t) * d, (i * T + t + 1) * d);
}

/**
 * Frame-level missing at rate r per TFR-Net/MMSA: masks drawn with the same seeds, dropped frames
 * zeroed, lengths unchanged. `missing` marks samples that lost at least one valid frame.
 */
export function applyFrameMissing(ds: ModalityArrays, o: FrameMissingOptions): FrameMissingResult {
  const rates = typeof o.rate === 'number' ? [o.rate, o.rate, o.rate] : o.rate;
  const seeds = o.seeds ?? [111, 1111, 11111];
  const out = cloneArrays(ds) as FrameMissingResult;
  const a = frameMissingMask({ n: ds.n, T: ds.audioShape[0], lengths: o.lengths?.audio ?? ds.audioLengths, rate: rates[1]!, seed: seeds[1] });
  const v = frameMissingMask({ n: ds.n, T: ds.visionShape[0], lengths: o.lengths?.vision ?? ds.visionLengths, rate: rates[2]!, seed: seeds[2] });
  zeroFrames(out.audio, ds.audioShape, a.missingMask, ds.n);
  zeroFrames(out.vision, ds.visionShape, v.missingMask, ds.n);
  out.masks = { audio: a.missingMask, vision: v.missingMask };
  const mark = (dst: Uint8Array, m: FrameMask, T: number) => {
    for (let i = 0; i < ds.n; i++) {
      for (let t = 0; t < T; t++) {
        const k = i * T + t;
        if (m.inputMask[k] && !m.missingMask[k]) {
          dst[i] = 1;
          break;
        }
      }
    }
  };
  mark(out.missing!.audio, a, ds.audioShape[0]);
  mark(out.missing!.vision, v, ds.visionShape[0]);
  if (o.text === 'tokens') {
    const L = ds.textShape[1];
    const ids = new Float32Array(ds.n * L);
    const att = new Float32Array(ds.n * L);
    for (let i = 0; i < ds.n; i++) {
      ids.set(ds.text.subarray(i * 3 * L, i * 3 * L + L), i * L);
      att.set(ds.text.subarray(i * 3 * L + L, i * 3 * L + 2 * L), i * L);
    }
    const r = applyTextTokenMissing(ids, att, ds.n, L, rates[0]!, seeds[0]);
    for (let i = 0; i < ds.n; i++) {
      out.text.set(r.ids.subarray(i * L, (i + 1) * L), i * 3 * L);
      for (let t = 0; t < L; t++) if (att[i * L + t] && !r.mask.missingMask[i * L + t]) out.missing!.text![i] = 1;
    }
    out.masks.text = r.mask.missingMask;
  } else if ((o.text ?? 'zero') === 'zero') {
    const [T, d] = ds.textShape;
    const att = new Uint8Array(ds.n * T);
    for (let i = 0; i < ds.n; i++) {
      for (let t = 0; t < T; t++) {
        const base = (i * T + t) * d;
        let nz = 0;
        for (let j = 0; j < d; j++) if (ds.text[base + j] !== 0) { nz = 1; break; }
        att[i * T + t] = nz;
      }
    }
    // A full-length row would hit argmin's quirk (input_len 0); for features we use the real length.
    const rng = new MT19937(seeds[0]);
    const keep = new Uint8Array(ds.n * T);
    for (let k = 0; k < ds.n * T; k++) keep[k] = rng.randomSample() > rates[0]! && att[k] ? 1 : 0;
    for (let i = 0; i < ds.n; i++) {
      let len = 0;
      for (let t = 0; t < T; t++) if (att[i * T + t]) len = t + 1;
      keep[i * T] = 1;
      if (len > 0) keep[i * T + len - 1] = 1;
      for (let t = 0; t < T; t++) if (att[i * T + t] && !keep[i * T + t]) out.missing!.text![i] = 1;
    }
    zeroFrames(out.text, ds.textShape, keep, ds.n);
    out.masks.text = keep;
  }
  return out;
}
