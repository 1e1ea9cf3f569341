// fairseq/MulT-style TransformerEncoder (reference §5.2): pre-LN layers, optional final LN, input ×√d, no positions.
// mixTime=false is the released code's degenerate encoder (sequence length 1: per-time-step residual MLP; only
// the V slice of in_proj is used, but the full in_proj parameter is kept so parameter counts match §15).
import { ShapeError, type GraphBuilder } from '../ir/graph.js';
import { multiheadAttention, inProjParams, inProjSlice } from './attention.js';
import { dropout, layerNorm, linear } from './basic.js';
import { pOpts, type ParamOpts } from './common.js';

export interface TransformerEncoderOpts extends ParamOpts {
  dModel: number;
  heads: number;
  layers: number;
  ffnMult?: number;
  preLn?: boolean;
  finalLn?: boolean;
  causal?: boolean;
  scaleInput?: boolean;
  mixTime: boolean;
  /** Residual dropout (attention, ReLU and embedding dropout are 0 as in the released code). */
  dropout?: number;
  training?: boolean;
  seed?: number;
}

export function transformerEncoder(g: GraphBuilder, x: number, o: TransformerEncoderOpts): number {
  const d = o.dModel;
  const s = g.shape(x);
  if (s.length !== 3 || s[2] !== d) throw new ShapeError(`transformerEncoder: expected [B, T, ${d}], got [${s.join(', ')}]`, [s]);
  const preLn = o.preLn ?? true;
  const p = o.dropout ?? 0.1;
  const dr = { training: o.training ?? false, seed: o.seed };
  const po = pOpts(o);
  let h = (o.scaleInput ?? true) ? g.mul(x, g.scalar(Math.sqrt(d))) : x;
  for (let l = 0; l < o.layers; l++) {
    h = g.scoped(`layers.${l}`, () => {
      let res = h;
      let y = preLn ? g.scoped('layer_norms.0', () => layerNorm(g, res, { dim: d, ...po })) : res;
      y = g.scoped('self_attn', () => {
        if (o.mixTime) return multiheadAttention(g, y, y, y, { embed: d, heads: o.heads, causal: o.causal ?? false, ...po });
        const pr = inProjParams(g, d, po);
        const v = inProjSlice(g, y, pr, 2, d);
        return g.scoped('out_proj', () => linear(g, v, { in: d, out: d, ...po }));
      });
      y = g.add2(res, dropout(g, y, p, dr));
      if (!preLn) y = g.scoped('layer_norms.0', () => layerNorm(g, y, { dim: d, ...po }));
      res = y;
      y = preLn ? g.scoped('layer_norms.1', () => layerNorm(g, y, { dim: d, ...po })) : y;
      const ffn = d * (o.ffnMult ?? 4);
      y = g.unary('relu', g.scoped('fc1', () => linear(g, y, { in: d, out: ffn, ...po })));
      y = g.scoped('fc2', () => linear(g, y, { in: ffn, out: d, ...po }));
      y = g.add2(res, dropout(g, y, p, dr));
      if (!preLn) y = g.scoped('layer_norms.1', () => layerNorm(g, y, { dim: d, ...po }));
      return y;
    });
  }
  if (o.finalLn ?? true) h = g.scoped('layer_norm', () => layerNorm(g, h, { dim: d, ...po }));
  return h;
}
