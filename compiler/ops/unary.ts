// The unary elementwise primitives, one record each: doc, spec exposure, f64 semantics, VJP, WGSL, epilogue use.
// Adding an op is adding a record here (the graph, interpreter, autodiff, kernels and checker read this table).
import type { WgslHelper } from '../kernels/wgsl-common.js';
import { erf, sigmoid } from './math.js';
import type { UnaryDef } from './types.js';

/** softplus: max(x, 0) + log1p(e), e = exp(-|x|), log1p(e) = 2·atanh(e / (2 + e)) by its series (no log: WGSL's is 2^-21 absolute near 1). */
const SOFTPLUS: WgslHelper = {
  name: 'softplus',
  body: (T, s) => `fn smc_softplus_${s}(x: ${T}) -> ${T} {
  let e = exp(-abs(x));
  let q = e / (2.0 + e);
  let q2 = q * q;
  let l = 2.0 * q * (1.0 + q2 * (0.3333333333333333 + q2 * (0.2 + q2 * (0.14285714285714285 + q2 * (0.1111111111111111 + q2 * (0.09090909090909091 + q2 * (0.07692307692307693 + q2 * (0.06666666666666667 + q2 * 0.058823529411764705))))))));
  return select(max(x, ${T}(0.0)) + l, x, x > ${T}(20.0));
}`,
};

/** In the order `smcirc stdlib` lists the spec functions. */
export const UNARY = {
  relu: {
    doc: 'max(x, 0)', spec: true, epilogue: true,
    ref: (x) => (x < 0 ? 0 : x),
    vjp: ({ g, x, d, c }): number => g.mul(d, g.binary('gt', x, c(0))),
    wgsl: (a, cx) => `max(${a}, ${cx.splat('0.0')})`,
  },
  tanh: {
    doc: 'hyperbolic tangent', spec: true, epilogue: true,
    ref: Math.tanh,
    vjp: ({ g, y, d, c }): number => g.mul(d, g.sub(c(1), g.unary('square', y))),
    wgsl: (a, cx) => `${cx.helper('tanh')}(${a})`,
  },
  sigmoid: {
    doc: 'logistic sigmoid', spec: true, epilogue: true,
    ref: sigmoid,
    vjp: ({ g, y, d, c }): number => g.mul(d, g.mul(y, g.sub(c(1), y))),
    wgsl: (a, cx) => `${cx.helper('sigmoid')}(${a})`,
  },
  gelu: {
    doc: 'exact (erf) GELU', spec: true, epilogue: true,
    ref: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    vjp: ({ g, x, d, c }): number => {
      const cdf = g.mul(c(0.5), g.add2(c(1), g.unary('erf', g.mul(x, c(Math.SQRT1_2)))));
      const pdf = g.mul(c(1 / Math.sqrt(2 * Math.PI)), g.unary('exp', g.mul(c(-0.5), g.unary('square', x))));
      return g.mul(d, g.add2(cdf, g.mul(x, pdf)));
    },
    wgsl: (a, cx) => `${cx.helper('gelu')}(${a})`,
  },
  exp: {
    doc: 'e^x', spec: true, epilogue: false,
    ref: Math.exp,
    vjp: ({ g, y, d }): number => g.mul(d, y),
    wgsl: (a) => `exp(${a})`,
  },
  log: {
    doc: 'natural logarithm', spec: true, epilogue: false, domain: 'positive',
    ref: Math.log,
    vjp: ({ g, x, d }): number => g.div(d, x),
    wgsl: (a) => `log(${a})`,
  },
  sqrt: {
    doc: 'square root', spec: true, epilogue: false, domain: 'positive',
    ref: Math.sqrt,
    vjp: ({ g, y, d, c }): number => g.div(g.mul(d, c(0.5)), y),
    wgsl: (a) => `sqrt(${a})`,
  },
  abs: {
    doc: 'absolute value', spec: true, epilogue: false,
    ref: Math.abs,
    vjp: ({ g, x, d }): number => g.mul(d, g.unary('sign', x)),
    wgsl: (a) => `abs(${a})`,
  },
  silu: {
    doc: 'x · sigmoid(x) (SiLU, swish)', spec: true, epilogue: true,
    ref: (x) => x * sigmoid(x),
    // silu' = s + y·(1 − s), s = sigmoid(x)
    vjp: ({ g, x, y, d, c }): number => {
      const s = g.unary('sigmoid', x);
      return g.mul(d, g.add2(s, g.mul(y, g.sub(c(1), s))));
    },
    wgsl: (a, cx) => `${a} * ${cx.helper('sigmoid')}(${a})`,
  },
  softplus: {
    doc: 'log(1 + e^x), numerically stable (torch softplus: beta 1, threshold 20)', spec: true, epilogue: true,
    // as torch.nn.functional.softplus: x itself above the threshold, else max(x, 0) + log1p(e^{-|x|}) (no overflow)
    ref: (x) => (x > 20 ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))),
    vjp: ({ g, x, d }): number => g.mul(d, g.unary('sigmoid', x)),
    wgsl: (a, cx) => `${cx.helper(SOFTPLUS)}(${a})`,
  },
  // ---- not spec functions: used by layers, autodiff and lowerings ----
  neg: {
    doc: '-x', spec: false, epilogue: false,
    ref: (x) => -x,
    vjp: ({ g, d }): number => g.unary('neg', d),
    wgsl: (a) => `-${a}`,
  },
  rsqrt: {
    doc: '1 / sqrt(x)', spec: false, epilogue: false, domain: 'positive',
    ref: (x) => 1 / Math.sqrt(x),
    vjp: ({ g, x, y, d, c }): number => g.mul(d, g.mul(c(-0.5), g.div(y, x))),
    wgsl: (a) => `inverseSqrt(${a})`,
  },
  recip: {
    doc: '1 / x', spec: false, epilogue: false, domain: 'positive',
    ref: (x) => 1 / x,
    vjp: ({ g, y, d }): number => g.mul(d, g.unary('neg', g.unary('square', y))),
    wgsl: (a, cx) => `${cx.splat('1.0')} / ${a}`,
  },
  square: {
    doc: 'x²', spec: false, epilogue: false,
    ref: (x) => x * x,
    vjp: ({ g, x, d, c }): number => g.mul(d, g.mul(c(2), x)),
    wgsl: (a) => `${a} * ${a}`,
  },
  erf: {
    doc: 'the error function', spec: false, epilogue: false,
    ref: erf,
    vjp: ({ g, x, d, c }): number => g.mul(d, g.mul(c(2 / Math.sqrt(Math.PI)), g.unary('exp', g.unary('neg', g.unary('square', x))))),
    wgsl: (a, cx) => `${cx.helper('erf')}(${a})`,
  },
  sign: {
    doc: '-1, 0 or 1 (0 for NaN, as torch)', spec: false, epilogue: false,
    ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
    vjp: 'none',
    wgsl: (a) => `sign(${a})`,
  },
  floor: {
    doc: 'round down (index arithmetic of lowerings)', spec: false, epilogue: false,
    ref: Math.floor,
    vjp: 'none',
    wgsl: (a) => `floor(${a})`,
  },
  isnan: {
    doc: '1 where x is NaN, else 0', spec: false, epilogue: false,
    ref: (x) => (Number.isNaN(x) ? 1 : 0),
    vjp: 'none',
    wgsl: (a, cx) => `${cx.helper('isnan')}(${a})`,
  },
} as const satisfies Record<string, UnaryDef>;
