// (Bi)LSTM layer stack over the `lstm` routine; PyTorch parameter names (weight_ih_l0, ..._reverse).
import { ShapeError, type GraphBuilder } from '../ir/graph.js';
import '../ir/routines/index.js';
import { pOpts, type ParamOpts } from './common.js';

export interface LstmOpts extends ParamOpts {
  input: number;
  hidden: number;
  layers?: number;
  bidirectional?: boolean;
}

/** nn.LSTM(batch_first=True), zero initial state, no inter-layer dropout: [B, T, I] → [B, T, H·dirs]. */
export function lstm(g: GraphBuilder, x: number, o: LstmOpts): number {
  const s = g.shape(x);
  if (s.length !== 3 || s[2] !== o.input) throw new ShapeError(`lstm: expected [B, T, ${o.input}], got [${s.join(', ')}]`, [s]);
  const H = o.hidden;
  const dirs = o.bidirectional ? 2 : 1;
  const init = { kind: 'uniform' as const, bound: 1 / Math.sqrt(H) };
  let cur = x;
  let inSize = o.input;
  for (let l = 0; l < (o.layers ?? 1); l++) {
    const weights: number[] = [];
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      weights.push(
        g.param(`weight_ih${sfx}`, [4 * H, inSize], init, pOpts(o)),
        g.param(`weight_hh${sfx}`, [4 * H, H], init, pOpts(o)),
        g.param(`bias_ih${sfx}`, [4 * H], init, pOpts(o)),
        g.param(`bias_hh${sfx}`, [4 * H], init, pOpts(o)),
      );
    }
    // both directions in one routine (one GPU dispatch per layer); packed per step [h_fwd | h_rev | c_fwd | c_rev],
    // so the layer's output [h_fwd | h_rev] is a view of it
    const packed = g.routine('lstm', [cur, ...weights], dirs === 2 ? { bidirectional: true } : { reverse: false });
    cur = g.slice(packed, 2, 0, H * dirs);
    inSize = H * dirs;
  }
  return cur;
}
