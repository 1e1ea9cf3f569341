// runtime/data/mmsa.ts — owns loading MMSA feature pickles (aligned_50.pkl / unaligned_50.pkl for MOSI, MOSEI, SIMS) into a validated Dataset.
//
// Layout read: {train|valid|test: {id, raw_text, text, text_bert, audio, vision, [audio_lengths,
// vision_lengths], annotations, classification_labels, regression_labels}} (MMSA data_loader.py).
// Like MMSA: every feature array is cast to float32, `audio == -inf` is set to 0 (counted in
// `report.negInfReplaced`), labels come from `regression_labels`. Unlike MMSA, any other NaN/inf in
// labels or features (every split) is refused when loading, naming split, row and key (SMC6017).
// Files of any size are read through a file descriptor (pickle.ts), so the 2 GiB `readFile` limit
// does not apply; each split/modality must still fit one Float32Array (< 4 GiB) and all of them
// must fit in memory. For MOSEI, convert once with `convertPickleToChunked` (chunked.ts) and
// read lazily instead; see examples/mosi/README.md.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors.js';
import {
  NdArray, NotANumber, describeValue, isNdArray, isNumericDtype, ndToFloat32, ndToNumbers, ndToStrings, plainNumber, plainString, statRegularFile, withPickleFile,
  type ParsedPickle,
} from './pickle.js';
import { SPLITS, emptyReport, type Dataset, type DatasetReport, type ModalityArrays, type Split } from './types.js';

export type MmsaTextKey = 'text' | 'text_bert';

export interface LoadMmsaOptions {
  /** Which key feeds `text`: BERT features `text` (default) or token ids `text_bert` (N,3,L), cast to float32 as MMSA does. */
  textKey?: MmsaTextKey | (string & {});
  /**
   * Pickle key per role, as a spec's `data { text = "text" ... label = "regression_labels" }` block
   * gives them (compiler DataSettings.keys). Overrides textKey/labelKey.
   */
  keys?: { text?: string; vision?: string; audio?: string; label?: string };
  /** Per-sample shapes the spec's inputs expect, [T, d]. Mismatch -> DataError SMC6013. */
  expect?: { text?: [number, number]; vision?: [number, number]; audio?: [number, number] };
  /** Label key; default `regression_labels`. */
  labelKey?: string;
  /** Keep `raw_text` transcripts (default true). */
  keepRawText?: boolean;
  /** Verify the file's SHA-256 (hex) before parsing. */
  sha256?: string;
  /** Payloads above this many bytes are read lazily from the file (default 1 MiB). */
  lazyThreshold?: number;
}

/** SHA-256 values published in the MMSA README. */
export const MMSA_SHA256: Record<string, string> = {
  'MOSI/Processed/unaligned_50.pkl': '78e0f8b5ef8ff71558e7307848fc1fa929ecb078203f565ab22b9daab2e02524',
  'MOSI/Processed/aligned_50.pkl': 'd3994fd25681f9c7ad6e9c6596a6fe9b4beb85ff7d478ba978b124139002e5f9',
  'MOSEI/Processed/unaligned_50.pkl': 'ad8b23d50557045e7d47959ce6c5b955d8d983f2979c7d9b7b9226f6dd6fec1f',
  'MOSEI/Processed/aligned_50.pkl': '45eccfb748a87c80ecab9bfac29582e7b1466bf6605ff29d3b338a75120bf791',
  'SIMS/Processed/unaligned_39.pkl': 'c9e20c13ec0454d98bb9c1e520e490c75146bfa2dfeeea78d84de047dbdd442f',
};

/** Per-sample [T, d] of the MMSA files (MMSA config_regression.json / third-party inspections). */
export const MMSA_SHAPES = {
  mosi: { aligned: { text: [50, 768], audio: [50, 5], vision: [50, 20] }, unaligned: { text: [50, 768], audio: [375, 5], vision: [500, 20] } },
  mosei: { aligned: { text: [50, 768], audio: [50, 74], vision: [50, 35] }, unaligned: { text: [50, 768], audio: [500, 74], vision: [500, 35] } },
  sims: { unaligned: { text: [39, 768], audio: [400, 33], vision: [55, 709] } },
} as const;

/** Streaming SHA-256 of a file (any size). */
export function sha256File(file: string): string {
  statRegularFile(file);
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isNdArray(v) && !(v instanceof Uint8Array) &&
    !(Object.getPrototypeOf(v) as { __module__?: string } | null)?.__module__;
}

const fmtShape = (s: readonly (number | string)[]) => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;

const SHAPE_HINT =
  'MMSA aligned_50.pkl has 50 steps for every modality; unaligned_50.pkl has audio/vision 375/500 (MOSI) or 500/500 (MOSEI). ' +
  'Feature dims are text 768, audio 5, vision 20 (MOSI); 768, 74, 35 (MOSEI); 768, 33, 709 (SIMS). ' +
  'Point the spec at the matching file or change its input shapes.';

/** Context passed to the per-split validator. */
interface Ctx {
  file: string;
  report: DatasetReport;
  opts: LoadMmsaOptions;
  ref?: Partial<Record<'text' | 'vision' | 'audio', [number, number]>>;
}

function loc(ctx: Ctx, keyPath: string) {
  return `${ctx.file}: ${keyPath}`;
}

function lengthOf(v: unknown): number | undefined {
  if (isNdArray(v)) return v.shape[0];
  if (Array.isArray(v)) return v.length;
  return undefined;
}

function toStrings(ctx: Ctx, keyPath: string, v: unknown): string[] {
  try {
    if (isNdArray(v)) return ndToStrings(v);
    if (Array.isArray(v)) return v.map((x) => plainString(x));
  } catch (e) {
    throw new DataError({ code: 'SMC6015', message: `${keyPath}: ${(e as Error).message}`, location: loc(ctx, keyPath), hint: 'ids and transcripts are arrays of strings' });
  }
  return [];
}

/**
 * The numbers of a 1-D array or (nested) list, at most `cap` of them (a list can hold the same big list many times
 * over through the pickle memo). A string or another non-number is refused naming its index (MMSA labels are floats;
 * a string label would silently become NaN).
 */
function toNumberList(ctx: Ctx, keyPath: string, v: unknown, cap: number): number[] {
  const notNumber = (e: NotANumber) =>
    new DataError({ code: 'SMC6015', message: `${keyPath}[${e.index}] is ${e.message.replace(/^item \d+ is /, '')}`, location: loc(ctx, `${keyPath}[${e.index}]`), hint: 'labels and lengths must be numbers (MMSA: float32 regression_labels); re-save the file with numeric labels' });
  if (isNdArray(v)) {
    if (!isNumericDtype(v.dtype) && v.dtype?.kind !== 'O') {
      throw new DataError({ code: 'SMC6015', message: `${keyPath} has dtype ${v.dtype?.str ?? '(none)'}, expected numbers`, location: loc(ctx, keyPath) });
    }
    try {
      return ndToNumbers(v);
    } catch (e) {
      if (e instanceof NotANumber) throw notNumber(e);
      throw new DataError({ code: 'SMC6002', message: `${keyPath}: cannot decode array payload: ${(e as Error).message}`, location: loc(ctx, keyPath), hint: 'the file is truncated or corrupt; download it again' });
    }
  }
  if (Array.isArray(v)) {
    const out: number[] = [];
    const stack: unknown[][] = [v];
    const idx: number[] = [0];
    while (stack.length && out.length <= cap) {
      const top = stack.at(-1)!;
      const i = idx.at(-1)!;
      if (i >= top.length) {
        stack.pop();
        idx.pop();
        continue;
      }
      idx[idx.length - 1] = i + 1;
      const x = top[i];
      if (Array.isArray(x) && stack.length < 4) {
        stack.push(x);
        idx.push(0);
        continue;
      }
      try {
        out.push(plainNumber(x, out.length));
      } catch (e) {
        throw notNumber(e as NotANumber);
      }
    }
    if (out.length > cap) throw tooMany(ctx, keyPath, cap, `a list of more than ${cap}`);
    return out;
  }
  throw new DataError({ code: 'SMC6015', message: `${keyPath} is ${describeValue(v)}, expected an array of numbers`, location: loc(ctx, keyPath) });
}

function tooMany(ctx: Ctx, keyPath: string, n: number, found: string): DataError {
  return new DataError({ code: 'SMC6012', message: `${keyPath}: expected shape (${n},) (N from ${keyPath.split('.')[0]}.id), found ${found}`, location: loc(ctx, keyPath), hint: 'arrays inside a split must have one row per sample; the file is inconsistent or was edited' });
}

/** Refuses the first NaN or infinite value of a split's [n, T, d] array (or of its [n] labels), naming split, row and key. */
function checkFinite(ctx: Ctx, keyPath: string, a: Float32Array | ArrayLike<number>, shape: [number, number] | undefined, ids: string[] | undefined): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (Number.isFinite(x)) continue;
    throw nonFiniteError(ctx.file, keyPath, i, x, shape, ids);
  }
}

export function nonFiniteError(file: string, keyPath: string, flat: number, x: number, shape: [number, number] | undefined, ids: string[] | undefined, extra = ''): DataError {
  const per = shape ? shape[0] * shape[1] : 1;
  const row = Math.floor(flat / per);
  const within = flat - row * per;
  const id = ids?.[row] !== undefined ? ` (id ${JSON.stringify(ids[row])})` : '';
  const at = shape ? `, time step ${Math.floor(within / shape[1])}, feature ${within % shape[1]}` : '';
  const what = Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
  return new DataError({
    code: 'SMC6017',
    message: `${keyPath}: row ${row}${id}${at} is ${what}${extra}`,
    location: `${file}: ${keyPath}[${row}]`,
    hint: shape
      ? 'features must be finite (only -inf in audio is replaced by 0, as MMSA does): fix or drop these samples before training'
      : 'labels must be finite numbers: fix or drop these samples',
  });
}

function checkModality(ctx: Ctx, split: Split, d: Dict, key: string, role: 'text' | 'vision' | 'audio', n: number): { nd: NdArray; shape: [number, number]; keyPath: string } {
  const keyPath = `${split}.${key}`;
  const v = d[key];
  if (!isNdArray(v)) {
    const what = describeValue(v);
    throw new DataError({
      code: what.startsWith('object torch') ? 'SMC6004' : 'SMC6015',
      message: `${keyPath} is ${what}, expected a numpy array of shape (N, T, d)`,
      location: loc(ctx, keyPath),
      hint: what.startsWith('object torch')
        ? 'the file holds torch tensors (MMSA-FET return_type="pt"); re-extract with return_type="np"'
        : 'self-extracted features must be numpy arrays (MMSA issue #22)',
    });
  }
  if (!isNumericDtype(v.dtype)) {
    throw new DataError({ code: 'SMC6015', message: `${keyPath} has dtype ${v.dtype?.str ?? '(none)'}, expected a float array`, location: loc(ctx, keyPath) });
  }
  ctx.report.dtypes[keyPath] = v.dtype.str;
  const s = v.shape;
  const exp = ctx.opts.expect?.[role];
  const expectStr = exp ? fmtShape([n, exp[0], exp[1]]) : `(${n}, T, d)`;
  if (s.length !== 3) {
    throw new DataError({
      code: 'SMC6015',
      message: `${keyPath}: expected shape ${expectStr}, found ${fmtShape(s)} (rank ${s.length}, need 3)`,
      location: loc(ctx, keyPath),
      hint: 'normalised MMSA models average over time; smcirc needs the (N, T, d) sequences',
    });
  }
  if (s[0] !== n) {
    throw new DataError({
      code: 'SMC6012',
      message: `${keyPath}: expected shape ${expectStr} (N = ${n} from ${split}.id), found ${fmtShape(s)}`,
      location: loc(ctx, keyPath),
      hint: 'arrays inside a split must have one row per sample; the file is inconsistent or was edited',
    });
  }
  const shape: [number, number] = [s[1]!, s[2]!];
  if (exp && (exp[0] !== shape[0] || exp[1] !== shape[1])) {
    throw new DataError({
      code: 'SMC6013',
      message: `${keyPath}: expected shape ${fmtShape([n, exp[0], exp[1]])}, found ${fmtShape(s)}`,
      location: loc(ctx, keyPath),
      hint: SHAPE_HINT,
    });
  }
  const ref = ctx.ref?.[role];
  if (ref && (ref[0] !== shape[0] || ref[1] !== shape[1])) {
    throw new DataError({
      code: 'SMC6014',
      message: `${keyPath}: found ${fmtShape(s)}, but train.${key} has per-sample shape (${ref[0]}, ${ref[1]})`,
      location: loc(ctx, keyPath),
      hint: 'all splits must share per-sample shapes',
    });
  }
  return { nd: v, shape, keyPath };
}

function decodeModality(ctx: Ctx, m: { nd: NdArray; shape: [number, number]; keyPath: string }): { data: Float32Array; shape: [number, number] } {
  const keyPath = m.keyPath;
  let data: Float32Array;
  try {
    data = ndToFloat32(m.nd);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError({
      code: 'SMC6002',
      message: `${keyPath}: cannot decode array payload: ${(e as Error).message}`,
      location: loc(ctx, keyPath),
      hint: 'the file is truncated or corrupt; download it again',
    });
  }
  return { data, shape: m.shape };
}

function lengths(ctx: Ctx, split: Split, d: Dict, key: string, n: number, T: number): Int32Array | undefined {
  if (!(key in d) || d[key] == null) return undefined;
  const keyPath = `${split}.${key}`;
  const vals = toNumberList(ctx, keyPath, d[key], n);
  if (vals.length !== n) {
    throw new DataError({ code: 'SMC6012', message: `${keyPath}: expected ${n} lengths (N from ${split}.id), found ${vals.length}`, location: loc(ctx, keyPath) });
  }
  const out = new Int32Array(n);
  let clamped = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(vals[i]!)) throw nonFiniteError(ctx.file, keyPath, i, vals[i]!, undefined, undefined);
    const x = Math.round(vals[i]!);
    const c = Math.min(T, Math.max(0, x));
    if (c !== x) clamped++;
    out[i] = c;
  }
  if (clamped) ctx.report.warnings.push(`${keyPath}: ${clamped} length(s) outside [0, ${T}] clamped`);
  return out;
}

/** A validated split whose big arrays are still undecoded (possibly lazy, in the file). */
export interface MmsaSplitView {
  n: number;
  ids: string[];
  rawText?: string[];
  labels: Float32Array;
  audioLengths?: Int32Array;
  visionLengths?: Int32Array;
  text: { nd: NdArray; shape: [number, number]; keyPath: string };
  audio: { nd: NdArray; shape: [number, number]; keyPath: string };
  vision: { nd: NdArray; shape: [number, number]; keyPath: string };
}

function roleKeys(opts: LoadMmsaOptions) {
  return {
    text: opts.keys?.text ?? opts.textKey ?? 'text',
    vision: opts.keys?.vision ?? 'vision',
    audio: opts.keys?.audio ?? 'audio',
    label: opts.keys?.label ?? opts.labelKey ?? 'regression_labels',
  };
}

function inspectSplit(ctx: Ctx, split: Split, d: Dict): MmsaSplitView {
  const K = roleKeys(ctx.opts);
  const textKey = K.text;
  const labelKey = K.label;
  const required = ['id', textKey, K.audio, K.vision, labelKey];
  for (const k of required) {
    if (!(k in d)) {
      throw new DataError({
        code: 'SMC6011',
        message: `${split}.${k} is missing; the split has keys: ${Object.keys(d).join(', ')}`,
        location: loc(ctx, `${split}.${k}`),
        hint: k === labelKey ? 'MMSA files carry `regression_labels`; CMU processed_data pickles use `labels` (pass labelKey: "labels")' : 'is this an MMSA feature pickle (MOSI/MOSEI/SIMS Processed/*.pkl)?',
      });
    }
  }
  const n = lengthOf(d.id);
  if (n === undefined) {
    throw new DataError({ code: 'SMC6015', message: `${split}.id is ${describeValue(d.id)}, expected an array of ids`, location: loc(ctx, `${split}.id`) });
  }
  const ids = toStrings(ctx, `${split}.id`, d.id);
  if (ids.length !== n) throw new DataError({ code: 'SMC6012', message: `${split}.id: ${ids.length} ids for ${n} rows`, location: loc(ctx, `${split}.id`), hint: 'ids are a 1-D array of strings, one per sample' });
  const text = checkModality(ctx, split, d, textKey, 'text', n);
  const audio = checkModality(ctx, split, d, K.audio, 'audio', n);
  const vision = checkModality(ctx, split, d, K.vision, 'vision', n);
  const labelPath = `${split}.${labelKey}`;
  const lv = toNumberList(ctx, labelPath, d[labelKey], n);
  if (isNdArray(d[labelKey])) ctx.report.dtypes[labelPath] = (d[labelKey] as NdArray).dtype.str;
  if (lv.length !== n) {
    const shape = isNdArray(d[labelKey]) ? fmtShape((d[labelKey] as NdArray).shape) : `list of ${lv.length}`;
    throw new DataError({ code: 'SMC6012', message: `${labelPath}: expected shape (${n},) (N from ${split}.id), found ${shape}`, location: loc(ctx, labelPath) });
  }
  checkFinite(ctx, labelPath, lv, undefined, ids);
  const view: MmsaSplitView = { n, ids, labels: Float32Array.from(lv), text, audio, vision };
  const al = lengths(ctx, split, d, 'audio_lengths', n, audio.shape[0]);
  const vl = lengths(ctx, split, d, 'vision_lengths', n, vision.shape[0]);
  if (al) view.audioLengths = al;
  if (vl) view.visionLengths = vl;
  if ((ctx.opts.keepRawText ?? true) && 'raw_text' in d) view.rawText = toStrings(ctx, `${split}.raw_text`, d.raw_text);
  return view;
}

function loadSplit(ctx: Ctx, split: Split, v: MmsaSplitView): ModalityArrays {
  const text = decodeModality(ctx, v.text);
  const audio = decodeModality(ctx, v.audio);
  const vision = decodeModality(ctx, v.vision);
  // MMSA: self.audio[self.audio == -np.inf] = 0
  const ninf = replaceNegInf(audio.data);
  ctx.report.negInfReplaced[split] = ninf;
  ctx.report.negInfReplaced.total += ninf;
  // Up front, for every split: a NaN found only after training (in the test metrics) names nothing.
  checkFinite(ctx, v.text.keyPath, text.data, text.shape, v.ids);
  checkFinite(ctx, v.audio.keyPath, audio.data, audio.shape, v.ids);
  checkFinite(ctx, v.vision.keyPath, vision.data, vision.shape, v.ids);
  const out: ModalityArrays = {
    text: text.data, vision: vision.data, audio: audio.data,
    labels: v.labels,
    n: v.n, textShape: text.shape, visionShape: vision.shape, audioShape: audio.shape, ids: v.ids,
  };
  if (v.audioLengths) out.audioLengths = v.audioLengths;
  if (v.visionLengths) out.visionLengths = v.visionLengths;
  if (v.rawText) out.rawText = v.rawText;
  return out;
}

/** Set audio -inf to 0 in place (as MMSA does); returns how many were replaced. */
export function replaceNegInf(a: Float32Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === -Infinity) {
      a[i] = 0;
      c++;
    }
  }
  return c;
}

/** Validate the structure and shapes of a parsed MMSA pickle without decoding the feature arrays. */
export function inspectMmsa(parsed: ParsedPickle, opts: LoadMmsaOptions = {}): { splits: Record<Split, MmsaSplitView>; report: DatasetReport } {
  const file = parsed.info.source;
  const report = emptyReport(file, 'mmsa-pickle');
  report.protocol = parsed.info.protocol;
  report.numpyModules = parsed.info.numpyModules;
  report.textKey = roleKeys(opts).text;
  const ctx: Ctx = { file, report, opts };
  const root = parsed.value;
  if (!isDict(root)) {
    throw new DataError({
      code: 'SMC6010',
      message: `top level is ${describeValue(root)}, expected a dict with train/valid/test`,
      location: `${file}: <root>`,
      hint: 'MMSA pickles are {"train": {...}, "valid": {...}, "test": {...}}',
    });
  }
  const splits: Partial<Record<Split, MmsaSplitView>> = {};
  for (const split of SPLITS) {
    const d = root[split];
    if (!isDict(d)) {
      throw new DataError({
        code: 'SMC6010',
        message: d === undefined ? `split '${split}' is missing; top-level keys: ${Object.keys(root).join(', ')}` : `${split} is ${describeValue(d)}, expected a dict`,
        location: `${file}: ${split}`,
        hint: 'MMSA pickles have train, valid and test splits',
      });
    }
    const v = inspectSplit(ctx, split, d);
    if (split === 'train') ctx.ref = { text: v.text.shape, audio: v.audio.shape, vision: v.vision.shape };
    splits[split] = v;
  }
  return { splits: splits as Record<Split, MmsaSplitView>, report };
}

/** Validate and decode an already-parsed MMSA pickle value. */
export function mmsaFromParsed(parsed: ParsedPickle, opts: LoadMmsaOptions = {}): Dataset {
  const { splits, report } = inspectMmsa(parsed, opts);
  const ctx: Ctx = { file: parsed.info.source, report, opts };
  const ds = {} as Record<Split, ModalityArrays>;
  for (const split of SPLITS) ds[split] = loadSplit(ctx, split, splits[split]);
  return { ...ds, report };
}

/**
 * Load an MMSA feature pickle (any protocol 2-5, numpy 1.x or 2.x writer). Throws DataError,
 * never a raw parser error.
 */
export function loadMmsaPickle(file: string, opts: LoadMmsaOptions = {}): Dataset {
  if (opts.sha256) {
    let got: string;
    try {
      got = sha256File(file);
    } catch (e) {
      throw new DataError({ code: 'SMC6001', message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, location: file });
    }
    if (got !== opts.sha256.toLowerCase()) {
      throw new DataError({
        code: 'SMC6005',
        message: `SHA-256 mismatch: expected ${opts.sha256}, file has ${got}`,
        location: file,
        hint: 'the download is corrupt or a different version; fetch it again (Google Drive copies worked in MMSA #98)',
      });
    }
  }
  return withPickleFile(file, (parsed) => {
    try {
      return mmsaFromParsed(parsed, opts);
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError({ code: 'SMC6004', message: `unsupported content: ${(e as Error).message}`, location: file });
    }
  }, { lazyThreshold: opts.lazyThreshold });
}

/** Known MMSA hash for a path ending in e.g. MOSI/Processed/aligned_50.pkl, if any. */
export function knownMmsaSha256(file: string): string | undefined {
  const norm = file.split(path.sep).join('/');
  for (const [k, v] of Object.entries(MMSA_SHA256)) if (norm.endsWith(k)) return v;
  return undefined;
}
