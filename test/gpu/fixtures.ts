// Kernel fixtures shared by GPU and reference tests: a BiLSTM direction (forward + backward) and the optimizer kernels.
import { initTrainState } from '../../compiler/train-step.js';
import { modelFeeds, type ModelCase } from '../goldens/model-case.js';
import type { AdamKernel, AdamStepKernel, GradNormKernel, LstmBackwardKernel, LstmForwardKernel, OptimizerLayout } from '../../compiler/kernels/ir.js';

/**
 * One LSTM layer's recurrence kernels with `lanes` (their directions): xproj [B, T, 8H] shared (a single lane reads
 * its 4H at `xOffset`, two lanes at 0 and 4H); W_hh of lane l `whh.<tag>.<l>` [4H, H] and all lanes packed in
 * `whhp.<tag>` (packWhh) for the forward and the backward; hc.<tag> [B, T, 2·D·H] = [h_0 … | c_0 …] as the routine packs it;
 * gates g.<tag> [B, T, D·4H] (lanes interleaved per step); dg.<tag> [D, B·T, 4H] (lane-major).
 */
export function lstmKernels(B: number, T: number, H: number, lanes: boolean[], tag: string, xOffset = 0): [LstmForwardKernel, LstmBackwardKernel] {
  const D = lanes.length;
  const seq = (offset: number, width: number) => ({ offset, batchStride: T * width, timeStride: width });
  const fwd: LstmForwardKernel = {
    kind: 'lstm-forward', name: `lstm.${tag}.fwd`, batch: B, steps: T, hidden: H,
    lanes: lanes.map((reverse, l) => ({
      reverse, xproj: seq(D === 1 ? xOffset : l * 4 * H, 8 * H), h: seq(l * H, 2 * D * H), c: seq((D + l) * H, 2 * D * H), gates: seq(l * 4 * H, 4 * D * H),
    })),
    inputs: [{ name: 'xproj', size: B * T * 8 * H }, { name: `whhp.${tag}`, size: D * 4 * H * H }],
    outputs: [{ name: `hc.${tag}`, size: B * T * 2 * D * H }, { name: `g.${tag}`, size: B * T * 4 * D * H }],
    whh: { offset: 0, laneStride: 4 * H * H },
  };
  const bwd: LstmBackwardKernel = {
    kind: 'lstm-backward', name: `lstm.${tag}.bwd`, batch: B, steps: T, hidden: H,
    lanes: lanes.map((reverse, l) => ({
      reverse, dh: seq(l * H, 2 * D * H), dc: seq((D + l) * H, 2 * D * H), c: seq((D + l) * H, 2 * D * H), gates: seq(l * 4 * H, 4 * D * H),
      dgates: { offset: l * B * T * 4 * H, batchStride: T * 4 * H, timeStride: 4 * H }, whh: 4 + l,
    })),
    inputs: [{ name: `dout.${tag}`, size: B * T * 2 * D * H }, fwd.outputs[1], fwd.outputs[0], fwd.inputs[1], ...lanes.map((_, l) => ({ name: `whh.${tag}.${l}`, size: 4 * H * H }))],
    outputs: [{ name: `dg.${tag}`, size: D * B * T * 4 * H }, { name: `dc.${tag}`, size: D * B * H }],
    whhPacked: { input: 3, offset: 0, laneStride: 4 * H * H },
  };
  return [fwd, bwd];
}

/** One direction (its 4H of xproj at 4H when reverse); W_hh `whh.<tag>.0`, packed `whhp.<tag>`. */
export const lstmPair = (B: number, T: number, H: number, reverse: boolean, tag: string): [LstmForwardKernel, LstmBackwardKernel] =>
  lstmKernels(B, T, H, [reverse], tag, reverse ? 4 * H : 0);

/** The lanes' W_hh [4H, H] packed for the forward kernel: element (lane, q, j, gate) = W_hh[gate·H + j, q]. */
export function packWhh(ws: Float32Array[], H: number): Float32Array {
  const out = new Float32Array(ws.length * 4 * H * H);
  ws.forEach((w, l) => {
    for (let q = 0; q < H; q++) for (let j = 0; j < H; j++) for (let g = 0; g < 4; g++) out[l * 4 * H * H + (q * H + j) * 4 + g] = w[(g * H + j) * H + q]!;
  });
  return out;
}

/** Arena length for a layout: params, m, v, then step counts and the norm (vec4-padded). */
export const arenaSize = (layout: OptimizerLayout): number => 3 * layout.size + Math.ceil((layout.params.length + 1) / 4) * 4;

export function adamKernels(layout: OptimizerLayout, maxNorm: number): [GradNormKernel, AdamStepKernel, AdamKernel] {
  const arena = { name: 'arena', size: arenaSize(layout) };
  const coefs = { name: 'coefs', size: 4 + 4 * layout.params.length };
  const grads = { name: 'grads', size: layout.size };
  const partials = { name: 'partials', size: layout.blocks.length };
  return [
    { kind: 'grad-norm', name: 'optim.norm', layout, inputs: [grads], outputs: [partials] },
    { kind: 'adam-step', name: 'optim.step', layout, maxNorm, beta1: 0.9, beta2: 0.999, skipUnused: true, inputs: [partials], outputs: [arena, coefs] },
    { kind: 'adam', name: 'optim.adam', layout, beta1: 0.9, beta2: 0.999, eps: 1e-8, inputs: [grads, coefs], outputs: [arena] },
  ];
}


/** Feeds of the smcir-tiny model case for a train step: its batch, its parameters and fresh Adam state. */
export function caseFeeds(mc: ModelCase): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  const data = new Map<string, Float32Array>();
  for (const [k, , v] of modelFeeds(mc)) {
    if (k.startsWith('param:')) params.set(k.slice(6), v);
    else data.set(k.slice(3), v);
  }
  return new Map([...data, ...initTrainState(mc.step, params)]);
}
