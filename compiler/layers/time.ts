// Resampling along time as a matmul with a constant [Tout, Tin] matrix: adaptive average pooling and linear
// interpolation (both align_corners modes), exactly as PyTorch computes them (reference §16).
import { ShapeError, type GraphBuilder } from '../ir/graph.js';

/** Row i averages input frames [floor(i·L/Lout), ceil((i+1)·L/Lout)). */
export function adaptivePoolMatrix(tIn: number, tOut: number): Float64Array {
  const m = new Float64Array(tOut * tIn);
  for (let i = 0; i < tOut; i++) {
    const start = Math.floor((i * tIn) / tOut);
    const end = Math.floor(((i + 1) * tIn + tOut - 1) / tOut);
    for (let j = start; j < end; j++) m[i * tIn + j] = 1 / (end - start);
  }
  return m;
}

/** PyTorch `interpolate(mode='linear')` weights: row i mixes frames i0 and i1 by (1−λ, λ). */
export function interpolationMatrix(tIn: number, tOut: number, alignCorners: boolean): Float64Array {
  const m = new Float64Array(tOut * tIn);
  for (let i = 0; i < tOut; i++) {
    let src: number;
    if (alignCorners) src = tOut > 1 ? (i * (tIn - 1)) / (tOut - 1) : 0;
    else src = Math.max(0, ((i + 0.5) * tIn) / tOut - 0.5);
    const i0 = Math.min(Math.floor(src), tIn - 1);
    const i1 = i0 < tIn - 1 ? i0 + 1 : i0;
    const lam = src - i0;
    m[i * tIn + i0]! += 1 - lam;
    m[i * tIn + i1]! += lam;
  }
  return m;
}

function timeMatmul(g: GraphBuilder, x: number, mat: Float64Array, tOut: number, what: string): number {
  const s = g.shape(x);
  if (s.length !== 3) throw new ShapeError(`${what}: expected [B, T, C], got [${s.join(', ')}]`, [s]);
  return g.matmul(g.tensor(mat, [tOut, s[1]!]), x);
}

/** F.adaptive_avg_pool1d over time: [B, T, C] → [B, outLen, C]. */
export function adaptiveAvgPoolTime(g: GraphBuilder, x: number, outLen: number): number {
  const tIn = g.shape(x)[1]!;
  if (tIn === outLen) return x;
  return timeMatmul(g, x, adaptivePoolMatrix(tIn, outLen), outLen, 'adaptiveAvgPoolTime');
}

/** F.interpolate(mode='linear', align_corners) over time: [B, T, C] → [B, outLen, C]. */
export function interpolateTime(g: GraphBuilder, x: number, outLen: number, o: { alignCorners: boolean }): number {
  const tIn = g.shape(x)[1]!;
  if (tIn === outLen) return x;
  return timeMatmul(g, x, interpolationMatrix(tIn, outLen, o.alignCorners), outLen, 'interpolateTime');
}
