// GPU lowering of the `lstm` and `lstm_backward` routines: the input projection as one matmul, the recurrence as
// one kernel for all time steps, and (backward) the weight and input gradients as matmuls over the gate gradients.
import { KernelError } from '../../kernels/errors.js';
import { acc, bin, c, coord, sel, type BufferDecl } from '../../kernels/ir.js';
import type { InputNeed, RoutineLowering } from './registry.js';

/** x [B, T, I] with unit feature stride and time folded into the batch stride (a [B·T, I] matrix). */
const SEQUENCE: InputNeed = { view: (s, shape) => s[0] === shape[1]! * s[1]! && s[2] === 1 };
/** x, w_ih, w_hh (contiguous: the recurrence reads it flat), b_ih, b_hh. */
export const LSTM_NEEDS: InputNeed[] = [SEQUENCE, 'view', 'contiguous', 'view', 'view'];
/** …, out (the forward's packed [h | c]), dOut (unit feature stride). */
export const LSTM_BACKWARD_NEEDS: InputNeed[] = [...LSTM_NEEDS, 'view', { view: (s) => s[2] === 1 }];

const shapeOf = (cx: RoutineLowering, i: number): number[] => cx.graph.nodes[i]!.shape;

/** What both LSTM lowerings read of their node: inputs, output tensor, views, sizes [B, T, I] and H, direction. */
function lstmParts(cx: RoutineLowering) {
  const n = cx.node;
  const ins = n.inputs;
  const [B, T, I] = shapeOf(cx, ins[0]!) as [number, number, number];
  const params = n.attrs.op === 'routine' ? n.attrs.params : {};
  return {
    n, ins, out: cx.tensorName(n.id), v: (i: number) => cx.views[i]!,
    B, T, I, H: shapeOf(cx, ins[2]!)[1]!, reverse: params.reverse === true,
  };
}

export function lowerLstm(cx: RoutineLowering): void {
  const { n, ins, out, v, B, T, I, H, reverse } = lstmParts(cx);
  const bias = cx.temp('bias', 4 * H);
  const xproj = cx.temp('xproj', B * T * 4 * H);
  const gates = cx.temp('gates', B * T * 4 * H);
  const vx = v(ins[0]!);
  const vw = v(ins[1]!);
  const tb = [v(ins[3]!), v(ins[4]!)];
  const biasInputs: BufferDecl[] = [cx.decl(tb[0]!.tensor), cx.decl(tb[1]!.tensor)];
  cx.emit({
    kind: 'expr', name: cx.label('lstm.bias'), shape: [4 * H], inputs: biasInputs,
    outputs: [{ name: bias, size: 4 * H, expr: bin('add', { k: 'load', input: 0, map: { offset: tb[0]!.offset, strides: [tb[0]!.strides[0]!] } }, { k: 'load', input: 1, map: { offset: tb[1]!.offset, strides: [tb[1]!.strides[0]!] } }) }],
  });
  cx.emit({
    kind: 'matmul', name: cx.label('lstm.input_proj'), batch: [1, 1], M: B * T, N: 4 * H, K: I,
    inputs: [cx.decl(vx.tensor), cx.decl(vw.tensor), cx.decl(bias)],
    a: { input: 0, offset: vx.offset, batchStrides: [0, 0], rowStride: vx.strides[1]!, colStride: vx.strides[2]! },
    b: { input: 1, offset: vw.offset, batchStrides: [0, 0], rowStride: vw.strides[1]!, colStride: vw.strides[0]! },
    output: cx.decl(xproj),
    bias: { input: 2, offset: 0, along: 'n' },
  });
  cx.emit({
    kind: 'lstm-forward', name: cx.label(reverse ? 'lstm.recurrence.reverse' : 'lstm.recurrence'), batch: B, steps: T, hidden: H, reverse,
    inputs: [cx.decl(xproj), cx.decl(v(ins[2]!).tensor)],
    outputs: [cx.decl(out), cx.decl(gates)],
    xproj: { offset: 0, batchStride: T * 4 * H, timeStride: 4 * H },
    h: { offset: 0, batchStride: T * 2 * H, timeStride: 2 * H },
    c: { offset: H, batchStride: T * 2 * H, timeStride: 2 * H },
  }, [n.id]);
}

export function lowerLstmBackward(cx: RoutineLowering): void {
  const { n, ins, out, v, B, T, I, H, reverse } = lstmParts(cx);
  const fwd = cx.graph.nodes[ins[5]!]!;
  if (fwd.attrs.op !== 'routine') throw new KernelError('SMC4103', `lstm_backward at node ${n.id} does not read an lstm node's output`);
  const fwdOut = cx.tensorName(fwd.id);
  const gates = `${fwdOut}.gates`;
  const dg = cx.temp('dgates', B * T * 4 * H);
  const dcs = cx.temp('dcstate', B * H);
  const hprev = cx.temp('hprev', B * T * H);
  const vd = v(ins[6]!);
  const vx = v(ins[0]!);
  const vw = v(ins[1]!);
  const [nx, nih, nhh] = [B * T * I, 4 * H * I, 4 * H * H];
  cx.emit({
    kind: 'lstm-backward', name: cx.label(reverse ? 'lstm_backward.recurrence.reverse' : 'lstm_backward.recurrence'), batch: B, steps: T, hidden: H, reverse,
    inputs: [cx.decl(vd.tensor), cx.decl(gates), cx.decl(fwdOut), cx.decl(v(ins[2]!).tensor)],
    outputs: [cx.decl(dg), cx.decl(dcs)],
    dh: { offset: vd.offset, batchStride: vd.strides[0]!, timeStride: vd.strides[1]! },
    dc: { offset: vd.offset + H, batchStride: vd.strides[0]!, timeStride: vd.strides[1]! },
    c: { offset: H, batchStride: T * 2 * H, timeStride: 2 * H },
  });
  const dgT = { input: 0, offset: 0, batchStrides: [0, 0] as [number, number], rowStride: 1, colStride: 4 * H };
  cx.emit({
    kind: 'matmul', name: cx.label('lstm_backward.dx'), batch: [1, 1], M: B * T, N: I, K: 4 * H,
    inputs: [cx.decl(dg), cx.decl(vw.tensor)],
    a: { input: 0, offset: 0, batchStrides: [0, 0], rowStride: 4 * H, colStride: 1 },
    b: { input: 1, offset: vw.offset, batchStrides: [0, 0], rowStride: vw.strides[0]!, colStride: vw.strides[1]! },
    output: cx.decl(out),
  });
  cx.emit({
    kind: 'matmul', name: cx.label('lstm_backward.dw_ih'), batch: [1, 1], M: 4 * H, N: I, K: B * T,
    inputs: [cx.decl(dg), cx.decl(vx.tensor)],
    a: dgT,
    b: { input: 1, offset: vx.offset, batchStrides: [0, 0], rowStride: vx.strides[1]!, colStride: vx.strides[2]! },
    output: cx.decl(out), outputOffset: nx,
  });
  const shift = reverse ? 2 * H : -2 * H;
  const valid = reverse ? bin('lt', coord(1), c(T - 1)) : bin('ge', coord(1), c(1));
  cx.emit({
    kind: 'expr', name: cx.label('lstm_backward.h_prev'), shape: [B, T, H], inputs: [cx.decl(fwdOut)],
    outputs: [{ name: hprev, size: B * T * H, expr: sel(valid, { k: 'load', input: 0, map: { offset: shift, strides: [T * 2 * H, 2 * H, 1], clamp: true } }, c(0)) }],
  });
  cx.emit({
    kind: 'matmul', name: cx.label('lstm_backward.dw_hh'), batch: [1, 1], M: 4 * H, N: H, K: B * T,
    inputs: [cx.decl(dg), cx.decl(hprev)],
    a: dgT,
    b: { input: 1, offset: 0, batchStrides: [0, 0], rowStride: H, colStride: 1 },
    output: cx.decl(out), outputOffset: nx + nih,
  });
  cx.emit({
    kind: 'expr', name: cx.label('lstm_backward.db'), shape: [4 * H], inputs: [cx.decl(dg)],
    reduce: { size: B * T, stages: [{ op: 'sum', prologue: { k: 'load', input: 0, map: { offset: 0, strides: [1, 4 * H] } } }] },
    outputs: [{ name: out, size: nx + nih + nhh + 4 * H, offset: nx + nih + nhh, expr: acc(0) }],
  }, [n.id]);
}
