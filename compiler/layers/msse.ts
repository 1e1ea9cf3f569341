// MSSE (reference §5.3): multi-scale Conv1d over time, 1×1 fusion to Z, channel attention A; out = C⊙A + C
// (released code) or Z⊙A + Z (paper Eq. 14).
import type { GraphBuilder } from '../ir/graph.js';
import { conv1d, layerNorm, linear, maxOverTime, meanOverTime } from './basic.js';
import { pOpts, type ParamOpts } from './common.js';

export interface MsseOpts extends ParamOpts {
  channels: number;
  reduction?: number;
  kernels?: number[];
  /** 'input': C⊙A + C (released code, default); 'conv': Z⊙A + Z (paper). */
  output?: 'input' | 'conv';
}

/** c [B, T, C] → [B, T, C]. Parameters: convs.{i}, fuse, fc1, norm, fc2. */
export function msse(g: GraphBuilder, c: number, o: MsseOpts): number {
  const C = o.channels;
  const po = pOpts(o);
  const ks = o.kernels ?? [1, 3, 5];
  const feats = ks.map((k, i) => g.scoped(`convs.${i}`, () => conv1d(g, c, { in: C, out: C, kernel: k, padding: (k - 1) / 2, ...po })));
  const z = g.scoped('fuse', () => conv1d(g, g.concat(feats, 2), { in: C * ks.length, out: C, kernel: 1, padding: 0, ...po }));
  const pooled = g.concat([maxOverTime(g, z), meanOverTime(g, z)], 1);
  const r = Math.floor(C / (o.reduction ?? 8));
  let a = g.scoped('fc1', () => linear(g, pooled, { in: 2 * C, out: r, ...po }));
  a = g.unary('relu', g.scoped('norm', () => layerNorm(g, a, { dim: r, ...po })));
  a = g.unary('sigmoid', g.scoped('fc2', () => linear(g, a, { in: r, out: C, ...po })));
  const [B] = g.shape(c) as [number];
  const att = g.reshape(a, [B, 1, C]);
  const base = (o.output ?? 'input') === 'input' ? c : z;
  return g.add2(g.mul(base, att), base);
}
