// nn.MultiheadAttention (batch-first, packed in_proj) from primitives; xavier in_proj, N(0, 0.02) out_proj (§8).
import { ShapeError, type GraphBuilder } from '../ir/graph.js';
import { dropout, linear, softmax } from './basic.js';
import { pOpts, type ParamOpts } from './common.js';

export interface MhaOpts extends ParamOpts {
  embed: number;
  heads: number;
  causal?: boolean;
  dropout?: number;
  training?: boolean;
  seed?: number;
}

/** Additive causal mask [Tq, Tk]: −1e9 where key j lies in the future of query i (fairseq's triu offset). */
export function causalMask(tq: number, tk: number): Float64Array {
  const m = new Float64Array(tq * tk);
  const off = 1 + Math.abs(tk - tq);
  for (let i = 0; i < tq; i++) for (let j = i + off; j < tk; j++) m[i * tk + j] = -1e9;
  return m;
}

/** Creates in_proj_weight [3E, E] and in_proj_bias [3E] in the current scope. */
export function inProjParams(g: GraphBuilder, embed: number, o: ParamOpts): { w: number; b: number } {
  const w = g.param('in_proj_weight', [3 * embed, embed], { kind: 'xavier_uniform', fanIn: embed, fanOut: 3 * embed }, pOpts(o));
  const b = g.param('in_proj_bias', [3 * embed], { kind: 'zeros' }, pOpts(o));
  return { w, b };
}

/** x Wᵢᵀ + bᵢ with the i-th (0 = q, 1 = k, 2 = v) slice of the packed projection. */
export function inProjSlice(g: GraphBuilder, x: number, p: { w: number; b: number }, i: number, embed: number): number {
  const w = g.slice(p.w, 0, i * embed, (i + 1) * embed);
  const b = g.slice(p.b, 0, i * embed, (i + 1) * embed);
  return g.add2(g.matmul(x, g.transpose(w)), b);
}

/** q [B, Tq, E], k/v [B, Tk, E] → [B, Tq, E]. */
export function multiheadAttention(g: GraphBuilder, q: number, k: number, v: number, o: MhaOpts): number {
  const E = o.embed;
  const h = o.heads;
  if (E % h !== 0) throw new ShapeError(`multiheadAttention: embed ${E} is not divisible by ${h} heads`);
  const [B, Tq] = g.shape(q) as [number, number];
  const Tk = g.shape(k)[1]!;
  for (const t of [q, k, v]) {
    const s = g.shape(t);
    if (s.length !== 3 || s[2] !== E || s[0] !== B) throw new ShapeError(`multiheadAttention: expected [${B}, T, ${E}], got [${s.join(', ')}]`, [s]);
  }
  const dh = E / h;
  const p = inProjParams(g, E, o);
  const split = (t: number, T: number): number => g.permute(g.reshape(t, [B, T, h, dh]), [0, 2, 1, 3]);
  const Q = split(inProjSlice(g, q, p, 0, E), Tq);
  const K = split(inProjSlice(g, k, p, 1, E), Tk);
  const V = split(inProjSlice(g, v, p, 2, E), Tk);
  let scores = g.mul(g.matmul(Q, g.transpose(K)), g.scalar(1 / Math.sqrt(dh)));
  if (o.causal) scores = g.add2(scores, g.tensor(causalMask(Tq, Tk), [Tq, Tk]));
  let attn = softmax(g, scores, -1);
  attn = dropout(g, attn, o.dropout ?? 0, { training: o.training ?? false, seed: o.seed });
  const ctx = g.reshape(g.permute(g.matmul(attn, V), [0, 2, 1, 3]), [B, Tq, E]);
  return g.scoped('out_proj', () => linear(g, ctx, { in: E, out: E, ...pOpts(o) }));
}
