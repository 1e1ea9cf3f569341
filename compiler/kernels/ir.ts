// Kernel IR: expression kernels (elementwise + at most one row reduction), the matmul template, named routines.
//
// Every value is f32 (as in the tensor graph: comparisons give 0/1, select tests != 0). Buffers are flat f32
// arrays; an expression addresses them through affine index maps over the kernel's iteration domain, which is
// how broadcast (stride 0), permute (permuted strides) and slice (offset) fuse into a load.

import type { BinaryOp, EpilogueActivation, UnaryOp } from '../ops/index.js';
export type { BinaryOp, UnaryOp };

/** Flat element index = offset + Σ coord[d] · strides[d] over the iteration domain's axes. */
export interface AffineMap {
  offset: number;
  strides: number[];
  /** Clamp the index into the buffer (loads masked by a select, e.g. padding, may point outside it). */
  clamp?: boolean;
}

export type Expr =
  | { k: 'const'; value: number } // may be ±Infinity or NaN: emitted from bit patterns
  | { k: 'load'; input: number; map: AffineMap }
  /**
   * Load at a computed index, truncated to an integer and clamped into the buffer. With `rows`, `index` picks a row
   * (clamped into [0, count)) and `col` the element in it: row · stride + col in integer arithmetic (exact at any size).
   */
  | { k: 'gather'; input: number; index: Expr; rows?: { count: number; stride: number; col: Expr } }
  | { k: 'coord'; axis: number } // the iteration coordinate, as f32
  | { k: 'acc'; stage: number } // result of reduction stage `stage` (epilogues and later prologues)
  | { k: 'unary'; op: UnaryOp; a: Expr } // any op of the table (compiler/ops), `floor` and `isnan` included
  | { k: 'binary'; op: BinaryOp; a: Expr; b: Expr }
  | { k: 'select'; cond: Expr; a: Expr; b: Expr } // cond != 0 ? a : b
  /** uniform(u32(seed), stream, index) of compiler/ir/rng.ts (PCG hash, bit-exact with the interpreter). */
  | { k: 'rand'; stream: number; seed: Expr; map: AffineMap };

/** A storage buffer a kernel reads: a logical tensor name and its length in f32 elements. */
export interface BufferDecl {
  name: string;
  size: number;
}

/** A tensor a kernel writes, at the flat (row-major) index of its iteration coordinates. */
export interface OutputDecl extends BufferDecl {
  expr: Expr;
  /** Element offset of the first value written (a part of a larger tensor); size ≥ offset + values written. */
  offset?: number;
  /** Reduction kernels only: write one value per row (default) or one per element of the reduced axis ('full'). */
  at?: 'row' | 'full';
}

/**
 * One reduction over the innermost axis of the domain, in sequential stages over the same axis (stage i's
 * prologue may read acc(j) for j < i: softmax = max, then sum of exp(x − max); layernorm = mean, then variance).
 */
export interface Reduction {
  /** Number of reduced elements per row (the product of `dims`). */
  size: number;
  /** Reduced axes (domain axes shape.length …); default [size]. Loads address each as its own axis. */
  dims?: number[];
  stages: { op: 'sum' | 'max'; prologue: Expr }[];
}

/** Elementwise expression tree(s) over the domain `shape`, optionally with a row reduction. */
export interface ExprKernel {
  kind: 'expr';
  name: string;
  /** Output domain (for reductions: the row axes; the reduced axis is appended as axis `shape.length`). */
  shape: number[];
  inputs: BufferDecl[];
  outputs: OutputDecl[];
  reduce?: Reduction;
}

/** A matmul epilogue's activation: the unary ops whose record says `epilogue: true`. */
export type Activation = 'none' | EpilogueActivation;

/** Operand addressing for matmul: element (z1, z2, row, col) at offset + z1·batch[0] + z2·batch[1] + row·rowStride + col·colStride. */
export interface MatmulOperand {
  input: number;
  offset: number;
  batchStrides: [number, number];
  rowStride: number;
  colStride: number;
}

/**
 * C[z1, z2, m, n] = epilogue(Σ_k A[z1, z2, m, k] · B[z1, z2, k, n]); C is contiguous [batch0, batch1, M, N].
 * Epilogue: act(scale · acc + bias) + residual, then C = that (or C += that when accumulate).
 */
export interface MatmulKernel {
  kind: 'matmul';
  name: string;
  batch: [number, number];
  M: number;
  N: number;
  K: number;
  inputs: BufferDecl[];
  a: MatmulOperand;
  b: MatmulOperand;
  output: BufferDecl;
  /** Element offset of C inside the output tensor (default 0). */
  outputOffset?: number;
  scale?: number;
  bias?: { input: number; offset: number; along: 'n' | 'm' };
  activation?: Activation;
  /** Contiguous like C (offset into its buffer). */
  residual?: { input: number; offset: number };
  accumulate?: boolean;
}

/** A [batch, time, features] view with unit feature stride: element (b, t, f) at offset + b·batchStride + t·timeStride + f. */
export interface SeqView {
  offset: number;
  batchStride: number;
  timeStride: number;
}

/**
 * One lane of an LSTM recurrence kernel: one direction of one layer. A kernel runs its lanes side by side (they
 * are independent recurrences over the same batch, steps and hidden width: the two directions of a BiLSTM layer).
 */
export interface LstmForwardLane {
  reverse: boolean;
  /** x·W_ihᵀ + b_ih + b_hh, 4H features in PyTorch gate order (i, f, g, o). */
  xproj: SeqView;
  /** h_t and c_t in the `hc` output. */
  h: SeqView;
  c: SeqView;
  /** The gates after activation (4H features, gate order i, f, g, o) in the `gates` output. */
  gates: SeqView;
}

/**
 * LSTM recurrence of one layer, all time steps and all lanes (directions) in one dispatch; h0 = c0 = 0.
 * inputs: [xproj, whh: the recurrent weights of every lane packed for the recurrence: element (lane, q, j, gate)
 * = W_hh[gate·H + j, q] of that lane at `whh.offset + lane·whh.laneStride + (q·H + j)·4 + gate`];
 * outputs: [hc (h_t and c_t of each lane), gates (kept for the backward)].
 */
export interface LstmForwardKernel {
  kind: 'lstm-forward';
  name: string;
  batch: number;
  steps: number;
  hidden: number;
  lanes: LstmForwardLane[];
  inputs: [BufferDecl, BufferDecl];
  outputs: [BufferDecl, BufferDecl];
  whh: { offset: number; laneStride: number };
}

/** One lane of LstmBackwardKernel: the views of its direction and the input holding its W_hh [4H, H] (contiguous). */
export interface LstmBackwardLane {
  reverse: boolean;
  /** Gradients of h_t and c_t, in the `dout` input. */
  dh: SeqView;
  dc: SeqView;
  /** c_t, in the forward's `hc`. */
  c: SeqView;
  /** The forward's gates after activation, and where the gradient of the pre-activation gates goes. */
  gates: SeqView;
  dgates: SeqView;
  /** Input index of this lane's W_hh [4H, H] (3 or more). */
  whh: number;
}

/**
 * Backward of LstmForwardKernel, all lanes in one dispatch: inputs [dout, gates, hc, then the weights: each lane's
 * W_hh, and optionally `whhPacked`, the same matrices packed as the forward reads them (an implementation may read
 * either)]; outputs [dgates (the gradient of the pre-activation gates, 4H features per step), dcState [lanes, B, H]
 * (scratch: the carried gradient of c; the GPU may keep it in workgroup memory instead)]. Per lane and step,
 * dh = dOut_h + Σ_r dgates_{next step}[r]·W_hh[r, :] (the order of the sum is unspecified). The weight and input
 * gradients are matmuls over dgates outside this routine.
 */
export interface LstmBackwardKernel {
  kind: 'lstm-backward';
  name: string;
  batch: number;
  steps: number;
  hidden: number;
  lanes: LstmBackwardLane[];
  inputs: BufferDecl[];
  outputs: [BufferDecl, BufferDecl];
  /** Input index (3 or more) and layout of the packed W_hh of all lanes (as LstmForwardKernel.whh). */
  whhPacked?: { input: number; offset: number; laneStride: number };
}

/** Per row of x [rows, length]: numpy-style `bins`-bin histogram over [min, max]; outputs [entropy [rows], counts [rows, bins]]. */
export interface HistEntropyKernel {
  kind: 'hist-entropy';
  name: string;
  rows: number;
  length: number;
  bins: number;
  inputs: [BufferDecl];
  outputs: [BufferDecl, BufferDecl];
}

/** Per row: sklearn mutual_info_score of two count vectors [rows, bins] read as labelings of `bins` items. */
export interface CountMiKernel {
  kind: 'count-mi';
  name: string;
  rows: number;
  bins: number;
  inputs: [BufferDecl, BufferDecl];
  outputs: [BufferDecl];
}

/**
 * Per row: mutual information (nats) of the joint `bins`×`bins` histogram of x and y [rows, length], each binned
 * over its own range. outputs [mi [rows], scratch [rows, bins² + 2·bins] (the joint and marginal counts)].
 */
export interface JointMiKernel {
  kind: 'joint-mi';
  name: string;
  rows: number;
  length: number;
  bins: number;
  inputs: [BufferDecl, BufferDecl];
  outputs: [BufferDecl, BufferDecl];
}

/**
 * The optimizer arena: the packed output of the `adam_update` routine (compiler/ir/routines/adam.ts), updated in
 * place. Parameters at [0, size), m at [size, 2·size), v at [2·size, 3·size), each parameter's step count at
 * 3·size + i and the gradient norm after them. Gradients live in an arena of their own with the parameters'
 * layout. A block is a range of vec4 slots of one parameter; blocks are what workgroups of the kernels walk.
 */
export interface OptimizerLayout {
  /** Length of the parameter region in f32 elements (multiple of 4). */
  size: number;
  /** Element range and group of each parameter (starts are multiples of 4; the gaps stay zero). */
  params: { start: number; length: number; group: number }[];
  /** f32 element ranges, multiples of 4, in parameter order. */
  blocks: { start: number; end: number; param: number }[];
  groups: { lr: number; weightDecay: number }[];
}

/** Sums of squares of the gradients per block. inputs [grads], outputs [partials [blocks]]. */
export interface GradNormKernel {
  kind: 'grad-norm';
  name: string;
  layout: OptimizerLayout;
  inputs: [BufferDecl];
  outputs: [BufferDecl];
}

/**
 * One invocation after the partial sums: the global norm (written after the step counts) and the clip scale;
 * per parameter whether it is used (sum of squares > 0, or always when `skipUnused` is false), its step count
 * (incremented when used) and bias corrections. inputs [partials], outputs [arena (read_write),
 * coefs [4 + 4·params]: (clipScale, 0, 0, 0), then per parameter (used, bias_correction1, sqrt(bias_correction2), 0)].
 */
export interface AdamStepKernel {
  kind: 'adam-step';
  name: string;
  layout: OptimizerLayout;
  /** 0 or undefined: no clipping (scale 1). */
  maxNorm?: number;
  beta1: number;
  beta2: number;
  skipUnused: boolean;
  inputs: [BufferDecl];
  outputs: [BufferDecl, BufferDecl];
}

/**
 * torch.optim.Adam (coupled L2 weight decay, bias correction) over the arena, skipping unused parameters;
 * inputs [grads, coefs], outputs [arena] (read_write).
 */
export interface AdamKernel {
  kind: 'adam';
  name: string;
  layout: OptimizerLayout;
  beta1: number;
  beta2: number;
  eps: number;
  inputs: [BufferDecl, BufferDecl];
  outputs: [BufferDecl];
}

export type RoutineKernel =
  | LstmForwardKernel
  | LstmBackwardKernel
  | HistEntropyKernel
  | CountMiKernel
  | JointMiKernel
  | GradNormKernel
  | AdamStepKernel
  | AdamKernel;

export type Kernel = ExprKernel | MatmulKernel | RoutineKernel;

/** Tensors a kernel reads (inputs) and writes (outputs), by name, for liveness and binding. */
export function kernelReads(k: Kernel): BufferDecl[] {
  return k.inputs;
}
export function kernelWrites(k: Kernel): BufferDecl[] {
  switch (k.kind) {
    case 'expr':
      return k.outputs;
    case 'matmul':
      return [k.output];
    default:
      return k.outputs;
  }
}

// ---- small constructors (keep tests and lowering readable) ----
export const c = (value: number): Expr => ({ k: 'const', value });
export const load = (input: number, strides: number[], offset = 0): Expr => ({ k: 'load', input, map: { offset, strides } });
export const coord = (axis: number): Expr => ({ k: 'coord', axis });
export const acc = (stage = 0): Expr => ({ k: 'acc', stage });
export const un = (op: UnaryOp, a: Expr): Expr => ({ k: 'unary', op, a });
export const bin = (op: BinaryOp, a: Expr, b: Expr): Expr => ({ k: 'binary', op, a, b });
export const sel = (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', cond, a, b });
export const gather = (input: number, index: Expr): Expr => ({ k: 'gather', input, index });

export { contiguousStrides, numel } from '../ir/graph.js';
