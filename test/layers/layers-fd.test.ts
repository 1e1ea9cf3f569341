// Finite-difference checks of whole layers (gradients to inputs and every parameter) on tiny shapes.
import { describe, expect, it } from 'vitest';
import * as L from '../../compiler/layers/index.js';
import { fdCheck } from '../helpers/fd.js';

const pass = (r: { maxErr: number; worst: string; checked: number }): void => {
  expect(r.checked).toBeGreaterThan(0);
  expect(r.maxErr, r.worst).toBeLessThan(1);
};

describe('layer gradients (FD, f64)', () => {
  it('linear, layerNorm, softmax, logSoftmax', () => {
    pass(fdCheck([[2, 3, 4]], (g, [x]) => L.linear(g, x!, { in: 4, out: 3 })));
    pass(fdCheck([[2, 3, 4]], (g, [x]) => L.layerNorm(g, x!, { dim: 4 })));
    pass(fdCheck([[2, 5]], (g, [x]) => L.softmax(g, x!, 1)));
    pass(fdCheck([[2, 5]], (g, [x]) => L.logSoftmax(g, x!, 0)));
  });
  it('conv1d k=3 pad 1 and k=2 pad 0', () => {
    pass(fdCheck([[2, 5, 3]], (g, [x]) => L.conv1d(g, x!, { in: 3, out: 2, kernel: 3, padding: 1 })));
    pass(fdCheck([[1, 4, 2]], (g, [x]) => L.conv1d(g, x!, { in: 2, out: 3, kernel: 2, padding: 0 })));
  });
  it('lstm: bidirectional, 2 layers', () => {
    pass(fdCheck([[2, 3, 3]], (g, [x]) => L.lstm(g, x!, { input: 3, hidden: 2, layers: 2, bidirectional: true }), { probes: 12 }));
  });
  it('multiheadAttention: cross, causal, 2 heads', () => {
    pass(fdCheck([[2, 3, 4], [2, 4, 4], [2, 4, 4]], (g, [q, k, v]) => L.multiheadAttention(g, q!, k!, v!, { embed: 4, heads: 2 })));
    pass(fdCheck([[1, 4, 4]], (g, [x]) => L.multiheadAttention(g, x!, x!, x!, { embed: 4, heads: 2, causal: true })));
  });
  it('transformerEncoder: degenerate and temporal', () => {
    for (const mixTime of [false, true]) {
      pass(fdCheck([[2, 3, 4]], (g, [x]) => L.transformerEncoder(g, x!, { dModel: 4, heads: 2, layers: 2, mixTime, causal: true, dropout: 0 }), { probes: 8 }));
    }
  });
  it('msse (both outputs)', () => {
    for (const output of ['input', 'conv'] as const) {
      pass(fdCheck([[2, 4, 8]], (g, [x]) => L.msse(g, x!, { channels: 8, reduction: 4, output }), { probes: 6 }));
    }
  });
  it('time resampling, max/mean over time', () => {
    pass(fdCheck([[2, 7, 3]], (g, [x]) => L.adaptiveAvgPoolTime(g, x!, 3)));
    pass(fdCheck([[2, 3, 2]], (g, [x]) => L.interpolateTime(g, x!, 7, { alignCorners: true })));
    pass(fdCheck([[2, 3, 2]], (g, [x]) => L.maxOverTime(g, x!)));
    pass(fdCheck([[2, 3, 2]], (g, [x]) => L.meanOverTime(g, x!)));
  });
  it('paper-mode DMFD statistics and batch statistics', () => {
    pass(fdCheck([[2, 4, 3]], (g, [x]) => L.softmaxNormEntropy(g, x!, 0.7)));
    pass(fdCheck([[2, 4, 3], [2, 4, 3]], (g, [x, y]) => L.diagCosine(g, x!, y!)));
    pass(fdCheck([[2, 4, 3], [2, 5, 3]], (g, [x, y]) => L.allPairsCosine(g, x!, y!)));
    pass(fdCheck([[5]], (g, [x]) => L.batchStd(g, x!)));
    pass(fdCheck([[5]], (g, [x]) => L.batchMean(g, x!)));
  });
  it('losses', () => {
    pass(fdCheck([[3, 1], [3, 1]], (g, [p, t]) => L.l1Loss(g, p!, t!)));
    pass(fdCheck([[3, 2], [3, 2]], (g, [p, t]) => L.mseLoss(g, p!, t!)));
    pass(fdCheck([[3, 2], [3, 2]], (g, [p, t]) => L.simseLoss(g, p!, t!)));
  });
  it('dropout in training: gradient flows through the kept units only', () => {
    pass(fdCheck([[3, 4]], (g, [x]) => L.dropout(g, x!, 0.5, { training: true, seed: g.scalar(7) })));
  });
});
