// Every structural and routine VJP rule against central finite differences in f64 (error ≤ 1 means within
// atol + rtol·|fd|).
import { describe, expect, it } from 'vitest';
import { GraphBuilder, numel } from '../../compiler/ir/graph.js';
import { gradients } from '../../compiler/autodiff.js';
import '../../compiler/ir/routines/index.js';
import { fdCheck } from '../helpers/fd.js';

const pass = (r: { maxErr: number; worst: string }): void => {
  expect(r.maxErr, r.worst).toBeLessThan(1);
};

// Every elementwise op's VJP is checked by walking the op table: test/ir/op-table.test.ts.

describe('broadcasting VJPs', () => {
  it('broadcast on both sides [2,1] x [1,3]', () => {
    pass(fdCheck([[2, 1], [1, 3]], (g, [x, y]) => g.mul(x!, y!)));
  });
});

describe('structural VJPs', () => {
  it('select (condition gets none)', () => {
    pass(fdCheck([[2, 3], [2, 3], [3]], (g, [c, x, y]) => g.select(g.binary('gt', c!, g.scalar(0)), x!, y!)));
  });
  it('reduce sum / max with and without keepdims', () => {
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.sum(x!, [0, 2])));
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.sum(x!, [1], true)));
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.reduce('max', x!, [2])));
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.reduce('max', x!, [0, 1], true)));
  });
  it('reshape, permute, transpose', () => {
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.reshape(x!, [4, 6])));
    pass(fdCheck([[2, 3, 4]], (g, [x]) => g.permute(x!, [2, 0, 1])));
  });
  it('slice, pad, broadcast, concat', () => {
    pass(fdCheck([[3, 5]], (g, [x]) => g.slice(x!, 1, 1, 4)));
    pass(fdCheck([[3, 5]], (g, [x]) => g.pad(x!, 0, 1, 2)));
    pass(fdCheck([[3, 1]], (g, [x]) => g.broadcastTo(x!, [2, 3, 4])));
    pass(fdCheck([[2, 3], [2, 1], [2, 2]], (g, xs) => g.concat(xs, 1)));
  });
  it('matmul: plain, batched with broadcast, and against a rank-2 weight', () => {
    pass(fdCheck([[3, 4], [4, 2]], (g, [a, b]) => g.matmul(a!, b!)));
    pass(fdCheck([[2, 1, 3, 4], [3, 4, 2]], (g, [a, b]) => g.matmul(a!, b!)));
    pass(fdCheck([[2, 5, 4], [4, 3]], (g, [a, b]) => g.matmul(a!, b!)));
  });
  it('stop_gradient passes none; comparisons and sign pass none', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [3]);
    const y = g.sum(g.add2(g.mul(g.stopGradient(x), x), g.add2(g.binary('lt', x, g.scalar(0)), g.unary('sign', x))), [0]);
    const gr = gradients(g, y, [x]);
    expect(gr.has(x)).toBe(true);
    const z = g.sum(g.stopGradient(x), [0]);
    expect(gradients(g, z, [x]).size).toBe(0);
  });
});

describe('routine VJPs', () => {
  const lstmCase = (reverse: boolean, useC: boolean) => () => {
    const [B, T, I, H] = [2, 4, 3, 2];
    pass(fdCheck([[B, T, I], [4 * H, I], [4 * H, H], [4 * H], [4 * H]], (g, xs) => {
      const out = g.routine('lstm', xs, { reverse });
      return useC ? out : g.slice(out, 2, 0, H);
    }, { probes: 40 }));
  };
  it('lstm forward direction, h only', lstmCase(false, false));
  it('lstm reverse direction, h and c', lstmCase(true, true));
  it('histogram routines pass no gradient', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 10]);
    const y = g.input('y', [2, 10]);
    const h = g.add2(g.routine('hist_entropy', [x], { bins: 5 }), g.routine('count_mi', [x, y], { bins: 5 }));
    const j = g.routine('joint_hist_mi', [x, y], { bins: 5 });
    expect(gradients(g, g.sum(g.add2(h, j), [0]), [x, y]).size).toBe(0);
  });
});

describe('gradient accumulation', () => {
  it('a node used many times', () => {
    pass(fdCheck([[4]], (g, [x]) => g.mul(g.mul(x!, x!), g.unary('tanh', x!))));
    expect(numel([2, 3])).toBe(6);
  });
});
