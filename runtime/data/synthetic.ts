// runtime/data/synthetic.ts — owns the seeded MOSI-shaped synthetic dataset (the built-in default) with planted, recorded modality degradation.
//
// Generative model (all draws from numpy-legacy MT19937 streams, so a seed fixes everything):
//   World (seed only, shared by all splits): unit directions u_cls, u_txt in R^textDim,
//   u_vis in R^visionDim, u_aud in R^audioDim.
//   Per sample i: latent components z_t, z_v, z_a ~ N(0, 1) (independent, so every modality carries
//   information the others lack) and e ~ N(0, 1);
//     label y = clip(W_T z_t + W_V z_v + W_A z_a + W_E e, -3, 3)
//   with (W_T, W_V, W_A, W_E) = (1.2, 0.6, 0.45, 0.2): text strongest, label sd ~ 1.4 like MOSI.
//   Text [textLen, textDim]: N(0, 1) noise; token 0 (the CLS slot) += 2.5 z_t u_cls;
//     every token += 0.6 z_t u_txt (so the time mean carries it too).
//   Vision [visionLen, visionDim], audio [audioLen, audioDim]: N(0, 1) noise; every frame
//     += 0.6 z u, frames 0..9 get another += 0.9 z u (signal visible at early steps, which the
//     SMCIR head reads through fused time step 0).
//   Splits use independent streams, so changing nTrain does not change valid/test samples.
// Planted missingness (`missing: {rate, kinds}`): for vision and audio independently, each sample is
//   degraded with probability `rate` by one kind drawn uniformly from `kinds`:
//     'zero'  the whole modality becomes zeros;
//     'noise' the modality is replaced by N(0, 2^2) noise (no signal left);
//     'drop'  a random 50-90% of its frames (always frame 0, never all of them) are zeroed.
//   Labels are NOT changed (sentiment does not change when a sensor fails). Ground truth is in
//   `missing` (1 = degraded) and `missingKind` (DEGRADATION_CODES), so DMFD flags can be scored.
import { DataError } from './errors.js';
import { MT19937 } from './mt19937.js';
import { DEGRADATION_CODES, SPLITS, emptyReport, type Dataset, type ModalityArrays, type Split } from './types.js';

export type DegradationKind = 'zero' | 'noise' | 'drop';

export interface SyntheticOptions {
  seed: number;
  nTrain: number;
  nValid: number;
  nTest: number;
  textLen?: number;
  textDim?: number;
  visionLen?: number;
  visionDim?: number;
  audioLen?: number;
  audioDim?: number;
  missing?: { rate: number; kinds: DegradationKind[] };
  /** Text as BERT token ids instead of features: textShape [3, length] (ids, attention mask, segment ids). */
  textTokens?: { vocab: number; length: number };
}

/** bert-base-uncased's special ids (MMSA's token-level missingness writes [UNK] = 100). */
export const BERT_IDS = { pad: 0, unk: 100, cls: 101, sep: 102, firstWord: 103 } as const;

export const SYNTHETIC_WEIGHTS = { text: 1.2, vision: 0.6, audio: 0.45, noise: 0.2 } as const;
const CLS_GAIN = 2.5;
const SEQ_GAIN = 0.6;
const EARLY_GAIN = 0.9;
const EARLY_FRAMES = 10;

function unitDirection(rng: MT19937, d: number): Float32Array {
  const u = new Float32Array(d);
  let s = 0;
  for (let i = 0; i < d; i++) {
    const g = rng.gauss();
    u[i] = g;
    s += g * g;
  }
  const inv = 1 / Math.sqrt(s || 1);
  for (let i = 0; i < d; i++) u[i]! *= inv;
  return u;
}

function fillNoise(rng: MT19937, a: Float32Array, from: number, to: number, scale = 1): void {
  for (let k = from; k < to; k++) a[k] = scale * rng.gauss();
}

/** Stable per-split seed (splits are independent streams). */
function splitSeed(seed: number, split: Split): number {
  const k = SPLITS.indexOf(split) + 1;
  return (Math.imul(seed >>> 0, 2654435761) + Math.imul(k, 0x9e3779b1) + 12345) >>> 0;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DataError({ code: 'SMC6030', message: `synthetic option ${name} must be an integer >= ${min}, got ${v}` });
}

interface World {
  uCls: Float32Array;
  uTxt: Float32Array;
  uVis: Float32Array;
  uAud: Float32Array;
}

function makeSplit(o: Required<Omit<SyntheticOptions, 'missing'>> & Pick<SyntheticOptions, 'missing'>, world: World, split: Split, n: number): ModalityArrays {
  const rng = new MT19937(splitSeed(o.seed, split));
  const tS = o.textLen * o.textDim;
  const vS = o.visionLen * o.visionDim;
  const aS = o.audioLen * o.audioDim;
  const text = new Float32Array(n * tS);
  const vision = new Float32Array(n * vS);
  const audio = new Float32Array(n * aS);
  const labels = new Float32Array(n);
  const zt = new Float32Array(n);
  const zv = new Float32Array(n);
  const za = new Float32Array(n);
  const missing = { vision: new Uint8Array(n), audio: new Uint8Array(n) };
  const missingKind = { vision: new Uint8Array(n), audio: new Uint8Array(n) };
  const W = SYNTHETIC_WEIGHTS;

  const addSeq = (a: Float32Array, base: number, T: number, d: number, u: Float32Array, z: number) => {
    for (let t = 0; t < T; t++) {
      const g = SEQ_GAIN * z + (t < EARLY_FRAMES ? EARLY_GAIN * z : 0);
      const off = base + t * d;
      for (let j = 0; j < d; j++) a[off + j]! += g * u[j]!;
    }
  };

  for (let i = 0; i < n; i++) {
    const a = rng.gauss();
    const b = rng.gauss();
    const c = rng.gauss();
    const e = rng.gauss();
    zt[i] = a;
    zv[i] = b;
    za[i] = c;
    labels[i] = Math.max(-3, Math.min(3, W.text * a + W.vision * b + W.audio * c + W.noise * e));

    const tb = i * tS;
    fillNoise(rng, text, tb, tb + tS);
    for (let j = 0; j < o.textDim; j++) text[tb + j]! += CLS_GAIN * a * world.uCls[j]!;
    for (let t = 0; t < o.textLen; t++) {
      const off = tb + t * o.textDim;
      for (let j = 0; j < o.textDim; j++) text[off + j]! += SEQ_GAIN * a * world.uTxt[j]!;
    }
    const vb = i * vS;
    fillNoise(rng, vision, vb, vb + vS);
    addSeq(vision, vb, o.visionLen, o.visionDim, world.uVis, b);
    const ab = i * aS;
    fillNoise(rng, audio, ab, ab + aS);
    addSeq(audio, ab, o.audioLen, o.audioDim, world.uAud, c);
  }

  if (o.textTokens) makeTokens(rng, text, o.textTokens, zt, n);

  if (o.missing && o.missing.rate > 0) {
    const mrng = new MT19937((splitSeed(o.seed, split) ^ 0x5bd1e995) >>> 0);
    const kinds = o.missing.kinds;
    const degrade = (arr: Float32Array, T: number, d: number, i: number, m: Uint8Array, mk: Uint8Array) => {
      const hit = mrng.randomSample() < o.missing!.rate;
      const kind = kinds[Math.min(kinds.length - 1, Math.floor(mrng.randomSample() * kinds.length))]!;
      if (!hit) return;
      const base = i * T * d;
      m[i] = 1;
      mk[i] = DEGRADATION_CODES[kind];
      if (kind === 'zero') arr.fill(0, base, base + T * d);
      else if (kind === 'noise') fillNoise(mrng, arr, base, base + T * d, 2);
      else {
        const frac = 0.5 + 0.4 * mrng.randomSample();
        const drop = new Uint8Array(T);
        let kept = 0;
        for (let t = 0; t < T; t++) {
          drop[t] = t === 0 || mrng.randomSample() < frac ? 1 : 0;
          if (!drop[t]) kept++;
        }
        if (kept === 0 && T > 1) drop[1 + Math.floor(mrng.randomSample() * (T - 1))] = 0; // 'drop' keeps >= 1 frame
        for (let t = 0; t < T; t++) if (drop[t]) arr.fill(0, base + t * d, base + (t + 1) * d);
      }
    };
    for (let i = 0; i < n; i++) {
      degrade(vision, o.visionLen, o.visionDim, i, missing.vision, missingKind.vision);
      degrade(audio, o.audioLen, o.audioDim, i, missing.audio, missingKind.audio);
    }
  }

  const ids = Array.from({ length: n }, (_, i) => `syn_${split}_${i}`);
  const out: ModalityArrays = {
    text, vision, audio, labels, n,
    textShape: o.textTokens ? [3, o.textTokens.length] : [o.textLen, o.textDim], visionShape: [o.visionLen, o.visionDim], audioShape: [o.audioLen, o.audioDim],
    ids, latent: { text: zt, vision: zv, audio: za },
  };
  if (o.missing) {
    out.missing = missing;
    out.missingKind = missingKind;
  }
  return out;
}

/**
 * Token ids carrying the text latent: [CLS] w… [SEP] then padding, a length of 60–100% of L; each word is drawn
 * from the upper half of the word ids with probability sigmoid(2 z_t), else from the lower half, so the label is
 * readable from the words. Rows per sample: ids, attention mask, segment ids (all 0), as MMSA's `text_bert`.
 */
function makeTokens(rng: MT19937, text: Float32Array, t: { vocab: number; length: number }, zt: Float32Array, n: number): void {
  const L = t.length;
  const words = t.vocab - BERT_IDS.firstWord;
  const half = Math.floor(words / 2);
  for (let i = 0; i < n; i++) {
    const base = i * 3 * L;
    text.fill(0, base, base + 3 * L);
    const len = Math.max(2, Math.min(L, Math.round(L * (0.6 + 0.4 * rng.randomSample()))));
    const pPos = 1 / (1 + Math.exp(-2 * zt[i]!));
    for (let p = 0; p < len; p++) {
      let id: number;
      if (p === 0) id = BERT_IDS.cls;
      else if (p === len - 1) id = BERT_IDS.sep;
      else {
        const positive = rng.randomSample() < pPos;
        const k = Math.floor(rng.randomSample() * half);
        id = BERT_IDS.firstWord + (positive ? words - half + k : k);
      }
      text[base + p] = id;
      text[base + L + p] = 1;
    }
  }
}

/** Seeded MOSI-shaped dataset (defaults: text 50x768, vision 50x20, audio 50x5 as MOSI aligned). */
export function makeSyntheticDataset(opts: SyntheticOptions): Dataset {
  const o = {
    textLen: 50, textDim: 768, visionLen: 50, visionDim: 20, audioLen: 50, audioDim: 5,
    ...opts,
  } as Required<Omit<SyntheticOptions, 'missing'>> & Pick<SyntheticOptions, 'missing'>;
  if (o.textTokens) {
    // the features are drawn as usual (same streams) and then overwritten by the token rows
    o.textLen = 3;
    o.textDim = o.textTokens.length;
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new DataError({ code: 'SMC6030', message: `synthetic seed must be an integer in [0, 2^32 - 1], got ${o.seed}` });
  }
  checkInt('nTrain', o.nTrain, 0);
  checkInt('nValid', o.nValid, 0);
  checkInt('nTest', o.nTest, 0);
  for (const k of ['textLen', 'textDim', 'visionLen', 'visionDim', 'audioLen', 'audioDim'] as const) checkInt(k, o[k], 1);
  if (o.textTokens) {
    checkInt('textTokens.length', o.textTokens.length, 2);
    if (!Number.isInteger(o.textTokens.vocab) || o.textTokens.vocab < BERT_IDS.firstWord + 2) {
      throw new DataError({ code: 'SMC6030', message: `synthetic token ids need a vocabulary of at least ${BERT_IDS.firstWord + 2} (bert-base-uncased's special ids [UNK] = 100, [CLS] = 101, [SEP] = 102 come first), got ${o.textTokens.vocab}`, hint: 'raise the spec’s vocabulary size (data { text_vocab = … } and the embedding’s)' });
    }
  }
  if (o.missing) {
    if (!(o.missing.rate >= 0 && o.missing.rate <= 1)) throw new DataError({ code: 'SMC6030', message: `missing.rate must be in [0, 1], got ${o.missing.rate}` });
    if (o.missing.kinds.length === 0 || o.missing.kinds.some((k) => !(k in DEGRADATION_CODES) || k === ('none' as string))) {
      throw new DataError({ code: 'SMC6030', message: `missing.kinds must be a non-empty list of 'zero' | 'noise' | 'drop'` });
    }
  }
  const wr = new MT19937(o.seed);
  const world: World = {
    uCls: unitDirection(wr, o.textDim),
    uTxt: unitDirection(wr, o.textDim),
    uVis: unitDirection(wr, o.visionDim),
    uAud: unitDirection(wr, o.audioDim),
  };
  const report = emptyReport(`synthetic(seed=${o.seed})`, 'synthetic');
  const ds: Dataset = {
    train: makeSplit(o, world, 'train', o.nTrain),
    valid: makeSplit(o, world, 'valid', o.nValid),
    test: makeSplit(o, world, 'test', o.nTest),
    report,
  };
  for (const s of SPLITS) {
    report.dtypes[`${s}.text`] = '<f4';
    report.dtypes[`${s}.vision`] = '<f4';
    report.dtypes[`${s}.audio`] = '<f4';
  }
  return ds;
}
