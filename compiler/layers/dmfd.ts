// DMFD statistics (reference §4, §16; paper Eq. 1–5), the weighted score and the batch threshold → status rule.
import { ShapeError, type GraphBuilder } from '../ir/graph.js';
import '../ir/routines/index.js';
import { logSoftmax } from './basic.js';

const flat = (g: GraphBuilder, x: number): number => g.reshape(x, [g.shape(x)[0]!, -1]);

/** Released code: 30-bin numpy histogram entropy (nats) of each sample's flattened values. [B, ...] → [B]. */
export function histEntropy(g: GraphBuilder, x: number, bins = 30): number {
  return g.routine('hist_entropy', [flat(g, x)], { bins });
}

/** Released code: sklearn mutual_info_score between the two samples' histogram count vectors. → [B]. */
export function countMI(g: GraphBuilder, x: number, y: number, bins = 30): number {
  return g.routine('count_mi', [flat(g, x), flat(g, y)], { bins });
}

/** Paper Eq. 3: MI of the joint histogram of paired values (x and y must have the same per-sample size). → [B]. */
export function jointHistMI(g: GraphBuilder, x: number, y: number, bins = 30): number {
  return g.routine('joint_hist_mi', [flat(g, x), flat(g, y)], { bins });
}

/** sklearn `normalize` of the rows of [B, N, D]: norms below 10·eps(f32) count as 1 (zero rows stay zero). */
export function normalizeRows(g: GraphBuilder, x: number): number {
  const n = g.unary('sqrt', g.sum(g.unary('square', x), [-1], true));
  const safe = g.select(g.binary('lt', n, g.scalar(10 * 2 ** -23)), g.scalar(1), n);
  return g.div(x, safe);
}

/** Released code: mean of sklearn's full cosine_similarity matrix between the rows of x [B,N,D] and y [B,M,D]. → [B]. */
export function allPairsCosine(g: GraphBuilder, x: number, y: number): number {
  const sx = g.shape(x), sy = g.shape(y);
  if (sx.length !== 3 || sy.length !== 3 || sx[0] !== sy[0] || sx[2] !== sy[2]) {
    throw new ShapeError(`allPairsCosine: expected [B, N, D] and [B, M, D], got [${sx.join(', ')}] and [${sy.join(', ')}]`, [sx, sy]);
  }
  const mx = g.mean(normalizeRows(g, x), [1]);
  const my = g.mean(normalizeRows(g, y), [1]);
  return g.sum(g.mul(mx, my), [-1]);
}

/** Paper Eq. 1–2: entropy of softmax over time of the per-step L2 norms / τ. [B, T, D] → [B]. */
export function softmaxNormEntropy(g: GraphBuilder, x: number, tau: number): number {
  const norms = g.unary('sqrt', g.sum(g.unary('square', x), [-1]));
  const lp = logSoftmax(g, g.mul(norms, g.scalar(1 / tau)), 1);
  return g.unary('neg', g.sum(g.mul(g.unary('exp', lp), lp), [1]));
}

/** Paper Eq. 4–5: mean over time of the per-step cosine (torch cosine_similarity, eps). [B, T, D] × 2 → [B]. */
export function diagCosine(g: GraphBuilder, x: number, y: number, eps = 1e-8): number {
  const dot = g.sum(g.mul(x, y), [-1]);
  const w = g.mul(g.sum(g.unary('square', x), [-1]), g.sum(g.unary('square', y), [-1]));
  const cos = g.div(dot, g.unary('sqrt', g.binary('max', w, g.scalar(eps * eps))));
  return g.mean(cos, [1]);
}

export function batchMean(g: GraphBuilder, x: number): number {
  return g.mean(x, [0]);
}

/** Population standard deviation (ddof 0) over the batch. */
export function batchStd(g: GraphBuilder, x: number): number {
  const c = g.sub(x, batchMean(g, x));
  return g.unary('sqrt', g.mean(g.unary('square', c), [0]));
}

/** F = α·H + β·MI + γ·S (reference §4.5). */
export function dmfdScore(g: GraphBuilder, h: number, mi: number, s: number, o: { alpha?: number; beta?: number; gamma?: number } = {}): number {
  return g.add2(g.add2(g.mul(h, g.scalar(o.alpha ?? 0.5)), g.mul(mi, g.scalar(o.beta ?? 0.3))), g.mul(s, g.scalar(o.gamma ?? 10)));
}

/**
 * The threshold rule (reference §4.6), statistics over the current batch only: missing (1) iff S ≤ 0 and
 * F < μ − λσ/(1 + F). μ and σ are computed around the batch minimum, so a batch of identical scores has σ = 0
 * exactly and flags nobody (the whole-batch-zeroed case). Passes no gradient. F, S: [B] → [B] of 0/1.
 */
export function dmfdMissing(g: GraphBuilder, f: number, s: number, o: { lambda?: number } = {}): number {
  const fs = g.stopGradient(f);
  const lo = g.reduce('max', g.unary('neg', fs), [0]);
  const shifted = g.add2(fs, lo); // F − min F ≥ 0, exactly 0 for the minimum
  const mu = batchMean(g, shifted);
  const sigma = batchStd(g, shifted);
  const thr = g.sub(mu, g.div(g.mul(sigma, g.scalar(o.lambda ?? 0.8)), g.add2(g.scalar(1), fs)));
  const low = g.binary('lt', shifted, thr);
  const absent = g.binary('le', g.stopGradient(s), g.scalar(0));
  return g.mul(low, absent);
}

/** Status [B, 3] (text, vision, audio) ∈ {0, 1, 2}: a sample missing both modalities gets 2 for both. */
export function dmfdStatus(g: GraphBuilder, missV: number, missA: number): number {
  const both = g.mul(missV, missA);
  const two = g.scalar(2);
  const v = g.select(both, two, missV);
  const a = g.select(both, two, missA);
  const B = g.shape(missV)[0]!;
  const col = (t: number): number => g.reshape(t, [B, 1]);
  return g.concat([col(g.mul(missV, g.scalar(0))), col(v), col(a)], 1);
}
