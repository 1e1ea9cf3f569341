// GPU lowering of the `lstm` and `lstm_gate_grads` routines: the input projections as matmuls and the recurrence of
// every lane (direction) as one kernel for all time steps; backward, the recurrence through h and c writing the gate
// gradients (the weight and input gradients are graph matmuls over them, built by the VJP in lstm.ts).
import { KernelError } from '../../kernels/errors.js';
import { acc, bin, c, coord, sel, type BufferDecl, type Expr, type LstmBackwardLane, type LstmForwardLane, type SeqView } from '../../kernels/ir.js';
import type { InputNeed, RoutineLowering, RoutineParams } from './registry.js';

/** The lanes' directions: `bidirectional` → [forward, reverse]; else one lane, reversed by `reverse`. */
export function lstmLanes(params: RoutineParams): boolean[] {
  return params.bidirectional === true ? [false, true] : [params.reverse === true];
}

/** x [B, T, I] with unit feature stride and time folded into the batch stride (a [B·T, I] matrix). */
const SEQUENCE: InputNeed = { view: (s, shape) => s[0] === shape[1]! * s[1]! && s[2] === 1 };
/** x, then per lane w_ih, w_hh (contiguous: the lowering reads it flat), b_ih, b_hh. */
const WEIGHT_NEEDS: InputNeed[] = ['view', 'contiguous', 'view', 'view'];
export const LSTM_NEEDS = (k: number): InputNeed => (k === 0 ? SEQUENCE : WEIGHT_NEEDS[(k - 1) % 4]!);
/** …, out (the forward's packed [h | c]), dOut (unit feature stride). */
export const LSTM_BACKWARD_NEEDS = (k: number, lanes: number): InputNeed =>
  k < 1 + 4 * lanes ? LSTM_NEEDS(k) : k === 1 + 4 * lanes ? 'view' : { view: (s) => s[2] === 1 };

const shapeOf = (cx: RoutineLowering, i: number): number[] => cx.graph.nodes[i]!.shape;

/** What both LSTM lowerings read of their node: inputs, output tensor, views, sizes [B, T, I] and H, the lanes. */
function lstmParts(cx: RoutineLowering) {
  const n = cx.node;
  const ins = n.inputs;
  const [B, T, I] = shapeOf(cx, ins[0]!) as [number, number, number];
  const lanes = lstmLanes(n.attrs.op === 'routine' ? n.attrs.params : {});
  const H = shapeOf(cx, ins[2]!)[1]!;
  return {
    n, ins, out: cx.tensorName(n.id), v: (i: number) => cx.views[i]!,
    B, T, I, H, lanes, D: lanes.length,
    /** Input node of lane l's weight w (0 w_ih, 1 w_hh, 2 b_ih, 3 b_hh). */
    w: (l: number, w: number): number => ins[1 + 4 * l + w]!,
    /** A lane-major [D, B·T, 4H] sequence: lane l's view. */
    laneSeq: (l: number): SeqView => ({ offset: l * B * T * 4 * H, batchStride: T * 4 * H, timeStride: 4 * H }),
    /** Lane l's h (part 0) or c (part 1) in the packed output [B, T, 2·D·H]. */
    packed: (l: number, part: 0 | 1): SeqView => ({ offset: (part * lanes.length + l) * H, batchStride: T * 2 * lanes.length * H, timeStride: 2 * lanes.length * H }),
  };
}

/** One value per lane: lane 0's expression, or a select on coordinate 0 between the lanes'. */
const perLane = (D: number, e: (l: number) => Expr): Expr => {
  let r = e(D - 1);
  for (let l = D - 2; l >= 0; l--) r = sel(bin('eq', coord(0), c(l)), e(l), r);
  return r;
};

export function lowerLstm(cx: RoutineLowering): void {
  const { n, out, v, B, T, I, H, lanes, D, w, laneSeq, packed } = lstmParts(cx);
  const bias = cx.temp('bias', D * 4 * H);
  const whh = cx.temp('whh', D * 4 * H * H);
  const xproj = cx.temp('xproj', D * B * T * 4 * H);
  const gates = cx.temp('gates', D * B * T * 4 * H);
  const vx = v(n.inputs[0]!);
  // b_ih + b_hh of every lane, [D, 4H] (one lane: [4H])
  const biasInputs: BufferDecl[] = [];
  const biasLoad = (l: number, k: 2 | 3): Expr => {
    const tv = v(w(l, k));
    biasInputs.push(cx.decl(tv.tensor));
    const strides = D === 1 ? [tv.strides[0]!] : [0, tv.strides[0]!];
    return { k: 'load', input: biasInputs.length - 1, map: { offset: tv.offset, strides } };
  };
  const biasExpr = perLane(D, (l) => bin('add', biasLoad(l, 2), biasLoad(l, 3)));
  cx.emit({
    kind: 'expr', name: cx.label('lstm.bias'), shape: D === 1 ? [4 * H] : [D, 4 * H], inputs: biasInputs,
    outputs: [{ name: bias, size: D * 4 * H, expr: biasExpr }],
  });
  // W_hh of every lane packed for the recurrence: element (l, q, j, gate) = W_hh[gate·H + j, q]
  const whhInputs = lanes.map((_, l) => cx.decl(v(w(l, 1)).tensor));
  cx.emit({
    kind: 'expr', name: cx.label('lstm.whh_pack'), shape: [D, H, H, 4], inputs: whhInputs,
    outputs: [{ name: whh, size: D * 4 * H * H, expr: perLane(D, (l) => ({ k: 'load', input: l, map: { offset: 0, strides: [0, 1, H, H * H] } })) }],
  });
  lanes.forEach((_, l) => {
    const vw = v(w(l, 0));
    cx.emit({
      kind: 'matmul', name: cx.label(D === 1 ? 'lstm.input_proj' : `lstm.input_proj.${l}`), batch: [1, 1], M: B * T, N: 4 * H, K: I,
      inputs: [cx.decl(vx.tensor), cx.decl(vw.tensor), cx.decl(bias)],
      a: { input: 0, offset: vx.offset, batchStrides: [0, 0], rowStride: vx.strides[1]!, colStride: vx.strides[2]! },
      b: { input: 1, offset: vw.offset, batchStrides: [0, 0], rowStride: vw.strides[1]!, colStride: vw.strides[0]! },
      output: cx.decl(xproj), ...(l > 0 ? { outputOffset: l * B * T * 4 * H } : {}),
      bias: { input: 2, offset: l * 4 * H, along: 'n' },
    });
  });
  const fl: LstmForwardLane[] = lanes.map((reverse, l) => ({ reverse, xproj: laneSeq(l), h: packed(l, 0), c: packed(l, 1), gates: laneSeq(l) }));
  cx.emit({
    kind: 'lstm-forward', name: cx.label(D === 1 && lanes[0] ? 'lstm.recurrence.reverse' : D === 1 ? 'lstm.recurrence' : 'lstm.recurrence.bidirectional'),
    batch: B, steps: T, hidden: H, lanes: fl,
    inputs: [cx.decl(xproj), cx.decl(whh)],
    outputs: [cx.decl(out), cx.decl(gates)],
    whh: { offset: 0, laneStride: 4 * H * H },
  }, [n.id]);
}

/** The backward recurrence of every lane in one kernel, writing the gate gradients [B, T, D·4H] (the node's value). */
export function lowerLstmGateGrads(cx: RoutineLowering): void {
  const { n, ins, out, v, B, T, H, lanes, D, w, laneSeq, packed } = lstmParts(cx);
  const fwd = cx.graph.nodes[ins[1 + 4 * D]!]!;
  if (fwd.attrs.op !== 'routine') throw new KernelError('SMC4103', `lstm_gate_grads at node ${n.id} does not read an lstm node's output`);
  const fwdOut = cx.tensorName(fwd.id);
  const dcs = cx.temp('dcstate', D * B * H);
  const vd = v(ins[2 + 4 * D]!);
  const dOut = (l: number, part: 0 | 1): SeqView => ({ offset: vd.offset + (part * D + l) * H, batchStride: vd.strides[0]!, timeStride: vd.strides[1]! });
  const dgates = (l: number): SeqView => ({ offset: l * 4 * H, batchStride: T * D * 4 * H, timeStride: D * 4 * H });
  const bl: LstmBackwardLane[] = lanes.map((reverse, l) => ({
    reverse, dh: dOut(l, 0), dc: dOut(l, 1), c: packed(l, 1), gates: laneSeq(l), dgates: dgates(l), whh: 4 + l,
  }));
  cx.emit({
    kind: 'lstm-backward', name: cx.label(D === 1 && lanes[0] ? 'lstm_backward.recurrence.reverse' : D === 1 ? 'lstm_backward.recurrence' : 'lstm_backward.recurrence.bidirectional'),
    batch: B, steps: T, hidden: H, lanes: bl,
    inputs: [cx.decl(vd.tensor), cx.decl(`${fwdOut}.gates`), cx.decl(fwdOut), cx.decl(`${fwdOut}.whh`), ...lanes.map((_, l) => cx.decl(v(w(l, 1)).tensor))],
    outputs: [cx.decl(out), cx.decl(dcs)],
    whhPacked: { input: 3, offset: 0, laneStride: 4 * H * H },
  }, [n.id]);
}
