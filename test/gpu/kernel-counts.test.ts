// Pins the number of kernels per layer kind (forward, and forward + backward + clip + Adam) and for the whole
// smcir-tiny train step, fused and one-kernel-per-primitive. CPU only: lowering does not need a device.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Graph } from '../../compiler/ir/graph.js';
import * as L from '../../compiler/layers/index.js';
import { buildTrainStep } from '../../compiler/train-step.js';
import { lowerGraphToKernels } from '../../compiler/passes/lower-to-kernels.js';
import type { FusionMode } from '../../compiler/passes/fusion.js';
import { buildModelCase } from '../goldens/model-case.js';

const MAX_BUFFERS = 16; // lavapipe's maxStorageBuffersPerShaderStage

function layerGraph(kind: string): Graph {
  const g = new GraphBuilder();
  const [B, T, D] = [2, 6, 8];
  const x = g.input('x', [B, T, D]);
  let y: number;
  switch (kind) {
    case 'linear': y = g.scoped('lin', () => L.linear(g, x, { in: D, out: 12 })); break;
    case 'layernorm': y = g.scoped('ln', () => L.layerNorm(g, x, { dim: D })); break;
    case 'attention': y = g.scoped('mha', () => L.multiheadAttention(g, x, x, x, { embed: D, heads: 2 })); break;
    case 'bilstm': y = g.scoped('lstm', () => L.lstm(g, x, { input: D, hidden: 4, bidirectional: true })); break;
    case 'transformer': y = g.scoped('enc', () => L.transformerEncoder(g, x, { dModel: D, heads: 2, layers: 1, mixTime: true, dropout: 0 })); break;
    default: throw new Error(kind);
  }
  g.output('loss', g.mean(g.unary('square', y), g.shape(y).map((_, i) => i)));
  return g.build();
}

const count = (graph: Graph, mode: FusionMode = 'fused'): number => lowerGraphToKernels(graph, { mode, maxStorageBuffers: MAX_BUFFERS }).program.kernels.length;

describe('kernel counts', () => {
  it('per layer kind: forward, and the train step (forward + backward + clip + Adam)', () => {
    const counts: Record<string, [number, number]> = {};
    for (const kind of ['linear', 'layernorm', 'attention', 'bilstm', 'transformer']) {
      const fwd = layerGraph(kind);
      counts[kind] = [count(fwd), count(buildTrainStep(fwd, { loss: 'loss', lr: 1e-3, maxGradNorm: 1 }).graph)];
    }
    // forward: linear = matmul+bias, loss. layernorm = mean, variance (their consumer is the loss here, so they
    // stay separate row reductions), loss with the normalisation in-line. attention = 3 in-projections with
    // bias, scores with scale, softmax in one kernel (max, sum of exp, divide), context, head transpose copy,
    // out-projection with bias, loss. bilstm = b_ih + b_hh of both directions, W_hh of both packed for the
    // recurrence, an input projection per direction, ONE recurrence for both directions (a lane each), loss. Its
    // train step adds the loss gradient (2), one backward recurrence for both directions (the gate gradients), dx
    // (a matmul per direction, the second adding the first as its residual), h_prev of both directions (1), db of
    // both (1), dW_ih and dW_hh (a matmul each per direction: 4), the bias-gradient copy (1) and the optimizer (3):
    // 21, down from 28 with a routine (and so a recurrence) per direction.
    expect(counts).toEqual({
      linear: [2, 9],
      layernorm: [3, 8],
      attention: [9, 34],
      bilstm: [6, 21],
      transformer: [15, 69],
    });
  });

  it('whole smcir-tiny train step: fused vs one kernel per primitive', () => {
    const step = buildModelCase().step;
    // 542 and 1400 with one LSTM routine per direction; merging the directions saves 8 kernels per BiLSTM layer
    // (smcir-tiny has one in each generator), 9 unfused; the LSTM backward as a gate-gradient routine plus graph
    // matmuls (so that sample routing sees its weight gradients as sums) saves one more per layer: 524 and 1380
    expect([count(step.graph, 'fused'), count(step.graph, 'unfused')]).toEqual([524, 1380]);
  });
});
