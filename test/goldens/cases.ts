// Golden cases shared by the exporter (scripts/golden_export.ts) and the tests: each builds a small graph whose
// outputs, gradients (and Adam steps) scripts/torch_goldens.py recomputes with PyTorch / numpy / sklearn.
import { GraphBuilder } from '../../compiler/ir/graph.js';
import * as L from '../../compiler/layers/index.js';
import type { TrainStepOptions } from '../../compiler/train-step.js';

export interface GoldenCase {
  name: string;
  /** Declares inputs and outputs (`out` is the one differentiated, with cotangent input `cot`). */
  build(g: GraphBuilder): void;
  /** Differentiate Σ out·cot w.r.t. every float input and parameter (default true). */
  grads?: boolean;
  /** Inputs with a hand-made value (the rest are N(0, 1)). */
  inputs?: Record<string, (n: number) => Float32Array>;
  /** 'random': N(0, 0.3²) for every parameter (default; exercises biases and gains); 'init': §8 init, seed 1111. */
  params?: 'random' | 'init';
  /** Adam train steps: the forward's `loss` output is stepped `steps` times on the same batch. */
  train?: TrainStepOptions & { steps: number };
}

const lstmStack = (g: GraphBuilder): void => {
  const x = g.input('x', [2, 5, 3]);
  g.output('out', L.lstm(g, x, { input: 3, hidden: 4, layers: 2, bidirectional: true }));
};

/** DMFD edge-case batch [6, 20, 8]: all-zero, constant, values on bin edges, zero rows, two random samples. */
function dmfdX(n: number): Float32Array {
  const a = new Float32Array(n);
  const per = 20 * 8;
  let s = 12345;
  const rnd = (): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 2 ** 32 - 0.5; };
  for (let b = 0; b < 6; b++) {
    for (let i = 0; i < per; i++) {
      const k = b * per + i;
      if (b === 0) a[k] = 0;
      else if (b === 1) a[k] = 0.37;
      else if (b === 2) a[k] = Math.fround(0.1 * (i % 31));
      else if (b === 3) a[k] = i < 5 * 8 ? 0 : rnd();
      else a[k] = rnd() * (b === 5 ? 0.01 : 1);
    }
  }
  return a;
}

/** n values evenly over [lo, hi] (f32). */
const spread = (lo: number, hi: number) => (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

export const CASES: GoldenCase[] = [
  { name: 'linear', build: (g) => g.output('out', L.linear(g, g.input('x', [2, 3, 5]), { in: 5, out: 4 })) },
  { name: 'layer_norm', build: (g) => g.output('out', L.layerNorm(g, g.input('x', [2, 3, 6]), { dim: 6 })) },
  { name: 'conv1d_k3', build: (g) => g.output('out', L.conv1d(g, g.input('x', [2, 7, 4]), { in: 4, out: 3, kernel: 3, padding: 1 })) },
  { name: 'conv1d_k5', build: (g) => g.output('out', L.conv1d(g, g.input('x', [1, 6, 2]), { in: 2, out: 3, kernel: 5, padding: 2 })) },
  { name: 'lstm_bi2', build: lstmStack },
  {
    name: 'mha_cross',
    build: (g) => g.output('out', L.multiheadAttention(g, g.input('q', [2, 4, 6]), g.input('k', [2, 5, 6]), g.input('v', [2, 5, 6]), { embed: 6, heads: 2 })),
  },
  {
    name: 'mha_causal',
    build: (g) => { const x = g.input('x', [2, 5, 6]); g.output('out', L.multiheadAttention(g, x, x, x, { embed: 6, heads: 3, causal: true })); },
  },
  {
    name: 'encoder_degenerate',
    build: (g) => g.output('out', L.transformerEncoder(g, g.input('x', [2, 4, 8]), { dModel: 8, heads: 2, layers: 2, mixTime: false, causal: true })),
  },
  {
    name: 'encoder_temporal',
    build: (g) => g.output('out', L.transformerEncoder(g, g.input('x', [2, 4, 8]), { dModel: 8, heads: 2, layers: 2, mixTime: true, causal: true })),
  },
  { name: 'msse', build: (g) => g.output('out', L.msse(g, g.input('x', [2, 6, 16]), { channels: 16 })) },
  {
    name: 'time_resample',
    build: (g) => {
      const a = g.input('a', [1, 375, 2]);
      const v = g.input('v', [1, 500, 2]);
      const s = g.input('s', [1, 50, 2]);
      g.output('pool_a', L.adaptiveAvgPoolTime(g, a, 50));
      g.output('pool_v', L.adaptiveAvgPoolTime(g, v, 50));
      g.output('interp_a_false', L.interpolateTime(g, a, 50, { alignCorners: false }));
      g.output('interp_v_false', L.interpolateTime(g, v, 50, { alignCorners: false }));
      g.output('up_true', L.interpolateTime(g, s, 375, { alignCorners: true }));
      g.output('up_false', L.interpolateTime(g, s, 375, { alignCorners: false }));
      g.output('out', L.interpolateTime(g, g.input('x', [2, 7, 3]), 5, { alignCorners: true }));
    },
  },
  {
    name: 'dmfd_stats',
    grads: false,
    inputs: { x: dmfdX },
    build: (g) => {
      const x = g.input('x', [6, 20, 8]);
      const y = g.input('y', [6, 10, 8]);
      const px = L.adaptiveAvgPoolTime(g, x, 10);
      const h = L.histEntropy(g, x);
      const mi = L.countMI(g, x, y);
      const s = L.allPairsCosine(g, px, y);
      const f = L.dmfdScore(g, h, mi, s);
      g.output('H', h);
      g.output('MI', mi);
      g.output('S', s);
      g.output('F', f);
      g.output('miss', L.dmfdMissing(g, f, s));
      g.output('H_paper', L.softmaxNormEntropy(g, x, 1));
      g.output('MI_paper', L.jointHistMI(g, px, y, 8));
      g.output('S_paper', L.diagCosine(g, px, y));
      g.output('std', L.batchStd(g, f));
    },
  },
  {
    // F.silu(x) + F.softplus(y): y crosses softplus's threshold (20) and reaches far into its exp(x) tail
    name: 'activations',
    inputs: { x: spread(-9, 9), y: spread(-27, 27) },
    build: (g) => g.output('out', g.add2(g.unary('silu', g.input('x', [3, 7])), g.unary('softplus', g.input('y', [3, 7])))),
  },
  {
    // nn.Embedding(7, 4) at float ids with repeats (row 5 never used): weight's gradient is index_add of the cotangent
    name: 'embedding',
    inputs: { ids: () => Float32Array.of(1, 3, 1, 0, 6, 3, 3, 2, 1, 4) },
    build: (g) => g.output('out', L.embedding(g, g.input('ids', [2, 5]), { vocab: 7, dim: 4 })),
  },
  {
    name: 'losses',
    build: (g) => {
      const p = g.input('p', [4, 3]);
      const t = g.input('t', [4, 3]);
      g.output('out', g.add2(g.add2(L.l1Loss(g, p, t), g.mul(L.mseLoss(g, p, t), g.scalar(0.5))), g.mul(L.simseLoss(g, p, t), g.scalar(3))));
    },
  },
  {
    name: 'adam_step',
    grads: false,
    params: 'init',
    build: (g) => {
      const x = g.input('x', [4, 3, 5]);
      const label = g.input('label', [4, 1]);
      let h = g.scoped('proj', () => L.linear(g, x, { in: 5, out: 8, group: 'nodecay' }));
      h = g.scoped('norm', () => L.layerNorm(g, g.unary('relu', h), { dim: 8, group: 'nodecay' }));
      h = g.scoped('lstm', () => L.lstm(g, h, { input: 8, hidden: 4, bidirectional: true }));
      h = L.meanOverTime(g, h);
      const frozen = g.scoped('frozen', () => L.linear(g, h, { in: 8, out: 1, frozen: true }));
      const pred = g.add2(g.scoped('head', () => L.linear(g, h, { in: 8, out: 1 })), g.mul(frozen, g.scalar(0.5)));
      g.output('pred', pred);
      g.output('loss', L.l1Loss(g, pred, label));
    },
    train: {
      loss: 'loss', steps: 2, lr: 1e-2, weightDecay: 1e-2, eps: 3e-8, maxGradNorm: 0.05,
      groups: { nodecay: { weightDecay: 0, lr: 5e-3 } },
    },
  },
];
