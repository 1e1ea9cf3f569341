// The binary elementwise primitives (numpy broadcasting), one record each: doc, f64 semantics, VJP, WGSL.
// Comparisons give 0/1 floats and pass no gradient.
import type { BinaryDef, Grad, WgslContext } from './types.js';

const cmp = (a: string, op: string, b: string, cx: WgslContext): string => `select(${cx.splat('0.0')}, ${cx.splat('1.0')}, ${a} ${op} ${b})`;

export const BINARY = {
  add: {
    doc: 'a + b',
    ref: (a, b) => a + b,
    vjp: ({ d, grad }): [Grad, Grad] => [grad(0, () => d), grad(1, () => d)],
    wgsl: (a, b) => `${a} + ${b}`,
  },
  sub: {
    doc: 'a − b',
    ref: (a, b) => a - b,
    vjp: ({ g, d, grad }): [Grad, Grad] => [grad(0, () => d), grad(1, () => g.unary('neg', d))],
    wgsl: (a, b) => `${a} - ${b}`,
  },
  mul: {
    doc: 'a · b',
    ref: (a, b) => a * b,
    vjp: ({ g, a, b, d, grad }): [Grad, Grad] => [grad(0, () => g.mul(d, b)), grad(1, () => g.mul(d, a))],
    wgsl: (a, b) => `${a} * ${b}`,
  },
  div: {
    doc: 'a / b',
    ref: (a, b) => a / b,
    vjp: ({ g, b, y, d, grad }): [Grad, Grad] => [
      grad(0, () => g.div(d, b)),
      grad(1, () => g.unary('neg', g.div(g.mul(d, y), b))),
    ],
    wgsl: (a, b) => `${a} / ${b}`,
    domain: 'positive',
  },
  max: {
    doc: 'the larger of a and b (NaN if either is, as torch.maximum); a tie sends the gradient to a',
    ref: Math.max,
    vjp: ({ g, a, b, d, zero, grad }): [Grad, Grad] => {
      const pickA = g.binary('ge', a, b);
      return [grad(0, () => g.select(pickA, d, zero)), grad(1, () => g.select(pickA, zero, d))];
    },
    wgsl: (a, b) => `max(${a}, ${b})`,
  },
  min: {
    doc: 'the smaller of a and b (NaN if either is, as torch.minimum); a tie sends the gradient to a',
    ref: Math.min,
    vjp: ({ g, a, b, d, zero, grad }): [Grad, Grad] => {
      const pickA = g.binary('le', a, b);
      return [grad(0, () => g.select(pickA, d, zero)), grad(1, () => g.select(pickA, zero, d))];
    },
    wgsl: (a, b) => `min(${a}, ${b})`,
  },
  pow: {
    doc: 'a^b',
    ref: Math.pow,
    vjp: ({ g, a, b, y, d, grad }): [Grad, Grad] => [
      grad(0, () => g.mul(d, g.mul(b, g.binary('pow', a, g.sub(b, g.scalar(1)))))),
      grad(1, () => g.mul(d, g.mul(y, g.unary('log', a)))),
    ],
    wgsl: (a, b) => `pow(${a}, ${b})`,
    domain: 'positive',
  },
  lt: { doc: 'a < b (0/1)', ref: (a, b) => (a < b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '<', b, cx) },
  le: { doc: 'a ≤ b (0/1)', ref: (a, b) => (a <= b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '<=', b, cx) },
  gt: { doc: 'a > b (0/1)', ref: (a, b) => (a > b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '>', b, cx) },
  ge: { doc: 'a ≥ b (0/1)', ref: (a, b) => (a >= b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '>=', b, cx) },
  eq: { doc: 'a = b (0/1)', ref: (a, b) => (a === b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '==', b, cx) },
  ne: { doc: 'a ≠ b (0/1)', ref: (a, b) => (a !== b ? 1 : 0), vjp: 'none', wgsl: (a, b, cx) => cmp(a, '!=', b, cx) },
} as const satisfies Record<string, BinaryDef>;
