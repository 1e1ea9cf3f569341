// The standard library as the language sees it: built-in layers and functions with their signatures,
// each mapped onto the layer library (compiler/layers) or GraphBuilder primitives.

import type { GraphBuilder, InitSpec } from '../ir/graph.js';
import { SPEC_UNARY_OPS, UNARY, type SpecUnaryOp } from '../ops/index.js';
import * as L from '../layers/index.js';
import type { Span } from '../../grammar/diagnostics.js';
import { fail } from '../../grammar/diagnostics.js';
import { fmtCount, LIMITS } from './limits.js';
import { asBool, asDim, asInt, asList, asNumber, asString, describe, tensor, type Value } from './values.js';

export type ArgType = 'tensor' | 'int' | 'dim' | 'num' | 'str' | 'bool' | 'list' | 'any' | 'tensors';

export interface ArgSpec {
  name: string;
  type: ArgType;
  default?: Value;
}

/** What a built-in may ask of the elaborator. */
export interface BuildContext {
  g: GraphBuilder;
  training: boolean;
  /** The scalar seed input that keys dropout noise in this step. */
  seed(): number;
  /** Batch statistic: either computed over the batch or read from a population input. */
  batchStat(kind: 'mean' | 'std', x: number): number;
  span: Span;
}

export type Args = Map<string, Value>;

export interface FunctionDef {
  kind: 'fn';
  doc: string;
  params: ArgSpec[];
  build(ctx: BuildContext, args: Args): Value;
}

export interface LayerDef {
  kind: 'layer';
  doc: string;
  ctor: ArgSpec[];
  call: ArgSpec[];
  build(ctx: BuildContext, ctor: Args, call: Args): Value;
}

const T = (name: string): ArgSpec => ({ name, type: 'tensor' });
const I = (name: string, d?: number): ArgSpec => ({ name, type: 'int', default: d === undefined ? undefined : { t: 'num', v: d } });
const D = (name: string, d?: number): ArgSpec => ({ name, type: 'dim', default: d === undefined ? undefined : { t: 'num', v: d } });
const N = (name: string, d?: number): ArgSpec => ({ name, type: 'num', default: d === undefined ? undefined : { t: 'num', v: d } });
const B = (name: string, d?: boolean): ArgSpec => ({ name, type: 'bool', default: d === undefined ? undefined : { t: 'bool', v: d } });

const tid = (a: Args, k: string): number => (a.get(k) as { id: number }).id;
const n = (a: Args, k: string): number => (a.get(k) as { v: number }).v;
const b = (a: Args, k: string): boolean => {
  const v = a.get(k)!;
  return v.t === 'bool' ? v.v : (v as { v: number }).v !== 0;
};

/** A unary op of the table (compiler/ops) that specs call by its name, with the record's doc. */
const unaryFn = (fn: SpecUnaryOp): FunctionDef => ({
  kind: 'fn',
  doc: UNARY[fn].doc,
  params: [T('x')],
  build: ({ g }, a) => tensor(g.unary(fn, tid(a, 'x'))),
});

/** A compile-time constant matrix (pooling, interpolation, causal mask) is computed in f64 while checking: bound it
 *  before it is allocated. */
function constMatrix(what: string, rows: number | undefined, cols: number | undefined, span: Span): void {
  if (rows === undefined || cols === undefined) return;
  const n = rows * cols;
  if (n > LIMITS.constElements) {
    fail('SMC3009', `${what} needs a constant [${rows}, ${cols}] matrix: ${fmtCount(n)} elements, more than the ${fmtCount(LIMITS.constElements)} (2^26) allowed`, span, 'check the sequence lengths (constants, `--set` values)');
  }
}

const normAxis = (axis: number, rank: number, span: Span): number => {
  const r = axis < 0 ? axis + rank : axis;
  if (r < 0 || r >= rank) fail('SMC3006', `axis ${axis} is out of range for a tensor of rank ${rank}`, span);
  return r;
};

export const FUNCTIONS: Record<string, FunctionDef> = {
  ...Object.fromEntries(SPEC_UNARY_OPS.map((op) => [op, unaryFn(op)])),
  stop_gradient: { kind: 'fn', doc: 'identity that passes no gradient', params: [T('x')], build: ({ g }, a) => tensor(g.stopGradient(tid(a, 'x'))) },
  softmax: { kind: 'fn', doc: 'softmax along an axis', params: [T('x'), I('axis', -1)], build: ({ g }, a) => tensor(L.softmax(g, tid(a, 'x'), n(a, 'axis'))) },
  concat: {
    kind: 'fn',
    doc: 'concatenate a list of tensors along an axis',
    params: [{ name: 'xs', type: 'tensors' }, I('axis', -1)],
    build: ({ g }, a) => tensor(g.concat((a.get('xs') as { items: { id: number }[] }).items.map((x) => x.id), n(a, 'axis'))),
  },
  unsqueeze: {
    kind: 'fn',
    doc: 'insert an axis of length 1',
    params: [T('x'), I('axis')],
    build: ({ g, span }, a) => {
      const s = g.shape(tid(a, 'x'));
      const ax = normAxis(n(a, 'axis'), s.length + 1, span);
      return tensor(g.reshape(tid(a, 'x'), [...s.slice(0, ax), 1, ...s.slice(ax)]));
    },
  },
  squeeze: {
    kind: 'fn',
    doc: 'remove an axis of length 1',
    params: [T('x'), I('axis')],
    build: ({ g, span }, a) => {
      const s = g.shape(tid(a, 'x'));
      const ax = normAxis(n(a, 'axis'), s.length, span);
      if (s[ax] !== 1) fail('SMC3001', `squeeze: axis ${n(a, 'axis')} has length ${s[ax]}, not 1`, span);
      return tensor(g.reshape(tid(a, 'x'), s.filter((_, i) => i !== ax)));
    },
  },
  reshape: {
    kind: 'fn',
    doc: 'reshape (one dimension may be -1)',
    params: [T('x'), { name: 'shape', type: 'list' }],
    build: ({ g, span }, a) => tensor(g.reshape(tid(a, 'x'), asList(a.get('shape')!, 'shape', span).map((d) => asInt(d, 'a dimension', span)))),
  },
  transpose: {
    kind: 'fn',
    doc: 'swap two axes',
    params: [T('x'), I('a', -2), I('b', -1)],
    build: ({ g }, a) => tensor(g.transpose(tid(a, 'x'), n(a, 'a'), n(a, 'b'))),
  },
  sum: { kind: 'fn', doc: 'sum over an axis', params: [T('x'), I('axis'), B('keepdims', false)], build: ({ g }, a) => tensor(g.sum(tid(a, 'x'), [n(a, 'axis')], b(a, 'keepdims'))) },
  mean: { kind: 'fn', doc: 'mean over an axis', params: [T('x'), I('axis'), B('keepdims', false)], build: ({ g }, a) => tensor(g.mean(tid(a, 'x'), [n(a, 'axis')], b(a, 'keepdims'))) },
  max: { kind: 'fn', doc: 'maximum over an axis', params: [T('x'), I('axis'), B('keepdims', false)], build: ({ g }, a) => tensor(g.reduce('max', tid(a, 'x'), [n(a, 'axis')], b(a, 'keepdims'))) },
  max_time: { kind: 'fn', doc: 'max over time: [B, T, C] → [B, C]', params: [T('x')], build: ({ g }, a) => tensor(L.maxOverTime(g, tid(a, 'x'))) },
  mean_time: { kind: 'fn', doc: 'mean over time: [B, T, C] → [B, C]', params: [T('x')], build: ({ g }, a) => tensor(L.meanOverTime(g, tid(a, 'x'))) },
  interpolate: {
    kind: 'fn',
    doc: 'linear interpolation along time to `length` steps (PyTorch semantics)',
    params: [T('x'), D('length'), B('align_corners', false)],
    build: ({ g, span }, a) => {
      constMatrix('interpolate', n(a, 'length'), g.shape(tid(a, 'x'))[1], span);
      return tensor(L.interpolateTime(g, tid(a, 'x'), n(a, 'length'), { alignCorners: b(a, 'align_corners') }));
    },
  },
  adaptive_avg_pool: {
    kind: 'fn',
    doc: 'adaptive average pooling along time to `length` steps',
    params: [T('x'), D('length')],
    build: ({ g, span }, a) => {
      constMatrix('adaptive_avg_pool', n(a, 'length'), g.shape(tid(a, 'x'))[1], span);
      return tensor(L.adaptiveAvgPoolTime(g, tid(a, 'x'), n(a, 'length')));
    },
  },
  dropout: {
    kind: 'fn',
    doc: 'inverted dropout with probability p (identity in evaluation)',
    params: [T('x'), N('p', 0.1)],
    build: (ctx, a) => tensor(n(a, 'p') > 0 && ctx.training ? L.dropout(ctx.g, tid(a, 'x'), n(a, 'p'), { training: true, seed: ctx.seed() }) : tid(a, 'x')),
  },
  where: {
    kind: 'fn',
    doc: 'per-sample selection: where(mask, a, b) takes a where mask ≠ 0; a mask of lower rank is aligned on the leading (batch) axes',
    params: [T('mask'), T('a'), T('b')],
    build: ({ g }, a) => {
      let m = tid(a, 'mask');
      const x = tid(a, 'a');
      const y = tid(a, 'b');
      const rank = Math.max(g.shape(x).length, g.shape(y).length);
      const ms = g.shape(m);
      if (ms.length < rank) m = g.reshape(m, [...ms, ...Array(rank - ms.length).fill(1)]);
      return tensor(g.select(m, x, y));
    },
  },
  gather: {
    kind: 'fn',
    doc: 'rows of a [V, D] table at ids [...] (f32 integers) → [..., D]; no gradient to ids; an id outside [0, V) is an error on the interpreter and clamped into range on the GPU',
    params: [T('table'), T('ids')],
    build: ({ g }, a) => tensor(L.gather(g, tid(a, 'table'), tid(a, 'ids'))),
  },
  // ---- DMFD indicators ----
  hist_entropy: {
    kind: 'fn',
    doc: 'released DMFD entropy: Shannon entropy (nats) of a `bins`-bin histogram of all values of each sample → [B]',
    params: [T('x'), I('bins', 30)],
    build: ({ g }, a) => tensor(L.histEntropy(g, tid(a, 'x'), n(a, 'bins'))),
  },
  count_mi: {
    kind: 'fn',
    doc: 'released DMFD "MI": sklearn mutual_info_score of the two per-sample histogram count vectors → [B]',
    params: [T('x'), T('y'), I('bins', 30)],
    build: ({ g }, a) => tensor(L.countMI(g, tid(a, 'x'), tid(a, 'y'), n(a, 'bins'))),
  },
  allpairs_cosine: {
    kind: 'fn',
    doc: 'released DMFD similarity: mean of all pairwise cosines between time steps of x and y → [B]',
    params: [T('x'), T('y')],
    build: ({ g }, a) => tensor(L.allPairsCosine(g, tid(a, 'x'), tid(a, 'y'))),
  },
  softmax_norm_entropy: {
    kind: 'fn',
    doc: 'paper Eq. 1–2: entropy of softmax(‖x_t‖ / tau) over time → [B]',
    params: [T('x'), N('tau', 1)],
    build: ({ g }, a) => tensor(L.softmaxNormEntropy(g, tid(a, 'x'), n(a, 'tau'))),
  },
  joint_hist_mi: {
    kind: 'fn',
    doc: 'paper Eq. 3: mutual information from a joint `bins`×`bins` histogram of x and y → [B]',
    params: [T('x'), T('y'), I('bins', 30)],
    build: ({ g }, a) => tensor(L.jointHistMI(g, tid(a, 'x'), tid(a, 'y'), n(a, 'bins'))),
  },
  diag_cosine: {
    kind: 'fn',
    doc: 'paper Eq. 4–5: mean over time of cos(x_t, y_t) → [B]',
    params: [T('x'), T('y'), N('eps', 1e-8)],
    build: ({ g }, a) => tensor(L.diagCosine(g, tid(a, 'x'), tid(a, 'y'), n(a, 'eps'))),
  },
  batch_mean: { kind: 'fn', doc: 'mean over the batch of a per-sample score [B] → []', params: [T('x')], build: (ctx, a) => tensor(ctx.batchStat('mean', tid(a, 'x'))) },
  batch_std: { kind: 'fn', doc: 'population std (ddof 0) over the batch of a per-sample score [B] → []', params: [T('x')], build: (ctx, a) => tensor(ctx.batchStat('std', tid(a, 'x'))) },
  // ---- losses ----
  l1: { kind: 'fn', doc: 'mean absolute error', params: [T('pred'), T('target')], build: (ctx, a) => tensor(L.l1Loss(ctx.g, sameShape(ctx, a), tid(a, 'target'))) },
  mse: { kind: 'fn', doc: 'mean squared error', params: [T('pred'), T('target')], build: (ctx, a) => tensor(L.mseLoss(ctx.g, sameShape(ctx, a), tid(a, 'target'))) },
  simse: { kind: 'fn', doc: 'scale-invariant MSE: (Σ(target − pred))² / n²', params: [T('pred'), T('target')], build: (ctx, a) => tensor(L.simseLoss(ctx.g, sameShape(ctx, a), tid(a, 'target'))) },
};

function sameShape(ctx: BuildContext, a: Args): number {
  const p = tid(a, 'pred');
  const t = tid(a, 'target');
  const sp = ctx.g.shape(p);
  const st = ctx.g.shape(t);
  if (sp.length !== st.length || sp.some((d, i) => d !== st[i])) {
    fail('SMC3001', `loss: prediction [${sp.join(', ')}] and target [${st.join(', ')}] differ in shape`, ctx.span, 'index or squeeze the prediction so both have the same shape (e.g. `pred[:, 0]`)');
  }
  return p;
}

export const LAYERS: Record<string, LayerDef> = {
  Linear: {
    kind: 'layer',
    doc: 'y = x Wᵀ + b',
    ctor: [D('in_features'), D('out_features'), B('bias', true)],
    call: [T('x')],
    build: ({ g }, c, a) => tensor(L.linear(g, tid(a, 'x'), { in: n(c, 'in_features'), out: n(c, 'out_features'), bias: b(c, 'bias') })),
  },
  LayerNorm: {
    kind: 'layer',
    doc: 'layer normalisation over the last axis',
    ctor: [D('dim'), N('eps', 1e-5)],
    call: [T('x')],
    build: ({ g }, c, a) => tensor(L.layerNorm(g, tid(a, 'x'), { dim: n(c, 'dim'), eps: n(c, 'eps') })),
  },
  Conv1d: {
    kind: 'layer',
    doc: '1-D convolution along time of [B, T, C] (zero padding)',
    ctor: [D('in_channels'), D('out_channels'), D('kernel'), I('padding', 0), B('bias', true)],
    call: [T('x')],
    build: ({ g }, c, a) =>
      tensor(L.conv1d(g, tid(a, 'x'), { in: n(c, 'in_channels'), out: n(c, 'out_channels'), kernel: n(c, 'kernel'), padding: n(c, 'padding'), bias: b(c, 'bias') })),
  },
  LSTM: {
    kind: 'layer',
    doc: 'stacked (Bi)LSTM over time, zero initial state; [B, T, I] → [B, T, H·directions]',
    ctor: [D('input'), D('hidden'), D('layers', 1), B('bidirectional', false)],
    call: [T('x')],
    build: ({ g }, c, a) =>
      tensor(L.lstm(g, tid(a, 'x'), { input: n(c, 'input'), hidden: n(c, 'hidden'), layers: n(c, 'layers'), bidirectional: b(c, 'bidirectional') })),
  },
  MultiheadAttention: {
    kind: 'layer',
    doc: 'multi-head attention (PyTorch packed projections), softmax over keys',
    ctor: [D('embed'), D('heads', 1), B('causal', false)],
    call: [T('query'), T('key'), T('value')],
    build: ({ g, span }, c, a) => {
      if (b(c, 'causal')) constMatrix('the causal mask of MultiheadAttention', g.shape(tid(a, 'query'))[1], g.shape(tid(a, 'key'))[1], span);
      return tensor(L.multiheadAttention(g, tid(a, 'query'), tid(a, 'key'), tid(a, 'value'), { embed: n(c, 'embed'), heads: n(c, 'heads'), causal: b(c, 'causal') }));
    },
  },
  TransformerEncoder: {
    kind: 'layer',
    doc: 'fairseq/MulT encoder; mix_time = false is the released SMCIR code’s form, which never mixes time steps',
    ctor: [D('d_model'), D('heads', 8), D('layers', 2), D('ffn_mult', 4), B('pre_ln', true), B('final_ln', true), B('causal', true), B('scale_input', true), B('mix_time', true), N('dropout', 0.1)],
    call: [T('x')],
    build: (ctx, c, a) => {
      const T = ctx.g.shape(tid(a, 'x'))[1];
      if (b(c, 'causal') && b(c, 'mix_time')) constMatrix('the causal mask of TransformerEncoder', T, T, ctx.span);
      return tensor(
        L.transformerEncoder(ctx.g, tid(a, 'x'), {
          dModel: n(c, 'd_model'),
          heads: n(c, 'heads'),
          layers: n(c, 'layers'),
          ffnMult: n(c, 'ffn_mult'),
          preLn: b(c, 'pre_ln'),
          finalLn: b(c, 'final_ln'),
          causal: b(c, 'causal'),
          scaleInput: b(c, 'scale_input'),
          mixTime: b(c, 'mix_time'),
          dropout: n(c, 'dropout'),
          training: ctx.training,
          seed: ctx.training && n(c, 'dropout') > 0 ? ctx.seed() : undefined,
        }),
      );
    },
  },
  Embedding: {
    kind: 'layer',
    doc: 'token embedding (nn.Embedding): `weight` [vocab, dim], init normal(0.02), looked up by f32 integer ids; [...] → [..., dim]',
    ctor: [D('vocab'), D('dim')],
    call: [T('ids')],
    build: ({ g }, c, a) => tensor(L.embedding(g, tid(a, 'ids'), { vocab: n(c, 'vocab'), dim: n(c, 'dim') })),
  },
};

/** Initialisers usable in `param w: [shape] init normal(0.02)`. */
export const INITS: Record<string, { params: ArgSpec[]; make(a: Args, shape: number[]): InitSpec }> = {
  zeros: { params: [], make: () => ({ kind: 'zeros' }) },
  ones: { params: [], make: () => ({ kind: 'ones' }) },
  normal: { params: [N('std', 0.02)], make: (a) => ({ kind: 'normal', std: n(a, 'std') }) },
  uniform: { params: [N('bound')], make: (a) => ({ kind: 'uniform', bound: n(a, 'bound') }) },
  xavier_uniform: {
    params: [],
    make: (_a, s) => ({ kind: 'xavier_uniform', fanIn: s[s.length - 1] ?? 1, fanOut: s[0] ?? 1 }),
  },
};

/** Binds positional and keyword arguments to a signature, checking each value's kind. */
export function bindArgs(
  what: string,
  specs: ArgSpec[],
  positional: { value: Value; span: Span }[],
  named: { name: string; value: Value; span: Span }[],
  span: Span,
  shapeOf: (id: number) => readonly number[],
  didYouMean: (name: string, options: string[]) => string | undefined,
): Args {
  const out: Args = new Map();
  if (positional.length > specs.length) {
    fail('SMC2004', `${what} takes at most ${specs.length} argument${specs.length === 1 ? '' : 's'}, got ${positional.length}`, positional[specs.length]!.span, `its parameters are: ${specs.map((s) => s.name).join(', ') || 'none'}`);
  }
  positional.forEach((p, i) => out.set(specs[i]!.name, check(specs[i]!, p.value, p.span)));
  for (const a of named) {
    const spec = specs.find((s) => s.name === a.name);
    if (!spec) fail('SMC2005', `${what} has no parameter \`${a.name}\``, a.span, didYouMean(a.name, specs.map((s) => s.name)) ?? `its parameters are: ${specs.map((s) => s.name).join(', ')}`);
    if (out.has(a.name)) fail('SMC2004', `\`${a.name}\` is given twice`, a.span);
    out.set(a.name, check(spec, a.value, a.span));
  }
  for (const s of specs) {
    if (out.has(s.name)) continue;
    if (s.default === undefined) fail('SMC2006', `${what} needs \`${s.name}\``, span, `add \`${s.name} = ...\``);
    out.set(s.name, s.default);
  }
  return out;

  function check(spec: ArgSpec, v: Value, at: Span): Value {
    const label = `\`${spec.name}\` of ${what}`;
    switch (spec.type) {
      case 'tensor':
        if (v.t === 'tensor') return v;
        if (v.t === 'num') return v; // scalars are promoted by the caller
        return fail('SMC3002', `${label} must be a tensor, got ${describe(v, shapeOf)}`, at);
      case 'tensors': {
        const items = asList(v, label, at);
        for (const x of items) if (x.t !== 'tensor') fail('SMC3002', `${label} must be a list of tensors, got ${describe(x, shapeOf)} in it`, at);
        return v;
      }
      case 'int':
        return { t: 'num', v: asInt(v, label, at) };
      case 'dim':
        return { t: 'num', v: asDim(v, label, at) };
      case 'num':
        return { t: 'num', v: asNumber(v, label, at) };
      case 'str':
        return { t: 'str', v: asString(v, label, at) };
      case 'bool':
        return { t: 'bool', v: asBool(v, label, at) };
      case 'list':
        return { t: 'list', items: asList(v, label, at) };
      case 'any':
        return v;
    }
  }
}
