// Kernel fixtures shared by GPU and reference tests: a BiLSTM direction (forward + backward) and the optimizer kernels.
import { initTrainState } from '../../compiler/train-step.js';
import { modelFeeds, type ModelCase } from '../goldens/model-case.js';
import type { AdamKernel, AdamStepKernel, GradNormKernel, LstmBackwardKernel, LstmForwardKernel, OptimizerLayout } from '../../compiler/kernels/ir.js';

export function lstmPair(B: number, T: number, H: number, reverse: boolean, tag: string): [LstmForwardKernel, LstmBackwardKernel] {
  // xproj [B, T, 8H] shared by both directions (this direction's 4H at an offset); hc.<tag> [B, T, 2H] = [h | c]
  const off = reverse ? 4 * H : 0;
  const seq = (offset: number) => ({ offset, batchStride: T * 2 * H, timeStride: 2 * H });
  const fwd: LstmForwardKernel = {
    kind: 'lstm-forward', name: `lstm.${tag}.fwd`, batch: B, steps: T, hidden: H, reverse,
    inputs: [{ name: 'xproj', size: B * T * 8 * H }, { name: `whh.${tag}`, size: 4 * H * H }],
    outputs: [{ name: `hc.${tag}`, size: B * T * 2 * H }, { name: `g.${tag}`, size: B * T * 4 * H }],
    xproj: { offset: off, batchStride: T * 8 * H, timeStride: 8 * H },
    h: seq(0),
    c: seq(H),
  };
  const bwd: LstmBackwardKernel = {
    kind: 'lstm-backward', name: `lstm.${tag}.bwd`, batch: B, steps: T, hidden: H, reverse,
    inputs: [{ name: `dout.${tag}`, size: B * T * 2 * H }, fwd.outputs[1], fwd.outputs[0], fwd.inputs[1]],
    outputs: [{ name: `dg.${tag}`, size: B * T * 4 * H }, { name: `dc.${tag}`, size: B * H }],
    dh: seq(0),
    dc: seq(H),
    c: seq(H),
  };
  return [fwd, bwd];
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
