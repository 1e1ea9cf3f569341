// Embedding lookup: rows of a [vocab, dim] table at f32 token ids (the `gather` routine), as PyTorch's nn.Embedding.
import type { GraphBuilder } from '../ir/graph.js';
import { pOpts, type ParamOpts } from './common.js';

export interface EmbeddingOpts extends ParamOpts {
  vocab: number;
  dim: number;
}

/** table [V, D] at ids [...] → [..., D]; ids get no gradient. */
export const gather = (g: GraphBuilder, table: number, ids: number): number => g.routine('gather', [table, ids]);

/** nn.Embedding(vocab, dim): parameter `weight` [vocab, dim], N(0, 0.02) (BERT's init). */
export function embedding(g: GraphBuilder, ids: number, o: EmbeddingOpts): number {
  const w = g.param('weight', [o.vocab, o.dim], { kind: 'normal', std: 0.02 }, pOpts(o));
  return gather(g, w, ids);
}
