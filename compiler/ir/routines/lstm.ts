// Routine `lstm`: one LSTM layer in one direction, or both directions of a bidirectional layer (PyTorch gate order
// i, f, g, o; zero initial state) + its backward. The directions ("lanes") are independent recurrences over the
// same x; one routine for both lets the GPU run them in one dispatch.
//
//   lstm(x[B,T,I], (w_ih[4H,I], w_hh[4H,H], b_ih[4H], b_hh[4H]) per lane; reverse | bidirectional) → [B, T, 2·D·H]
//     D = 1 lane (forward, or `reverse`) or 2 (`bidirectional`: lane 0 forward, lane 1 reverse). Packed per time
//     step t: [h_0 … h_{D-1} | c_0 … c_{D-1}], each lane's state after consuming x_t (reverse: after consuming
//     x_{T-1..t}); the layer's output [h_0 | h_1] is the first D·H features.
//   Both halves are differentiable; the gates are recomputed in the backward from x, h and the weights.
//   lstm_gate_grads(x, weights…, out, dOut; same params) → [B, T, D·4H]: the pre-activation gate gradients of every
//     lane, per sample and step. The VJP builds dx, the weight gradients and db from them with matmuls and sums.
// The GPU lowering of both is in lstm-lower.ts.
import { ShapeError, type GraphBuilder, type Node, type Shape } from '../graph.js';
import { sigmoid } from '../../ops/math.js';
import { LSTM_BACKWARD_NEEDS, LSTM_NEEDS, lowerLstm, lowerLstmGateGrads, lstmLanes } from './lstm-lower.js';
import { registerRoutine, type RoutineParams, type Tensor } from './registry.js';

const sigm = sigmoid;

function dims(shapes: Shape[], params: RoutineParams): { B: number; T: number; I: number; H: number; D: number } {
  const x = shapes[0];
  if (!x || x.length !== 3) throw new ShapeError('lstm: x must be [B, T, I]');
  const [B, T, I] = x as [number, number, number];
  const D = lstmLanes(params).length;
  const H4 = shapes[1]?.[0] ?? -1;
  const H = H4 / 4;
  const ok = Number.isInteger(H) && H > 0 && [...Array(D).keys()].every((l) => {
    const [wih, whh, bih, bhh] = shapes.slice(1 + 4 * l, 5 + 4 * l);
    return wih?.length === 2 && wih[0] === H4 && wih[1] === I
      && whh?.length === 2 && whh[0] === H4 && whh[1] === H
      && bih?.length === 1 && bih[0] === H4 && bhh?.length === 1 && bhh[0] === H4;
  });
  if (!ok) throw new ShapeError(`lstm: the weights of ${D} direction(s) do not fit x [${B}, ${T}, ${I}]`, shapes);
  return { B, T, I, H, D };
}

/** Pre-activations a[4H] = W_ih x_t + b_ih + W_hh h_prev + b_hh. */
function gates(a: Float64Array, x: Tensor, xo: number, I: number, hPrev: Float64Array, H: number,
  wih: Tensor, whh: Tensor, bih: Tensor, bhh: Tensor): void {
  for (let r = 0; r < 4 * H; r++) {
    let s = bih[r]! + bhh[r]!;
    const wo = r * I;
    for (let k = 0; k < I; k++) s += wih[wo + k]! * x[xo + k]!;
    const ho = r * H;
    for (let k = 0; k < H; k++) s += whh[ho + k]! * hPrev[k]!;
    a[r] = s;
  }
}

/** Lane l's weights [w_ih, w_hh, b_ih, b_hh]. */
const laneWeights = (inputs: Tensor[], l: number): [Tensor, Tensor, Tensor, Tensor] => inputs.slice(1 + 4 * l, 5 + 4 * l) as [Tensor, Tensor, Tensor, Tensor];

function forward(inputs: Tensor[], shapes: Shape[], params: RoutineParams, f32: boolean): Float64Array {
  const { B, T, I, H, D } = dims(shapes, params);
  const x = inputs[0]!;
  const F = 2 * D * H; // features per step
  const out = new Float64Array(B * T * F);
  const a = new Float64Array(4 * H);
  const round = f32 ? Math.fround : (v: number) => v;
  lstmLanes(params).forEach((rev, l) => {
    const [wih, whh, bih, bhh] = laneWeights(inputs, l);
    for (let b = 0; b < B; b++) {
      const h = new Float64Array(H);
      const c = new Float64Array(H);
      for (let s = 0; s < T; s++) {
        const t = rev ? T - 1 - s : s;
        gates(a, x, (b * T + t) * I, I, h, H, wih, whh, bih, bhh);
        const o = (b * T + t) * F;
        for (let j = 0; j < H; j++) {
          const ig = sigm(a[j]!), fg = sigm(a[H + j]!), gg = Math.tanh(a[2 * H + j]!), og = sigm(a[3 * H + j]!);
          c[j] = round(fg * c[j]! + ig * gg);
          h[j] = round(og * Math.tanh(c[j]!));
          out[o + l * H + j] = h[j]!;
          out[o + (D + l) * H + j] = c[j]!;
        }
      }
    }
  });
  return out;
}

/**
 * Gradients of the pre-activation gates, [B, T, D·4H]: per sample, step and lane the backward recurrence through
 * h and c (the gates recomputed from x, h_{t-1} and the weights). The weight and input gradients are matmuls over
 * them (lstmVjp), so that they are graph ops: sample routing and fusion see them as any other matmul.
 */
function gateGradients(inputs: Tensor[], shapes: Shape[], params: RoutineParams): Float64Array {
  const { B, T, I, H, D } = dims(shapes, params);
  const x = inputs[0]!;
  const [out, dout] = inputs.slice(1 + 4 * D) as [Tensor, Tensor];
  const F = 2 * D * H;
  const G = D * 4 * H; // gate gradients per step
  const res = new Float64Array(B * T * G);
  const a = new Float64Array(4 * H);
  const da = new Float64Array(4 * H);
  const hPrev = new Float64Array(H);
  lstmLanes(params).forEach((rev, l) => {
    const [wih, whh, bih, bhh] = laneWeights(inputs, l);
    for (let b = 0; b < B; b++) {
      const dh = new Float64Array(H);
      const dc = new Float64Array(H);
      for (let s = T - 1; s >= 0; s--) {
        const t = rev ? T - 1 - s : s;
        const tp = rev ? t + 1 : t - 1; // time index of the previous state
        const hasPrev = s > 0;
        for (let j = 0; j < H; j++) hPrev[j] = hasPrev ? out[(b * T + tp) * F + l * H + j]! : 0;
        gates(a, x, (b * T + t) * I, I, hPrev, H, wih, whh, bih, bhh);
        const o = (b * T + t) * F;
        for (let j = 0; j < H; j++) {
          const ig = sigm(a[j]!), fg = sigm(a[H + j]!), gg = Math.tanh(a[2 * H + j]!), og = sigm(a[3 * H + j]!);
          const c = out[o + (D + l) * H + j]!;
          const cPrev = hasPrev ? out[(b * T + tp) * F + (D + l) * H + j]! : 0;
          const tc = Math.tanh(c);
          const gh = dh[j]! + dout[o + l * H + j]!;
          let gc = dc[j]! + dout[o + (D + l) * H + j]! + gh * og * (1 - tc * tc);
          da[j] = gc * gg * ig * (1 - ig);
          da[H + j] = gc * cPrev * fg * (1 - fg);
          da[2 * H + j] = gc * ig * (1 - gg * gg);
          da[3 * H + j] = gh * tc * og * (1 - og);
          gc *= fg;
          dc[j] = gc;
        }
        res.set(da, (b * T + t) * G + l * 4 * H);
        for (let k = 0; k < H; k++) {
          let sacc = 0;
          for (let r = 0; r < 4 * H; r++) sacc += da[r]! * whh[r * H + k]!;
          dh[k] = sacc;
        }
      }
    }
  });
  return res;
}

function lstmVjp(g: GraphBuilder, node: Node, dOut: number): (number | undefined)[] {
  const params = node.attrs.op === 'routine' ? node.attrs.params : {};
  const lanes = lstmLanes(params);
  const D = lanes.length;
  const x = node.inputs[0]!;
  const { B, T, I, H } = dims(node.inputs.map((i) => g.shape(i)), params);
  const dg = g.routine('lstm_gate_grads', [...node.inputs, node.id, dOut], params); // [B, T, D·4H]
  const x2 = g.reshape(x, [B * T, I]);
  let dx: number | undefined;
  const grads: (number | undefined)[] = [undefined];
  lanes.forEach((rev, l) => {
    const [wih] = node.inputs.slice(1 + 4 * l) as [number];
    const dgl = g.reshape(D === 1 ? dg : g.slice(dg, 2, l * 4 * H, (l + 1) * 4 * H), [B * T, 4 * H]);
    const part = g.matmul(dgl, wih); // [B·T, I]
    dx = dx === undefined ? part : g.add2(dx, part);
    const dgT = g.transpose(dgl);
    // h_{t-1} of the lane (h_{t+1} when reversed), zero before the lane's first step
    const h = g.slice(node.id, 2, l * H, (l + 1) * H); // [B, T, H]
    const hPrev = T === 1 ? g.mul(h, g.scalar(0)) : rev ? g.pad(g.slice(h, 1, 1, T), 1, 0, 1) : g.pad(g.slice(h, 1, 0, T - 1), 1, 1, 0);
    const db = g.sum(dgl, [0]);
    grads.push(g.matmul(dgT, x2), g.matmul(dgT, g.reshape(hPrev, [B * T, H])), db, db);
  });
  grads[0] = g.reshape(dx!, [B, T, I]);
  return grads;
}

registerRoutine({
  name: 'lstm',
  batchRows: [0],
  shape: (s, p) => {
    const { B, T, H, D } = dims(s, p);
    if (s.length !== 1 + 4 * D) throw new ShapeError(`lstm: expected x and 4 weights for each of ${D} direction(s), got ${s.length} inputs`, s);
    return [B, T, 2 * D * H];
  },
  evaluate: forward,
  vjp: lstmVjp,
  lower: lowerLstm,
  needs: (k) => LSTM_NEEDS(k),
});

registerRoutine({
  name: 'lstm_gate_grads',
  // x, out and dOut are read sample by sample (the weights are shared)
  batchRows: (p) => [0, 1 + 4 * lstmLanes(p).length, 2 + 4 * lstmLanes(p).length],
  shape: (s, p) => {
    const { B, T, H, D } = dims(s, p);
    const o = s[1 + 4 * D], d = s[2 + 4 * D];
    if (s.length !== 3 + 4 * D || !o || !d || o.join() !== [B, T, 2 * D * H].join() || d.join() !== o.join()) throw new ShapeError(`lstm_gate_grads: out/dOut must be [B, T, ${2 * D}H]`, s);
    return [B, T, D * 4 * H];
  },
  evaluate: (inputs, shapes, params) => gateGradients(inputs, shapes, params),
  vjp: 'none',
  lower: lowerLstmGateGrads,
  needs: (k, p) => LSTM_BACKWARD_NEEDS(k, lstmLanes(p).length),
});
