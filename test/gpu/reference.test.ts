// The JS kernel reference itself (CPU only): LSTM backward against finite differences, sklearn-style count MI
// on the documented cases, Adam's first step, numpy binning edges.
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../compiler/kernels/ir.js';
import { countMi, evalKernel, histBin, type TensorEnv } from '../../compiler/kernels/reference.js';
import { erf } from '../../compiler/ops/index.js';
import { optimizerLayout } from '../../compiler/kernels/wgsl-optimizer.js';
import { randn } from './harness.js';
import { adamKernels, arenaSize, lstmKernels, lstmPair, packWhh } from './fixtures.js';

describe('kernel reference semantics', () => {
  it('LSTM backward matches finite differences of the forward (loss = Σ dout·[h|c]) w.r.t. xproj: each direction, and both as two lanes', () => {
    const [B, T, H] = [2, 4, 3];
    for (const lanes of [[false], [true], [false, true]]) {
      const D = lanes.length;
      const [fwd, bwd] = D === 1 ? lstmPair(B, T, H, lanes[0]!, 'x') : lstmKernels(B, T, H, lanes, 'x');
      const whh = lanes.map((_, l) => randn(4 * H * H, 62 + l, 0.5));
      const base: TensorEnv = new Map([
        ['xproj', Float32Array.from(randn(B * T * 8 * H, 61))],
        ...whh.map((w, l) => [`whh.x.${l}`, w] as [string, Float32Array]),
        ['whhp.x', packWhh(whh, H)],
        ['dout.x', randn(B * T * 2 * D * H, 63)],
      ]);
      const loss = (xp: Float64Array): number => {
        const env: TensorEnv = new Map(base);
        env.set('xproj', xp as unknown as Float32Array);
        env.set('hc.x', new Float64Array(B * T * 2 * D * H) as unknown as Float32Array);
        env.set('g.x', new Float64Array(B * T * 4 * D * H) as unknown as Float32Array);
        evalKernel(fwd, env);
        const hc = env.get('hc.x')!;
        const d = env.get('dout.x')!;
        let s = 0;
        for (let i = 0; i < hc.length; i++) s += hc[i]! * d[i]!;
        return s;
      };
      const env: TensorEnv = new Map(base);
      evalKernel(fwd, env);
      evalKernel(bwd, env);
      const dg = env.get('dg.x')!;
      const xp = Float64Array.from(base.get('xproj')!);
      lanes.forEach((reverse, l) => {
        const off = D === 1 ? (reverse ? 4 * H : 0) : l * 4 * H;
        for (const [b, t, q] of [[0, 0, 0], [1, 2, 5], [0, 3, 11], [1, 1, 7], [0, 2, 3]] as const) {
          const i = b * T * 8 * H + t * 8 * H + off + q;
          const eps = 1e-4;
          const p = Float64Array.from(xp);
          p[i] = xp[i]! + eps;
          const lp = loss(p);
          p[i] = xp[i]! - eps;
          const lm = loss(p);
          expect(dg[l * B * T * 4 * H + (b * T + t) * 4 * H + q], `lanes ${lanes} lane ${l} (${b}, ${t}, ${q})`).toBeCloseTo((lp - lm) / (2 * eps), 4);
        }
      });
    }
  });

  it('count-vector MI: all-zero sample ≈ 0.146, one class → 0, distinct counts → ln 30', () => {
    const text = Float32Array.from({ length: 30 }, (_, i) => i + 1); // 30 distinct counts
    const zero = new Float32Array(30);
    zero[15] = 6400;
    expect(countMi(zero, text)).toBeCloseTo((1 / 30) * Math.log(30) + (29 / 30) * Math.log(30 / 29), 6);
    expect(countMi(new Float32Array(30).fill(3), text)).toBe(0);
    expect(countMi(text, text)).toBeCloseTo(Math.log(30), 6);
  });

  it('numpy binning: the maximum goes to the last bin, values on an edge go up', () => {
    expect(histBin(1, 0, 1, 30)).toBe(29);
    expect(histBin(0, 0, 1, 30)).toBe(0);
    expect(histBin(0.5, 0, 1, 30)).toBe(15);
    expect(histBin(Math.fround(1 / 3), 0, 1, 30)).toBe(10);
  });

  it('erf (the op table\'s, shared with the interpreter) is accurate across its range', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 12);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 12);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 12);
  });

  it("Adam's first step moves every used parameter by lr·sign(g) (bias correction); an all-zero gradient skips one", () => {
    const layout = optimizerLayout(16, [{ start: 0, length: 8, group: 0 }, { start: 8, length: 8, group: 0 }], [{ lr: 0.01, weightDecay: 0 }]);
    const ks: Kernel[] = adamKernels(layout, 0);
    const p = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1, 1, 1, 1, 1]);
    const g = Float32Array.from([0.5, -0.5, 1e-3, -2, 3, 0.1, -0.1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const arena = new Float32Array(arenaSize(layout));
    arena.set(p);
    const env: TensorEnv = new Map([['arena', arena], ['grads', g]]);
    for (const k of ks) evalKernel(k, env);
    const a = env.get('arena')!;
    for (let i = 0; i < 8; i++) expect(a[i]).toBeCloseTo(p[i]! - 0.01 * Math.sign(g[i]!), 5);
    expect(Array.from(a.subarray(8, 16))).toEqual(Array.from(p.subarray(8)));
    expect([a[48], a[49]]).toEqual([1, 0]); // step counts: the unused parameter's stays 0
  });
});
