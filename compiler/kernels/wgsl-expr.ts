// WGSL for expression kernels: elementwise trees (vec4 where the layout allows; each op's form from the op table)
// and row reductions, either one invocation per row (software adapters) or one workgroup per row with a fixed-order
// tree (real GPUs).
import type { AffineMap, Expr, ExprKernel } from './ir.js';
import { numel } from './ir.js';
import type { KernelConfig } from './select.js';
import type { LoweredKernel } from './lowered.js';
import { BINARY, UNARY } from '../ops/index.js';
import {
  HelperSet,
  MAIN_SIGNATURE,
  NONFINITE_DECLS,
  commentText,
  f32Literal,
  ftype,
  grid1d,
  header,
  ioBindings,
  lowered,
  nonFinite,
  storageDecl,
  workgroupSignature,
} from './wgsl-common.js';

interface Env {
  /** Shape-dependent integers (sizes, strides, offsets) travel in a uniform so kernels of one structure share a pipeline. */
  params: number[];
  helpers: HelperSet;
  usesNonFinite: boolean;
  vecView: boolean[];
  sizes: number[];
  fresh: number;
}

/** A block of WGSL statements evaluating expressions at one width with one set of coordinates. */
class Scope {
  readonly lines: string[] = [];
  private memo = new Map<string, string>();
  constructor(
    readonly env: Env,
    readonly parent: Scope | undefined,
    /** 1 or 4; at 4 the `inner` axis is vectorised (its coordinate is the first of four lanes). */
    readonly w: number,
    readonly inner: number,
    /** i32 WGSL expression of each axis coordinate. */
    readonly coords: string[],
    readonly indent: string,
  ) {}

  lookup(key: string): string | undefined {
    return this.memo.get(key) ?? this.parent?.lookup(key);
  }

  bind(key: string, rhs: string): string {
    const hit = this.lookup(key);
    if (hit) return hit;
    const name = `v${this.env.fresh++}`;
    this.lines.push(`${this.indent}let ${name} = ${rhs};`);
    this.memo.set(key, name);
    return name;
  }
}

/** A uniform slot holding v (0 and 1 stay literal: they decide the structure). */
function P(env: Env, v: number): string {
  if (v === 0 || v === 1) return String(v);
  const k = env.params.length;
  env.params.push(v);
  return `smc_u[${k >> 2}].${'xyzw'[k & 3]}`;
}

const keyCache = new WeakMap<Expr, string>();
function keyOf(e: Expr): string {
  const hit = keyCache.get(e);
  if (hit) return hit;
  let k: string;
  switch (e.k) {
    case 'const': k = `c(${Object.is(e.value, -0) ? '-0' : e.value})`; break;
    case 'load': k = `ld(${e.input},${e.map.offset},${e.map.strides.join(',')}${e.map.clamp ? ',c' : ''})`; break;
    case 'gather': k = `ga(${e.input},${keyOf(e.index)}${e.rows ? `,${e.rows.count},${e.rows.stride},${keyOf(e.rows.col)}` : ''})`; break;
    case 'coord': k = `co(${e.axis})`; break;
    case 'acc': k = `acc(${e.stage})`; break;
    case 'unary': k = `${e.op}(${keyOf(e.a)})`; break;
    case 'binary': k = `${e.op}(${keyOf(e.a)},${keyOf(e.b)})`; break;
    case 'select': k = `sel(${keyOf(e.cond)},${keyOf(e.a)},${keyOf(e.b)})`; break;
    case 'rand': k = `rand(${e.stream},${keyOf(e.seed)},${e.map.offset},${e.map.strides.join(',')})`; break;
  }
  keyCache.set(e, k);
  return k;
}

function indexExpr(env: Env, map: AffineMap, coords: string[]): string {
  const terms: string[] = [];
  map.strides.forEach((s, d) => {
    if (s === 0) return;
    const c = coords[d] ?? '0';
    if (c === '0') return;
    terms.push(s === 1 ? c : `${c} * ${P(env, s)}`);
  });
  if (map.offset !== 0 || terms.length === 0) terms.push(P(env, map.offset));
  return terms.join(' + ');
}

/** Scalar read of element `idx` (an i32 WGSL expression) of input i, whatever its view. */
function readScalar(env: Env, i: number, idx: string): string {
  return env.vecView[i] ? `in${i}[(${idx}) / 4][(${idx}) % 4]` : `in${i}[${idx}]`;
}

/** Can a vec4 load serve this map (inner stride 1, every lane group aligned)? */
export function vec4Aligned(map: AffineMap, inner: number): boolean {
  if (map.clamp || map.strides[inner] !== 1 || map.offset % 4 !== 0) return false;
  return map.strides.every((s, d) => d === inner || s % 4 === 0);
}

function emit(e: Expr, sc: Scope): string {
  const key = keyOf(e);
  const hit = sc.lookup(key);
  if (hit) return hit;
  const env = sc.env;
  const w = sc.w;
  const T = ftype(w);
  const splat = (s: string): string => (w === 1 ? s : `${T}(${s})`);
  switch (e.k) {
    case 'const': {
      if (!Number.isFinite(e.value)) {
        env.usesNonFinite = true;
        return sc.bind(key, splat(nonFinite(e.value)));
      }
      return w === 1 ? `${f32Literal(e.value)}` : sc.bind(key, `${T}(${f32Literal(e.value)})`);
    }
    case 'coord': {
      const c = sc.coords[e.axis] ?? '0';
      if (w > 1 && e.axis === sc.inner) return sc.bind(key, `${T}(f32(${c})) + ${T}(0.0, 1.0, 2.0, 3.0)`);
      return sc.bind(key, splat(`f32(${c})`));
    }
    case 'acc':
      return w === 1 ? `acc${e.stage}` : sc.bind(key, splat(`acc${e.stage}`));
    case 'load': {
      const ix = indexExpr(env, e.map, sc.coords);
      const hi = e.map.clamp ? P(env, env.sizes[e.input]! - 1) : '';
      const idx = e.map.clamp ? `clamp(${ix}, 0, ${hi})` : ix;
      if (w === 1) return sc.bind(key, readScalar(env, e.input, idx));
      const s = e.map.strides[sc.inner] ?? 0;
      if (s === 0) return sc.bind(key, splat(readScalar(env, e.input, idx)));
      if (env.vecView[e.input] && vec4Aligned(e.map, sc.inner)) return sc.bind(key, `in${e.input}[(${idx}) / 4]`);
      const base = sc.bind(`ix:${key}`, ix);
      const sp = s === 1 ? '' : P(env, s);
      const lane = (l: number): string => (l === 0 ? base : s === 1 ? `${base} + ${l}` : `${base} + ${l} * ${sp}`);
      const lanes = [0, 1, 2, 3].map((l) => readScalar(env, e.input, e.map.clamp ? `clamp(${lane(l)}, 0, ${hi})` : lane(l)));
      return sc.bind(key, `${T}(${lanes.join(', ')})`);
    }
    case 'gather': {
      const ix = emit(e.index, sc);
      if (e.rows) {
        // row · stride + col in i32: exact for any buffer (an f32 flat index is exact below 2^24 only)
        const col = emit(e.rows.col, sc);
        const I = w === 1 ? 'i32' : 'vec4<i32>';
        const [rhi, st, hi] = [P(env, e.rows.count - 1), P(env, e.rows.stride), P(env, env.sizes[e.input]! - 1)];
        const flat = `clamp(${I}(${ix}), ${I}(0), ${I}(${rhi})) * ${I}(${st}) + ${I}(${col})`;
        const gi = sc.bind(`gi:${key}`, `clamp(${flat}, ${I}(0), ${I}(${hi}))`);
        if (w === 1) return sc.bind(key, readScalar(env, e.input, gi));
        return sc.bind(key, `${T}(${['x', 'y', 'z', 'w'].map((l) => readScalar(env, e.input, `${gi}.${l}`)).join(', ')})`);
      }
      const hi = P(env, env.sizes[e.input]! - 1);
      if (w === 1) return sc.bind(key, readScalar(env, e.input, `clamp(i32(${ix}), 0, ${hi})`));
      const gi = sc.bind(`gi:${key}`, `clamp(vec4<i32>(${ix}), vec4<i32>(0), vec4<i32>(${hi}))`);
      return sc.bind(key, `${T}(${['x', 'y', 'z', 'w'].map((l) => readScalar(env, e.input, `${gi}.${l}`)).join(', ')})`);
    }
    case 'unary': {
      const a = emit(e.a, sc);
      return sc.bind(key, UNARY[e.op].wgsl(a, { splat, helper: (h) => env.helpers.use(h, w) }));
    }
    case 'binary': {
      const a = emit(e.a, sc);
      const b = emit(e.b, sc);
      return sc.bind(key, BINARY[e.op].wgsl(a, b, { splat, helper: (h) => env.helpers.use(h, w) }));
    }
    case 'rand': {
      const fn = env.helpers.use('rand', 1);
      const seedS = new Scope(env, sc, 1, sc.inner, sc.coords, sc.indent);
      const seed = emit(e.seed, seedS);
      sc.lines.push(...seedS.lines);
      const ix = indexExpr(env, e.map, sc.coords);
      const su = `u32(${seed})`;
      if (w === 1) return sc.bind(key, `${fn}(${su}, ${e.stream >>> 0}u, u32(${ix}))`);
      const s4 = e.map.strides[sc.inner] ?? 0;
      const base = sc.bind(`rix:${key}`, ix);
      const sp = s4 === 1 ? '' : P(env, s4);
      const lanes = [0, 1, 2, 3].map((l) => `${fn}(${su}, ${e.stream >>> 0}u, u32(${l === 0 ? base : s4 === 1 ? `${base} + ${l}` : `${base} + ${l} * ${sp}`}))`);
      return sc.bind(key, `${T}(${lanes.join(', ')})`);
    }
    case 'select': {
      const cnd = emit(e.cond, sc);
      const a = emit(e.a, sc);
      const b = emit(e.b, sc);
      return sc.bind(key, `select(${b}, ${a}, ${cnd} != ${splat('0.0')})`);
    }
  }
  throw new Error(`wgsl-expr: unhandled expression ${key}`);
}

function walk(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.k) {
    case 'gather': walk(e.index, f); if (e.rows) walk(e.rows.col, f); break;
    case 'unary': walk(e.a, f); break;
    case 'binary': walk(e.a, f); walk(e.b, f); break;
    case 'select': walk(e.cond, f); walk(e.a, f); walk(e.b, f); break;
    case 'rand': walk(e.seed, f); break;
    default: break;
  }
}

/** i32 coordinate declarations of a row-major index `flat` over `shape` (unit axes are the literal 0). */
function decompose(env: Env, shape: number[], flat: string, names: string[], indent: string, lines: string[]): string[] {
  const coords: string[] = [];
  let stride = numel(shape);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    stride /= n;
    if (n === 1) {
      coords.push('0');
      continue;
    }
    const q = stride === 1 ? flat : `${flat} / ${P(env, stride)}`;
    lines.push(`${indent}let ${names[d]} = ${d === 0 ? q : `(${q}) % ${P(env, n)}`};`);
    coords.push(names[d]!);
  }
  return coords;
}

export function generateExprKernel(k: ExprKernel, cfg: KernelConfig): LoweredKernel {
  const rank = k.shape.length;
  const rows = numel(k.shape);
  const red = k.reduce;
  const rdims = red ? red.dims ?? [red.size] : [];
  const R = red ? numel(rdims) : 1;
  const q = rdims.length;
  const lastR = rdims[q - 1] ?? 1;
  const w = cfg.vectorize && (red ? lastR % 4 === 0 : rank > 0 && k.shape[rank - 1]! % 4 === 0) ? 4 : 1;
  const inner = red ? rank + q - 1 : rank - 1;
  const wide = red ? [...red.stages.map((s) => s.prologue), ...k.outputs.filter((o) => o.at === 'full').map((o) => o.expr)] : k.outputs.map((o) => o.expr);
  const vecView = k.inputs.map(() => false);
  if (w === 4) {
    for (const e of wide) {
      walk(e, (x) => {
        if (x.k === 'load' && vec4Aligned(x.map, inner) && k.inputs[x.input]!.size % 4 === 0) vecView[x.input] = true;
      });
    }
  }
  const env: Env = { params: [], helpers: new HelperSet(), usesNonFinite: false, vecView, sizes: k.inputs.map((b) => b.size), fresh: 0 };
  const outVec = k.outputs.map((o) => w === 4 && (!red || o.at === 'full') && (o.offset ?? 0) % 4 === 0 && o.size % 4 === 0);
  const decls: string[] = [];
  k.inputs.forEach((b, i) => decls.push(storageDecl(i, 'read', `in${i}`, vecView[i] ? 'vec4<f32>' : 'f32', commentText(b.name))));
  k.outputs.forEach((o, j) => decls.push(storageDecl(k.inputs.length + j, 'read_write', `out${j}`, outVec[j] ? 'vec4<f32>' : 'f32', commentText(o.name))));
  /** Store of value v (width w) at element index `idx` of output j. */
  const store = (j: number, idx: string, v: string, width: number): string[] => {
    const off = k.outputs[j]!.offset ?? 0;
    const at = off ? `${idx} + ${P(env, off)}` : idx;
    if (width === 1) return [`out${j}[${at}] = ${v};`];
    if (outVec[j]) return [idx === 'tid * 4' && !off ? `out${j}[tid] = ${v};` : `out${j}[(${at}) / 4] = ${v};`];
    return ['x', 'y', 'z', 'w'].map((l, i) => `out${j}[${at} + ${i}] = ${v}.${l};`);
  };
  const coordNames = k.shape.map((_, d) => `c${d}`);
  const body: string[] = [];
  let wgSize: number;
  let workgroups: [number, number, number];
  let bound: { word: number; items: number } | undefined;
  /** `i >= extent` with the extent in a uniform slot that sample routing may lower on the device. */
  const past = (i: string, extent: number): string => {
    if (extent > 1) bound = { word: env.params.length, items: extent };
    return `${i} >= ${P(env, extent)}`;
  };
  let wgDecl = '';
  if (!red) {
    wgSize = cfg.elementwiseWorkgroup;
    const n = rows / w;
    workgroups = grid1d(n, wgSize, cfg.maxWorkgroupsPerDim);
    body.push(`  let tid = i32(gid.x + gid.y * nwg.x * ${wgSize}u);`, `  if (${past('tid', n)}) { return; }`);
    const coords = decompose(env, k.shape, w === 1 ? 'tid' : 'tid * 4', coordNames, '  ', body);
    const sc = new Scope(env, undefined, w, inner, coords, '  ');
    const vals = k.outputs.map((o) => emit(o.expr, sc));
    body.push(...sc.lines);
    vals.forEach((v, j) => body.push(...store(j, w === 1 ? 'tid' : 'tid * 4', v, w).map((l) => `  ${l}`)));
  } else {
    const perRow = cfg.reduction === 'workgroup';
    const wg = perRow ? cfg.reductionWorkgroup : 1;
    wgSize = perRow ? wg : cfg.elementwiseWorkgroup;
    workgroups = perRow ? grid1d(rows, 1, cfg.maxWorkgroupsPerDim) : grid1d(rows, wgSize, cfg.maxWorkgroupsPerDim);
    if (perRow) {
      body.push(`  let row = i32(wid.x + wid.y * nwg.x);`, `  let lid = i32(lidx);`, `  if (${past('row', rows)}) { return; }`);
      wgDecl = `var<workgroup> smc_red: array<f32, ${wg}>;\n`;
    } else {
      body.push(`  let row = i32(gid.x + gid.y * nwg.x * ${wgSize}u);`, `  if (${past('row', rows)}) { return; }`);
    }
    const rowCoords = decompose(env, k.shape, 'row', coordNames, '  ', body);
    const top = new Scope(env, undefined, 1, inner, [...rowCoords, ...rdims.map(() => '0')], '  ');
    const rnames = rdims.map((_, i) => `r${i}`);
    /** Opens the loop(s) over the reduced axes; returns [header lines, closing lines, coordinate names, flat index]. */
    const openLoops = (): [string[], string[], string[], string] => {
      const open: string[] = [];
      const close: string[] = [];
      if (perRow) {
        open.push(`  for (var rf = lid * ${w}; rf < ${P(env, R)}; rf += ${wg * w}) {`);
        decompose(env, rdims, 'rf', rnames, '    ', open);
        close.push('  }');
        return [open, close, rdims.map((d, i) => (d === 1 ? '0' : rnames[i]!)), 'rf'];
      }
      const names: string[] = [];
      let ind = '  ';
      rdims.forEach((d, i) => {
        const last = i === q - 1;
        if (d === 1) {
          names.push('0');
          return;
        }
        open.push(`${ind}for (var ${rnames[i]} = 0; ${rnames[i]} < ${P(env, d)}; ${rnames[i]} += ${last ? w : 1}) {`);
        close.unshift(`${ind}}`);
        names.push(rnames[i]!);
        ind += '  ';
      });
      const strides = rdims.map((_, i) => numel(rdims.slice(i + 1)));
      const flat = names.map((n, i) => (n === '0' ? '' : strides[i] === 1 ? n : `${n} * ${P(env, strides[i]!)}`)).filter(Boolean).join(' + ') || '0';
      return [open, close, names, flat];
    };
    const depth = perRow ? 2 : Math.max(1, rdims.filter((d) => d > 1).length) + 1;
    const ind = '  '.repeat(depth);
    red.stages.forEach((st, s) => {
      const init = st.op === 'sum' ? '0.0' : ((env.usesNonFinite = true), nonFinite(-Infinity));
      const A = `acc${s}`;
      body.push(...top.lines.splice(0));
      body.push(`  var ${A}_p = ${ftype(w)}(${init});`);
      const [open, close, names] = openLoops();
      body.push(...open);
      const loop = new Scope(env, top, w, inner, [...rowCoords, ...names], ind);
      const v = emit(st.prologue, loop);
      body.push(...loop.lines);
      body.push(st.op === 'sum' ? `${ind}${A}_p = ${A}_p + ${v};` : `${ind}${A}_p = max(${A}_p, ${v});`);
      body.push(...close);
      const comb = (x: string, y: string): string => (st.op === 'sum' ? `${x} + ${y}` : `max(${x}, ${y})`);
      const h = w === 1 ? `${A}_p` : `${comb(`(${comb(`${A}_p.x`, `${A}_p.y`)})`, `(${comb(`${A}_p.z`, `${A}_p.w`)})`)}`;
      if (perRow) {
        body.push(`  smc_red[lid] = ${h};`, '  workgroupBarrier();');
        body.push(`  for (var s = ${wg / 2}; s > 0; s = s >> 1u) {`);
        body.push(`    if (lid < s) { smc_red[lid] = ${comb('smc_red[lid]', 'smc_red[lid + s]')}; }`, '    workgroupBarrier();', '  }');
        body.push(`  let ${A} = smc_red[0];`, '  workgroupBarrier();');
      } else {
        body.push(`  let ${A} = ${h};`);
      }
    });
    const rowOuts = k.outputs.map((o, j) => ({ o, j })).filter(({ o }) => o.at !== 'full');
    const fullOuts = k.outputs.map((o, j) => ({ o, j })).filter(({ o }) => o.at === 'full');
    if (rowOuts.length) {
      const vals = rowOuts.map(({ o }) => emit(o.expr, top));
      body.push(...top.lines.splice(0));
      if (perRow) body.push('  if (lid == 0) {');
      rowOuts.forEach(({ j }, i) => body.push(...store(j, 'row', vals[i]!, 1).map((l) => `${perRow ? '    ' : '  '}${l}`)));
      if (perRow) body.push('  }');
    }
    if (fullOuts.length) {
      const [open, close, names, flat] = openLoops();
      body.push(...open);
      const loop = new Scope(env, top, w, inner, [...rowCoords, ...names], ind);
      const vals = fullOuts.map(({ o }) => emit(o.expr, loop));
      body.push(...loop.lines);
      fullOuts.forEach(({ j }, i) => body.push(...store(j, `row * ${P(env, R)} + ${flat}`, vals[i]!, w).map((l) => `${ind}${l}`)));
      body.push(...close);
    }
  }
  const perRowSig = red && cfg.reduction === 'workgroup';
  const sig = perRowSig
    ? workgroupSignature()
    : MAIN_SIGNATURE;
  const helpers = env.helpers.print();
  const nU = Math.max(1, Math.ceil(env.params.length / 4));
  const uniform = new Int32Array(nU * 4);
  uniform.set(env.params);
  const lines = [
    header(red ? 'reduction' : 'elementwise', k.name),
    ...decls,
    `@group(0) @binding(${k.inputs.length + k.outputs.length}) var<uniform> smc_u: array<vec4<i32>, ${nU}>; // sizes, strides, offsets`,
    ...(env.usesNonFinite ? [NONFINITE_DECLS] : []),
    ...(helpers ? [helpers] : []),
    `${wgDecl}@compute @workgroup_size(${wgSize})`,
    `${sig} {`,
    ...body,
    '}',
  ];
  return lowered(k.name, lines, ioBindings(k.inputs, k.outputs), { uniform: new Uint32Array(uniform.buffer), workgroups, bound });
}
