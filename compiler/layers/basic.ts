// Basic layers from primitives: linear, layerNorm, conv1d, softmax, logSoftmax, dropout, max/mean over time.
import { ShapeError, type GraphBuilder } from '../ir/graph.js';
import { lastDim, pOpts, stepSeed, type ParamOpts } from './common.js';

export interface LinearOpts extends ParamOpts {
  in: number;
  out: number;
  bias?: boolean;
  /** 'normal': N(0, 0.02) weight, zero bias (BERT init, reference §8; default). 'torch': U(±1/√in) for both. */
  init?: 'normal' | 'torch';
}

/** y = x Wᵀ + b over the last axis; weight [out, in] (PyTorch layout). */
export function linear(g: GraphBuilder, x: number, o: LinearOpts): number {
  if (lastDim(g, x) !== o.in) throw new ShapeError(`linear: expected last dimension ${o.in}, got ${lastDim(g, x)}`, [g.shape(x)]);
  const torchInit = o.init === 'torch';
  const bound = 1 / Math.sqrt(o.in);
  const w = g.param('weight', [o.out, o.in], torchInit ? { kind: 'uniform', bound } : { kind: 'normal', std: 0.02 }, pOpts(o));
  let y = g.matmul(x, g.transpose(w));
  if (o.bias ?? true) {
    const b = g.param('bias', [o.out], torchInit ? { kind: 'uniform', bound } : { kind: 'zeros' }, pOpts(o));
    y = g.add2(y, b);
  }
  return y;
}

export interface LayerNormOpts extends ParamOpts {
  dim: number;
  eps?: number;
}

/** LayerNorm over the last axis (biased variance), gain 1 / bias 0 at init. */
export function layerNorm(g: GraphBuilder, x: number, o: LayerNormOpts): number {
  if (lastDim(g, x) !== o.dim) throw new ShapeError(`layerNorm: expected last dimension ${o.dim}, got ${lastDim(g, x)}`, [g.shape(x)]);
  const w = g.param('weight', [o.dim], { kind: 'ones' }, pOpts(o));
  const b = g.param('bias', [o.dim], { kind: 'zeros' }, pOpts(o));
  const xc = g.sub(x, g.mean(x, [-1], true));
  const v = g.mean(g.unary('square', xc), [-1], true);
  const y = g.mul(xc, g.unary('rsqrt', g.add2(v, g.scalar(o.eps ?? 1e-5))));
  return g.add2(g.mul(y, w), b);
}

export interface Conv1dOpts extends ParamOpts {
  in: number;
  out: number;
  kernel: number;
  padding: number;
  bias?: boolean;
}

/** Conv1d over time of x [B, T, Cin] → [B, T', Cout]; weight [out, in, k] (PyTorch), U(±1/√(in·k)) init. */
export function conv1d(g: GraphBuilder, x: number, o: Conv1dOpts): number {
  const s = g.shape(x);
  if (s.length !== 3 || s[2] !== o.in) throw new ShapeError(`conv1d: expected [B, T, ${o.in}], got [${s.join(', ')}]`, [s]);
  const [B, T] = s as [number, number];
  const k = o.kernel;
  const tOut = T + 2 * o.padding - k + 1;
  if (tOut < 1) throw new ShapeError(`conv1d: kernel ${k} is longer than the padded input (${T + 2 * o.padding})`);
  const bound = 1 / Math.sqrt(o.in * k);
  const w = g.param('weight', [o.out, o.in, k], { kind: 'uniform', bound }, pOpts(o));
  const xp = g.pad(x, 1, o.padding, o.padding);
  let cols: number;
  if (k === 1) cols = xp;
  else {
    const taps = [];
    for (let j = 0; j < k; j++) taps.push(g.reshape(g.slice(xp, 1, j, j + tOut), [B, tOut, o.in, 1]));
    cols = g.reshape(g.concat(taps, 3), [B, tOut, o.in * k]);
  }
  let y = g.matmul(cols, g.transpose(g.reshape(w, [o.out, o.in * k])));
  if (o.bias ?? true) y = g.add2(y, g.param('bias', [o.out], { kind: 'uniform', bound }, pOpts(o)));
  return y;
}

/** Numerically stable softmax along `axis` (the max shift carries no gradient; softmax is shift-invariant). */
export function softmax(g: GraphBuilder, x: number, axis: number): number {
  const m = g.stopGradient(g.reduce('max', x, [axis], true));
  const e = g.unary('exp', g.sub(x, m));
  return g.div(e, g.sum(e, [axis], true));
}

export function logSoftmax(g: GraphBuilder, x: number, axis: number): number {
  const m = g.stopGradient(g.reduce('max', x, [axis], true));
  const z = g.sub(x, m);
  return g.sub(z, g.unary('log', g.sum(g.unary('exp', z), [axis], true)));
}

export interface DropoutOpts {
  training: boolean;
  /** Scalar seed node; default: the graph's `seed` input. */
  seed?: number;
}

/** Inverted dropout: keep where u ≥ p (u from the counter RNG), scale kept values by 1/(1−p). */
export function dropout(g: GraphBuilder, x: number, p: number, o: DropoutOpts): number {
  if (!o.training || p <= 0) return x;
  if (p >= 1) return g.mul(x, g.scalar(0));
  const u = g.rand(o.seed ?? stepSeed(g), g.shape(x));
  const keep = g.binary('ge', u, g.scalar(p));
  return g.mul(x, g.mul(keep, g.scalar(1 / (1 - p))));
}

/** Max over the time axis of [B, T, C] → [B, C]. */
export function maxOverTime(g: GraphBuilder, x: number): number {
  return g.reduce('max', x, [1]);
}

/** Mean over the time axis of [B, T, C] → [B, C]. */
export function meanOverTime(g: GraphBuilder, x: number): number {
  return g.mean(x, [1]);
}
