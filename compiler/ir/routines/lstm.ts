// Routine `lstm`: one LSTM layer in one direction (PyTorch gate order i, f, g, o; zero initial state) + its backward.
//
//   lstm(x[B,T,I], w_ih[4H,I], w_hh[4H,H], b_ih[4H], b_hh[4H]; reverse) → [B, T, 2H]
//     packed per time step t: [h_t | c_t], the state after consuming x_t (reverse: after consuming x_{T-1..t}).
//   Both halves are differentiable; the gates are recomputed in the backward from x, h and the weights.
//   lstm_backward(x, w_ih, w_hh, b_ih, b_hh, out, dOut; reverse) → flat [B·T·I + 4H·I + 4H·H + 4H]
//     = [dx | dw_ih | dw_hh | db] (db is the gradient of both bias vectors).
// The GPU lowering of both is in lstm-lower.ts.
import { ShapeError, type GraphBuilder, type Node, type Shape } from '../graph.js';
import { sigmoid } from '../../ops/math.js';
import { LSTM_BACKWARD_NEEDS, LSTM_NEEDS, lowerLstm, lowerLstmBackward } from './lstm-lower.js';
import { registerRoutine, type RoutineParams, type Tensor } from './registry.js';

const sigm = sigmoid;

function dims(shapes: Shape[]): { B: number; T: number; I: number; H: number } {
  const [x, wih, whh, bih, bhh] = shapes;
  if (!x || x.length !== 3) throw new ShapeError('lstm: x must be [B, T, I]');
  const [B, T, I] = x as [number, number, number];
  const H4 = wih?.[0] ?? -1;
  const H = H4 / 4;
  const ok = wih?.length === 2 && wih[1] === I && Number.isInteger(H) && H > 0
    && whh?.length === 2 && whh[0] === H4 && whh[1] === H
    && bih?.length === 1 && bih[0] === H4 && bhh?.length === 1 && bhh[0] === H4;
  if (!ok) throw new ShapeError(`lstm: weights do not fit x [${B}, ${T}, ${I}]`, shapes);
  return { B, T, I, H };
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

function forward(inputs: Tensor[], shapes: Shape[], params: RoutineParams, f32: boolean): Float64Array {
  const { B, T, I, H } = dims(shapes);
  const [x, wih, whh, bih, bhh] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const rev = params.reverse === true;
  const out = new Float64Array(B * T * 2 * H);
  const a = new Float64Array(4 * H);
  const round = f32 ? Math.fround : (v: number) => v;
  for (let b = 0; b < B; b++) {
    const h = new Float64Array(H);
    const c = new Float64Array(H);
    for (let s = 0; s < T; s++) {
      const t = rev ? T - 1 - s : s;
      gates(a, x, (b * T + t) * I, I, h, H, wih, whh, bih, bhh);
      const o = (b * T + t) * 2 * H;
      for (let j = 0; j < H; j++) {
        const ig = sigm(a[j]!), fg = sigm(a[H + j]!), gg = Math.tanh(a[2 * H + j]!), og = sigm(a[3 * H + j]!);
        c[j] = round(fg * c[j]! + ig * gg);
        h[j] = round(og * Math.tanh(c[j]!));
        out[o + j] = h[j]!;
        out[o + H + j] = c[j]!;
      }
    }
  }
  return out;
}

function backward(inputs: Tensor[], shapes: Shape[], params: RoutineParams): Float64Array {
  const { B, T, I, H } = dims(shapes);
  const [x, wih, whh, bih, bhh, out, dout] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const rev = params.reverse === true;
  const nx = B * T * I, nih = 4 * H * I, nhh = 4 * H * H;
  const res = new Float64Array(nx + nih + nhh + 4 * H);
  const a = new Float64Array(4 * H);
  const da = new Float64Array(4 * H);
  const hPrev = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const dh = new Float64Array(H);
    const dc = new Float64Array(H);
    for (let s = T - 1; s >= 0; s--) {
      const t = rev ? T - 1 - s : s;
      const tp = rev ? t + 1 : t - 1; // time index of the previous state
      const hasPrev = s > 0;
      for (let j = 0; j < H; j++) hPrev[j] = hasPrev ? out[(b * T + tp) * 2 * H + j]! : 0;
      gates(a, x, (b * T + t) * I, I, hPrev, H, wih, whh, bih, bhh);
      const o = (b * T + t) * 2 * H;
      for (let j = 0; j < H; j++) {
        const ig = sigm(a[j]!), fg = sigm(a[H + j]!), gg = Math.tanh(a[2 * H + j]!), og = sigm(a[3 * H + j]!);
        const c = out[o + H + j]!;
        const cPrev = hasPrev ? out[(b * T + tp) * 2 * H + H + j]! : 0;
        const tc = Math.tanh(c);
        const gh = dh[j]! + dout[o + j]!;
        let gc = dc[j]! + dout[o + H + j]! + gh * og * (1 - tc * tc);
        da[j] = gc * gg * ig * (1 - ig);
        da[H + j] = gc * cPrev * fg * (1 - fg);
        da[2 * H + j] = gc * ig * (1 - gg * gg);
        da[3 * H + j] = gh * tc * og * (1 - og);
        gc *= fg;
        dc[j] = gc;
      }
      const xo = (b * T + t) * I;
      for (let r = 0; r < 4 * H; r++) {
        const d = da[r]!;
        if (d === 0) continue;
        res[nx + nih + nhh + r] += d;
        const wo = r * I;
        for (let k = 0; k < I; k++) {
          res[nx + wo + k] += d * x[xo + k]!;
          res[xo + k] += d * wih[wo + k]!;
        }
        if (hasPrev) {
          const ho = r * H;
          for (let k = 0; k < H; k++) res[nx + nih + ho + k] += d * hPrev[k]!;
        }
      }
      for (let k = 0; k < H; k++) {
        let sacc = 0;
        for (let r = 0; r < 4 * H; r++) sacc += da[r]! * whh[r * H + k]!;
        dh[k] = sacc;
      }
    }
  }
  return res;
}

function lstmVjp(g: GraphBuilder, node: Node, dOut: number): (number | undefined)[] {
  const [x, wih, whh, bih, bhh] = node.inputs as [number, number, number, number, number];
  const { B, T, I, H } = dims(node.inputs.map((i) => g.shape(i)));
  const flat = g.routine('lstm_backward', [x, wih, whh, bih, bhh, node.id, dOut], node.attrs.op === 'routine' ? node.attrs.params : {});
  const nx = B * T * I, nih = 4 * H * I, nhh = 4 * H * H;
  const dx = g.reshape(g.slice(flat, 0, 0, nx), [B, T, I]);
  const dwih = g.reshape(g.slice(flat, 0, nx, nx + nih), [4 * H, I]);
  const dwhh = g.reshape(g.slice(flat, 0, nx + nih, nx + nih + nhh), [4 * H, H]);
  const db = g.slice(flat, 0, nx + nih + nhh, nx + nih + nhh + 4 * H);
  return [dx, dwih, dwhh, db, db];
}

registerRoutine({
  name: 'lstm',
  shape: (s) => {
    const { B, T, H } = dims(s);
    return [B, T, 2 * H];
  },
  evaluate: forward,
  vjp: lstmVjp,
  lower: lowerLstm,
  needs: (k) => LSTM_NEEDS[k]!,
});

registerRoutine({
  name: 'lstm_backward',
  shape: (s) => {
    const { B, T, I, H } = dims(s);
    const o = s[5], d = s[6];
    if (!o || !d || o.join() !== [B, T, 2 * H].join() || d.join() !== o.join()) throw new ShapeError('lstm_backward: out/dOut must be [B, T, 2H]', s);
    return [B * T * I + 4 * H * I + 4 * H * H + 4 * H];
  },
  evaluate: (inputs, shapes, params) => backward(inputs, shapes, params),
  vjp: 'none',
  lower: lowerLstmBackward,
  needs: (k) => LSTM_BACKWARD_NEEDS[k]!,
});
