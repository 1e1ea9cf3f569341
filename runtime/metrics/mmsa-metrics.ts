// runtime/metrics/mmsa-metrics.ts — owns MMSA's regression metrics for MOSI/MOSEI (metricsTop.py __eval_mosei_regression), reproduced exactly, plus seed aggregation as MMSA's results CSV.
//
// Semantics (MMSA src/MMSA/utils/metricsTop.py; inputs are float32 torch tensors there, so values
// are cast to float32 first):
//   Has0_acc_2 / Has0_F1_score  (pred >= 0) vs (truth >= 0) over all samples
//   Non0_acc_2 / Non0_F1_score  samples with truth != 0 only; (pred > 0) vs (truth > 0)
//   F1 = sklearn f1_score(truth, pred, average='weighted'): per-class F1 weighted by TRUE support
//        (the post-April-2021 argument order, MMSA #17); a class with no TP+FP+FN has F1 0.
//   Mult_acc_7 / Mult_acc_5     clip both to [-3,3] / [-2,2], np.round (half to even), exact match share
//   MAE                         np.mean(|pred - truth|) in float32 on UNCLIPPED values
//   Corr                        np.corrcoef(pred, truth)[0][1] in float64; NaN when either is constant
// Every value is rounded to 4 decimals with numpy's scalar round (MAE as float32, the rest float64).
// If no truth is non-zero, MMSA would crash; we return NaN for the Non0 metrics.
import { DataError } from '../data/errors.js';
import { numpyRound, pairwiseSumF32, pairwiseSumF64, roundHalfEven } from './round.js';

export interface MmsaRegressionMetrics {
  Has0_acc_2: number;
  Has0_F1_score: number;
  Non0_acc_2: number;
  Non0_F1_score: number;
  Mult_acc_5: number;
  Mult_acc_7: number;
  MAE: number;
  Corr: number;
}

export interface MmsaRegressionMetricsRaw extends MmsaRegressionMetrics {
  Mult_acc_3: number;
  n: number;
  nNonZero: number;
}

/** sklearn f1_score(yTrue, yPred, average='weighted') for boolean labels (sklearn 1.2 formula). */
export function weightedF1Binary(yTrue: ArrayLike<boolean | number>, yPred: ArrayLike<boolean | number>): number {
  const n = yTrue.length;
  let tp = 0, fp = 0, fn = 0, tn = 0;
  let seenT = false, seenF = false;
  for (let i = 0; i < n; i++) {
    const t = !!yTrue[i];
    const p = !!yPred[i];
    if (t || p) seenT = true;
    if (!t || !p) seenF = true;
    if (t && p) tp++;
    else if (!t && p) fp++;
    else if (t && !p) fn++;
    else tn++;
  }
  const f1 = (tpc: number, fpc: number, fnc: number) => {
    const prec = tpc + fpc === 0 ? 0 : tpc / (tpc + fpc);
    const rec = tpc + fnc === 0 ? 0 : tpc / (tpc + fnc);
    const denom = prec + rec;
    return denom === 0 ? 0 : (2 * prec * rec) / denom;
  };
  // classes = union of labels present (sorted: False, True); weights = true support
  const classes: { f1: number; w: number }[] = [];
  if (seenF) classes.push({ f1: f1(tn, fn, fp), w: tn + fp });
  if (seenT) classes.push({ f1: f1(tp, fp, fn), w: tp + fn });
  let num = 0, den = 0;
  for (const c of classes) {
    num += c.f1 * c.w;
    den += c.w;
  }
  return den === 0 ? 0 : num / den;
}

function toF32(x: Float32Array | ArrayLike<number>, what: string): Float32Array {
  const a = x instanceof Float32Array ? x : Float32Array.from(x as ArrayLike<number>);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!)) throw new DataError({ code: 'SMC6030', message: `${what}[${i}] is NaN` });
  }
  return a;
}

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function multAcc(p: Float32Array, t: Float32Array, lim: number): number {
  let c = 0;
  for (let i = 0; i < p.length; i++) if (roundHalfEven(clip(p[i]!, -lim, lim)) === roundHalfEven(clip(t[i]!, -lim, lim))) c++;
  return c / p.length;
}

/** np.corrcoef(x, y)[0][1] in float64. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const mx = pairwiseSumF64(x) / n;
  const my = pairwiseSumF64(y) / n;
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    dx[i] = x[i]! - mx;
    dy[i] = y[i]! - my;
  }
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += dx[i]! * dy[i]!;
    sxx += dx[i]! * dx[i]!;
    syy += dy[i]! * dy[i]!;
  }
  const f = 1 / (n - 1);
  const cxy = sxy * f, cxx = sxx * f, cyy = syy * f;
  const r = cxy / Math.sqrt(cxx) / Math.sqrt(cyy);
  return Number.isNaN(r) ? NaN : clip(r, -1, 1);
}

/** Unrounded metrics (plus Mult_acc_3 and counts). */
export function mmsaRegressionMetricsRaw(pred: Float32Array | ArrayLike<number>, truth: Float32Array | ArrayLike<number>): MmsaRegressionMetricsRaw {
  const p = toF32(pred, 'pred');
  const t = toF32(truth, 'truth');
  if (p.length !== t.length) throw new DataError({ code: 'SMC6030', message: `pred has ${p.length} values, truth has ${t.length}` });
  const n = p.length;
  if (n === 0) throw new DataError({ code: 'SMC6030', message: 'metrics need at least one sample' });

  const absd = new Float32Array(n);
  for (let i = 0; i < n; i++) absd[i] = Math.abs(Math.fround(p[i]! - t[i]!));
  const mae = Math.fround(pairwiseSumF32(absd) / n);

  let has0 = 0;
  const bt: boolean[] = [], bp: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const a = t[i]! >= 0, b = p[i]! >= 0;
    bt.push(a);
    bp.push(b);
    if (a === b) has0++;
  }
  let non0 = 0, nz = 0;
  const nt: boolean[] = [], np_: boolean[] = [];
  for (let i = 0; i < n; i++) {
    if (t[i] === 0) continue;
    nz++;
    const a = t[i]! > 0, b = p[i]! > 0;
    nt.push(a);
    np_.push(b);
    if (a === b) non0++;
  }
  return {
    Has0_acc_2: has0 / n,
    Has0_F1_score: weightedF1Binary(bt, bp),
    Non0_acc_2: nz ? non0 / nz : NaN,
    Non0_F1_score: nz ? weightedF1Binary(nt, np_) : NaN,
    Mult_acc_5: multAcc(p, t, 2),
    Mult_acc_7: multAcc(p, t, 3),
    Mult_acc_3: multAcc(p, t, 1),
    MAE: mae,
    Corr: pearson(p, t),
    n,
    nNonZero: nz,
  };
}

/** MMSA MOSI/MOSEI regression metrics, rounded to 4 decimals as MMSA reports them. */
export function mmsaRegressionMetrics(pred: Float32Array | ArrayLike<number>, truth: Float32Array | ArrayLike<number>): MmsaRegressionMetrics {
  const r = mmsaRegressionMetricsRaw(pred, truth);
  return {
    Has0_acc_2: numpyRound(r.Has0_acc_2, 4),
    Has0_F1_score: numpyRound(r.Has0_F1_score, 4),
    Non0_acc_2: numpyRound(r.Non0_acc_2, 4),
    Non0_F1_score: numpyRound(r.Non0_F1_score, 4),
    Mult_acc_5: numpyRound(r.Mult_acc_5, 4),
    Mult_acc_7: numpyRound(r.Mult_acc_7, 4),
    MAE: numpyRound(r.MAE, 4, true),
    Corr: numpyRound(r.Corr, 4),
  };
}

/**
 * MMSA results-CSV cell for several seeds: (mean * 100, std * 100) rounded to 2 decimals, population
 * std (ddof = 0), MAE and Corr included.
 */
export function aggregateSeeds(runs: MmsaRegressionMetrics[]): Record<keyof MmsaRegressionMetrics, [number, number]> {
  if (runs.length === 0) throw new DataError({ code: 'SMC6030', message: 'aggregateSeeds needs at least one run' });
  const keys = Object.keys(runs[0]!) as (keyof MmsaRegressionMetrics)[];
  const out = {} as Record<keyof MmsaRegressionMetrics, [number, number]>;
  for (const k of keys) {
    const v = runs.map((r) => r[k] * 100);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    out[k] = [numpyRound(mean, 2), numpyRound(std, 2)];
  }
  return out;
}
