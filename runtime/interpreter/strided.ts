// Index maps for strided movement (broadcast, permute, slice, pad, concat) in the reference interpreter.
import { contiguousStrides, numel, type Shape } from '../../compiler/ir/graph.js';

/** Row-major strides of a contiguous shape. */
export const stridesOf = contiguousStrides;

/** Offsets base + Σ idx[d]·strides[d] for every index of `shape`, in row-major order. */
export function stridedOffsets(shape: Shape, strides: number[], base = 0): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Strides that read `inShape` broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const st = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((_, d) => {
    const k = d - lead;
    if (k < 0) return 0;
    return inShape[k] === 1 ? 0 : st[k]!;
  });
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
