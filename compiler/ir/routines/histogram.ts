// Routines `hist_entropy`, `count_mi`, `joint_hist_mi`: DMFD's histogram statistics (reference §4.2–4.3, §16).
//
// All three bin each sample's values exactly as numpy.histogram(v, bins) does (fast uniform-bin path; for f32
// data the index arithmetic is emulated in f32 as numpy does). They pass no gradient. Each lowers to the histogram
// kernels of compiler/kernels/wgsl-histogram.ts.
//   hist_entropy(x[B,N]; bins)      → [B]  entropy (nats) of the non-empty bins' probabilities.
//   count_mi(x[B,N], y[B,M]; bins)  → [B]  sklearn mutual_info_score(hist(x), hist(y)): the two count vectors
//                                          taken as labelings of `bins` items (the released code's quirk).
//   joint_hist_mi(x[B,N], y[B,N]; bins) → [B]  MI of the joint histogram of the pairs (x_k, y_k) (paper Eq. 3).
import { ShapeError, type Shape } from '../graph.js';
import { registerRoutine, type RoutineLowering, type RoutineParams, type Tensor } from './registry.js';

const fr = Math.fround;

/** numpy's pairwise summation (the unrolled-by-8 kernel used for n ≤ 128, recursive halves above). */
export function numpySum(a: ArrayLike<number>, lo = 0, n = a.length): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[lo + i]!;
    return s;
  }
  if (n <= 128) {
    const r = [a[lo]!, a[lo + 1]!, a[lo + 2]!, a[lo + 3]!, a[lo + 4]!, a[lo + 5]!, a[lo + 6]!, a[lo + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k]! += a[lo + i + k]!;
    let s = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) s += a[lo + i]!;
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, lo, n2) + numpySum(a, lo + n2, n - n2);
}

/** Bin index of each of v[off .. off+n) as numpy.histogram(v, bins) assigns it. */
export function histogramIndices(v: Tensor, off: number, n: number, bins: number, f32: boolean): Int32Array {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[off + i]!;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  let first = mn, last = mx;
  if (first === last) { first -= 0.5; last += 0.5; }
  const cast = f32 ? fr : (x: number) => x;
  // linspace(first, last, bins+1) computed in f64, stored in the bin dtype; the last edge is `last` itself.
  const edges = new Float64Array(bins + 1);
  const step = (last - first) / bins;
  for (let k = 0; k < bins; k++) edges[k] = cast(first + k * step);
  edges[bins] = cast(last);
  const width = mn === mx ? last - first : cast(last - first);
  const norm = cast(bins / width);
  const firstC = cast(first);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = v[off + i]!;
    let k = Math.trunc(cast(cast(x - firstC) * norm));
    if (k === bins) k -= 1;
    if (x < edges[k]!) k -= 1;
    if (k !== bins - 1 && x >= edges[k + 1]!) k += 1;
    idx[i] = k;
  }
  return idx;
}

export function histogramCounts(v: Tensor, off: number, n: number, bins: number, f32: boolean): Float64Array {
  const c = new Float64Array(bins);
  for (const k of histogramIndices(v, off, n, bins, f32)) c[k]! += 1;
  return c;
}

/** Entropy in nats of the non-empty bins (p = count / total). */
export function countsEntropy(counts: ArrayLike<number>): number {
  const nz = Array.from(counts).filter((c) => c > 0);
  const total = numpySum(nz);
  const terms = nz.map((c) => {
    const p = c / total;
    return p * Math.log(p);
  });
  return 0 - numpySum(terms); // +0 for a single bin
}

/** sklearn.metrics.mutual_info_score(a, b) for two label vectors of equal length (natural log). */
export function mutualInfoScore(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const ua = [...new Set(Array.from(a))].sort((p, q) => p - q);
  const ub = [...new Set(Array.from(b))].sort((p, q) => p - q);
  if (ua.length === 1 || ub.length === 1) return 0;
  const ia = new Map(ua.map((v, i) => [v, i]));
  const ib = new Map(ub.map((v, i) => [v, i]));
  const cont = new Float64Array(ua.length * ub.length);
  for (let k = 0; k < n; k++) cont[ia.get(a[k]!)! * ub.length + ib.get(b[k]!)!]! += 1;
  const pi = new Float64Array(ua.length), pj = new Float64Array(ub.length);
  for (let i = 0; i < ua.length; i++) for (let j = 0; j < ub.length; j++) {
    pi[i]! += cont[i * ub.length + j]!;
    pj[j]! += cont[i * ub.length + j]!;
  }
  const logSum = Math.log(n);
  const terms: number[] = [];
  for (let i = 0; i < ua.length; i++) for (let j = 0; j < ub.length; j++) {
    const nij = cont[i * ub.length + j]!;
    if (nij === 0) continue;
    const cnm = nij / n;
    const logOuter = -Math.log(pi[i]! * pj[j]!) + Math.log(n) + Math.log(n);
    let t = cnm * (Math.log(nij) - logSum) + cnm * logOuter;
    if (Math.abs(t) < Number.EPSILON) t = 0;
    terms.push(t);
  }
  return Math.max(0, numpySum(terms));
}

function rows(s: Shape | undefined, what: string): [number, number] {
  if (!s || s.length !== 2) throw new ShapeError(`${what}: expected [B, N], got ${JSON.stringify(s)}`);
  return [s[0]!, s[1]!];
}

/** GPU lowering: [rows, length] of input i, the input's tensor and the output's, and the bin count. */
function lowering(cx: RoutineLowering): { rows: (i: number) => [number, number]; input: (i: number) => string; out: string; bins: number } {
  const n = cx.node;
  const params = n.attrs.op === 'routine' ? n.attrs.params : {};
  return {
    rows: (i) => cx.graph.nodes[n.inputs[i]!]!.shape as [number, number],
    input: (i) => cx.views[n.inputs[i]!]!.tensor,
    out: cx.tensorName(n.id),
    bins: typeof params.bins === 'number' ? params.bins : 30,
  };
}

const binsOf = (p: RoutineParams): number => {
  const b = p.bins ?? 30;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw new ShapeError(`bins must be a positive integer, got ${String(b)}`);
  return b;
};

registerRoutine({
  name: 'hist_entropy',
  batchRows: [0],
  shape: (s, p) => { binsOf(p); return [rows(s[0], 'hist_entropy')[0]]; },
  evaluate: ([x], [s], p, f32) => {
    const [B, N] = rows(s, 'hist_entropy');
    const out = new Float64Array(B);
    for (let b = 0; b < B; b++) out[b] = countsEntropy(histogramCounts(x!, b * N, N, binsOf(p), f32));
    return out;
  },
  vjp: 'none',
  needs: 'contiguous',
  lower: (cx) => {
    const { rows, input, out, bins } = lowering(cx);
    const [B, N] = rows(0);
    cx.emit({
      kind: 'hist-entropy', name: cx.label('hist_entropy'), rows: B, length: N, bins,
      inputs: [cx.decl(input(0))], outputs: [cx.decl(out), cx.decl(cx.temp('counts', B * bins))],
    }, [cx.node.id]);
  },
});

registerRoutine({
  name: 'count_mi',
  batchRows: [0, 1],
  shape: (s, p) => {
    binsOf(p);
    const [B] = rows(s[0], 'count_mi');
    if (rows(s[1], 'count_mi')[0] !== B) throw new ShapeError('count_mi: batch sizes differ', s);
    return [B];
  },
  evaluate: ([x, y], [sx, sy], p, f32) => {
    const [B, N] = rows(sx, 'count_mi');
    const [, M] = rows(sy, 'count_mi');
    const out = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      out[b] = mutualInfoScore(histogramCounts(x!, b * N, N, binsOf(p), f32), histogramCounts(y!, b * M, M, binsOf(p), f32));
    }
    return out;
  },
  vjp: 'none',
  needs: 'contiguous',
  // two histograms (entropy kernels whose counts are kept), then the MI of the count vectors
  lower: (cx) => {
    const { rows, input, out, bins } = lowering(cx);
    const [B, N] = rows(0);
    const M = rows(1)[1];
    const cxs = cx.temp('counts_x', B * bins);
    const cys = cx.temp('counts_y', B * bins);
    const hx = cx.temp('entropy_x', B);
    const hy = cx.temp('entropy_y', B);
    cx.emit({ kind: 'hist-entropy', name: cx.label('count_mi.hist_x'), rows: B, length: N, bins, inputs: [cx.decl(input(0))], outputs: [cx.decl(hx), cx.decl(cxs)] });
    cx.emit({ kind: 'hist-entropy', name: cx.label('count_mi.hist_y'), rows: B, length: M, bins, inputs: [cx.decl(input(1))], outputs: [cx.decl(hy), cx.decl(cys)] });
    cx.emit({ kind: 'count-mi', name: cx.label('count_mi'), rows: B, bins, inputs: [cx.decl(cxs), cx.decl(cys)], outputs: [cx.decl(out)] }, [cx.node.id]);
  },
});

registerRoutine({
  name: 'joint_hist_mi',
  batchRows: [0, 1],
  shape: (s, p) => {
    binsOf(p);
    const a = rows(s[0], 'joint_hist_mi');
    const b = rows(s[1], 'joint_hist_mi');
    if (a[0] !== b[0] || a[1] !== b[1]) throw new ShapeError('joint_hist_mi: x and y must have the same [B, N]', s);
    return [a[0]];
  },
  evaluate: ([x, y], [sx], p, f32) => {
    const [B, N] = rows(sx, 'joint_hist_mi');
    const K = binsOf(p);
    const out = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      const ix = histogramIndices(x!, b * N, N, K, f32);
      const iy = histogramIndices(y!, b * N, N, K, f32);
      const joint = new Float64Array(K * K), px = new Float64Array(K), py = new Float64Array(K);
      for (let k = 0; k < N; k++) {
        joint[ix[k]! * K + iy[k]!]! += 1;
        px[ix[k]!]! += 1;
        py[iy[k]!]! += 1;
      }
      const terms: number[] = [];
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
        const n = joint[i * K + j]!;
        if (n > 0) terms.push((n / N) * Math.log((n * N) / (px[i]! * py[j]!)));
      }
      out[b] = Math.max(0, numpySum(terms));
    }
    return out;
  },
  vjp: 'none',
  needs: 'contiguous',
  lower: (cx) => {
    const { rows, input, out, bins } = lowering(cx);
    const [B, N] = rows(0);
    cx.emit({
      kind: 'joint-mi', name: cx.label('joint_hist_mi'), rows: B, length: N, bins,
      inputs: [cx.decl(input(0)), cx.decl(input(1))],
      outputs: [cx.decl(out), cx.decl(cx.temp('joint', B * (bins * bins + 2 * bins)))],
    }, [cx.node.id]);
  },
});
