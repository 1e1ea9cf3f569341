// View algebra for lowering: strided views of materialised tensors through movement ops, and affine coordinate
// maps from a node's coordinates to a kernel's iteration domain (pure functions).
import { contiguousStrides } from '../kernels/ir.js';

/** A node's value read from a materialised tensor: element at coords c is tensor[offset + Σ c_j · strides_j]. */
export interface View {
  tensor: string;
  offset: number;
  strides: number[];
}

export const contiguousView = (tensor: string, shape: readonly number[]): View => ({ tensor, offset: 0, strides: contiguousStrides(shape) });

export function isContiguous(v: View, shape: readonly number[]): boolean {
  const c = contiguousStrides(shape);
  return v.strides.every((s, i) => shape[i] === 1 || s === c[i]);
}

export function permuteView(v: View, perm: number[]): View {
  return { ...v, strides: perm.map((p) => v.strides[p]!) };
}

export function sliceView(v: View, starts: number[]): View {
  return { ...v, offset: v.offset + starts.reduce((a, s, i) => a + s * v.strides[i]!, 0) };
}

/** Numpy broadcasting of a view of shape `from` to shape `to` (size-1 and missing axes get stride 0). */
export function broadcastView(v: View, from: readonly number[], to: readonly number[]): View {
  const lead = to.length - from.length;
  return { ...v, strides: to.map((_, i) => (i < lead || from[i - lead] === 1 ? 0 : v.strides[i - lead]!)) };
}

/** Strides for reshaping a strided view without a copy (numpy's attempt_nocopy_reshape), or undefined. */
export function reshapeView(v: View, from: readonly number[], to: readonly number[]): View | undefined {
  const od: number[] = [];
  const os: number[] = [];
  from.forEach((d, i) => {
    if (d !== 1) {
      od.push(d);
      os.push(v.strides[i]!);
    }
  });
  const ns = new Array<number>(to.length).fill(0);
  let oi = 0;
  let oj = 1;
  let ni = 0;
  let nj = 1;
  while (ni < to.length && oi < od.length) {
    let np = to[ni]!;
    let op = od[oi]!;
    while (np !== op) {
      if (np < op) np *= to[nj++]!;
      else op *= od[oj++]!;
    }
    for (let ok = oi; ok < oj - 1; ok++) if (os[ok] !== od[ok + 1]! * os[ok + 1]!) return undefined;
    ns[nj - 1] = os[oj - 1]!;
    for (let nk = nj - 1; nk > ni; nk--) ns[nk - 1] = ns[nk]! * to[nk]!;
    ni = nj++;
    oi = oj++;
  }
  return { ...v, strides: ns };
}

/** Node coordinates as affine functions of the kernel domain: coord_j = Σ_d rows[j][d] · dom_d + off[j]. */
export interface CoordMap {
  rows: number[][];
  off: number[];
}

export function identityMap(rank: number, domainRank = rank): CoordMap {
  return { rows: Array.from({ length: rank }, (_, j) => Array.from({ length: domainRank }, (_, d) => (d === j ? 1 : 0))), off: new Array(rank).fill(0) };
}

/** Coordinates of an operand of shape `from` broadcast to the node shape `to` (numpy alignment). */
export function broadcastMap(m: CoordMap, from: readonly number[], to: readonly number[]): CoordMap {
  const lead = to.length - from.length;
  const D = m.rows[0]?.length ?? 0;
  return {
    rows: from.map((d, j) => (d === 1 ? new Array(D).fill(0) : [...m.rows[j + lead]!])),
    off: from.map((d, j) => (d === 1 ? 0 : m.off[j + lead]!)),
  };
}

/** Input coordinates of a permute node: input axis perm[i] is node axis i. */
export function permuteMap(m: CoordMap, perm: number[]): CoordMap {
  const rows: number[][] = new Array(perm.length);
  const off: number[] = new Array(perm.length);
  perm.forEach((p, i) => {
    rows[p] = m.rows[i]!;
    off[p] = m.off[i]!;
  });
  return { rows, off };
}

export function shiftMap(m: CoordMap, delta: number[]): CoordMap {
  return { rows: m.rows, off: m.off.map((o, j) => o + (delta[j] ?? 0)) };
}

/** Affine load map over the domain for a view read at coordinates m. */
export function loadMap(v: View, m: CoordMap, domainRank: number): { offset: number; strides: number[] } {
  const strides = new Array<number>(domainRank).fill(0);
  let offset = v.offset;
  v.strides.forEach((s, j) => {
    if (s === 0) return;
    offset += s * m.off[j]!;
    m.rows[j]!.forEach((a, d) => (strides[d]! += s * a));
  });
  return { offset, strides };
}
