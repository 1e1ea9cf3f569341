// Shared WGSL pieces: f32 literals, NaN/Inf from bit patterns, math helpers (erf, gelu, tanh, sigmoid; an op of the
// table may bring its own), dispatch grids, binding declarations, entry points, and the LoweredKernel record.
import type { BindingSpec, LoweredKernel } from './lowered.js';

/** A WGSL f32 literal for a finite value (exact: the shortest decimal of the f32 value). */
export function f32Literal(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`f32Literal: ${v} is not finite`);
  const f = Math.fround(v);
  if (Object.is(f, -0)) return '-0.0';
  let s = String(f);
  if (!/[.eE]/.test(s)) s += '.0';
  return s;
}

/**
 * Non-finite constants come from private variables holding bit patterns: WGSL constant evaluation rejects
 * non-finite values, and the shader may assume no NaN/Inf in arithmetic it can see through.
 */
export const NONFINITE_DECLS = [
  'var<private> SMC_INF_BITS: u32 = 0x7f800000u;',
  'var<private> SMC_NINF_BITS: u32 = 0xff800000u;',
  'var<private> SMC_NAN_BITS: u32 = 0x7fc00000u;',
].join('\n');

export function nonFinite(v: number): string {
  if (Number.isNaN(v)) return 'bitcast<f32>(SMC_NAN_BITS)';
  return v > 0 ? 'bitcast<f32>(SMC_INF_BITS)' : 'bitcast<f32>(SMC_NINF_BITS)';
}

/** Scalar or vec4 f32 WGSL type for a width. */
export const ftype = (w: number): string => (w === 1 ? 'f32' : `vec${w}<f32>`);

export type HelperName = 'tanh' | 'sigmoid' | 'erf' | 'gelu' | 'isnan' | 'rand';

/** A helper an op record brings (compiler/ops): `fn smc_<name>_<sfx>(x: T) -> T`, printed after the shared ones. */
export interface WgslHelper {
  name: string;
  body: (T: string, sfx: string) => string;
}

const helperBodies: Record<HelperName, (T: string, sfx: string) => string> = {
  // tanh from exp(-2|x|): no overflow, exact sign, tanh(±large) = ±1.
  tanh: (T, s) => `fn smc_tanh_${s}(x: ${T}) -> ${T} {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  sigmoid: (T, s) => `fn smc_sigmoid_${s}(x: ${T}) -> ${T} {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= ${T}(0.0));
}`,
  // erf: Maclaurin series below 0.5 (relative error < 1e-7), Abramowitz–Stegun 7.1.26 above (absolute < 1.5e-7).
  erf: (T, s) => `fn smc_erf_${s}(x: ${T}) -> ${T} {
  let a = abs(x);
  let x2 = x * x;
  let small = x * (1.1283791670955126 + x2 * (-0.37612638903183754 + x2 * (0.11283791670955126 + x2 * (-0.026866170645131252 + x2 * (0.005223977625442188 + x2 * -0.0008548327023450852)))));
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let big = sign(x) * (1.0 - poly * exp(-x2));
  return select(big, small, a < ${T}(0.5));
}`,
  gelu: (T, s) => `fn smc_gelu_${s}(x: ${T}) -> ${T} {
  return 0.5 * x * (1.0 + smc_erf_${s}(x * 0.7071067811865476));
}`,
  // compiler/ir/rng.ts: pcg(pcg(pcg(seed) ^ stream) ^ index), top 24 bits scaled by 2^-24
  rand: (_T, s) => (s !== 'f' ? '' : `fn smc_pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn smc_rand_f(seed: u32, stream: u32, index: u32) -> f32 {
  return f32(smc_pcg(smc_pcg(smc_pcg(seed) ^ stream) ^ index) >> 8u) * 5.9604644775390625e-8;
}`),
  isnan: (T, s) => {
    const U = T === 'f32' ? 'u32' : T.replace('f32', 'u32');
    return `fn smc_isnan_${s}(x: ${T}) -> ${T} {
  return select(${T}(0.0), ${T}(1.0), (bitcast<${U}>(x) & ${U}(0x7fffffffu)) > ${U}(0x7f800000u));
}`;
  },
};

const helperDeps: Partial<Record<HelperName, HelperName[]>> = { gelu: ['erf'] };
const helperOrder: HelperName[] = ['tanh', 'sigmoid', 'erf', 'gelu', 'isnan', 'rand'];

/** Collects the helpers a kernel uses and prints them once, in a fixed order (deterministic output). */
export class HelperSet {
  private used = new Set<string>();
  private own = new Map<string, WgslHelper>();
  /** Name of helper `h` for width w (1 = f32, 4 = vec4<f32>). */
  use(h: HelperName | WgslHelper, w: number): string {
    if (typeof h !== 'string') {
      if (Object.hasOwn(helperBodies, h.name) || (this.own.has(h.name) && this.own.get(h.name) !== h)) throw new Error(`WGSL helper ${h.name} is defined twice`);
      this.own.set(h.name, h);
      this.used.add(`${h.name}:${w}`);
      return `smc_${h.name}_${w === 1 ? 'f' : `v${w}`}`;
    }
    for (const d of helperDeps[h] ?? []) this.use(d, w);
    this.used.add(`${h}:${w}`);
    return `smc_${h}_${w === 1 ? 'f' : `v${w}`}`;
  }
  print(): string {
    const out: string[] = [];
    const bodies = [
      ...helperOrder.map((h) => [h, helperBodies[h]] as const),
      ...[...this.own.values()].sort((p, q) => (p.name < q.name ? -1 : 1)).map((h) => [h.name, h.body] as const),
    ];
    for (const [h, body] of bodies) {
      for (const w of [1, 2, 3, 4]) {
        if (this.used.has(`${h}:${w}`)) out.push(body(ftype(w), w === 1 ? 'f' : `v${w}`));
      }
    }
    return out.join('\n\n');
  }
}

/** Workgroup grid for `invocations` one-dimensional invocations in workgroups of `wg`, 2-D above 65535 workgroups. */
export function grid1d(invocations: number, wg: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / wg));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL for the linear invocation id of a 1-D/2-D grid (workgroup size wg). */
export const linearId = (wg: number): string => `i32(gid.x + gid.y * nwg.x * ${wg}u)`;

export const MAIN_SIGNATURE =
  'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)';

/** Entry point for one workgroup per item (`lid`: the name of the local invocation index). */
export const workgroupSignature = (lid = 'lidx'): string =>
  `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) ${lid}: u32, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** WGSL (u32) for the linear workgroup id of a 1-D/2-D grid of workgroups (with `workgroupSignature`). */
export const WORKGROUP_ID = 'wid.x + wid.y * nwg.x';

/**
 * The opening of `main`: workgroup size, signature, then the item index `v = id` and the early return of the
 * invocations past `bound`.
 */
export const entry = (wg: number, sig: string, v: string, id: string, bound: string | number): string[] => [
  `@compute @workgroup_size(${wg})`,
  `${sig} {`,
  `  let ${v} = ${id};`,
  `  if (${v} >= ${bound}) { return; }`,
];

/** A storage buffer of a kernel: WGSL variable, bound tensor (or private table), element type and comment. */
export interface StorageBuffer extends BindingSpec {
  v: string;
  /** array element type; f32 by default */
  elem?: string;
  /** comment text; the tensor's name by default */
  note?: string;
}

export const storageDecl = (binding: number, access: BindingSpec['access'], v: string, elem: string, note: string): string =>
  `@group(0) @binding(${binding}) var<storage, ${access}> ${v}: array<${elem}>; // ${note}`;

/** `@group(0) @binding(i)` declarations of buffers 0..n-1. */
export const storageDecls = (bufs: StorageBuffer[]): string[] =>
  bufs.map((b, i) => storageDecl(i, b.access, b.v, b.elem ?? 'f32', b.note ?? commentText(b.tensor)));

/** The uniform block after the storage bindings. */
export const uniformDecl = (binding: number, type: string, v = 'u'): string => `@group(0) @binding(${binding}) var<uniform> ${v}: ${type};`;

/** Binding table of the buffers (the constant tables keep their data). */
export const bindingSpecs = (bufs: StorageBuffer[]): BindingSpec[] =>
  bufs.map((b) =>
    b.data ? { tensor: b.tensor, access: b.access, data: b.data } : { tensor: b.tensor, access: b.access, ...(b.range ? { range: b.range } : {}) },
  );

type BufferVar = string | { v: string; elem?: string; note?: string };

/** The kernel's inputs (read) then outputs (read_write) as buffers, under WGSL names `ins` and `outs`. */
export function ioBuffers(k: { inputs: { name: string }[]; outputs: { name: string }[] }, ins: BufferVar[], outs: BufferVar[]): StorageBuffer[] {
  if (ins.length !== k.inputs.length || outs.length !== k.outputs.length) throw new Error('ioBuffers: one name per input and output');
  const buf = (b: { name: string }, x: BufferVar, access: BindingSpec['access']): StorageBuffer =>
    typeof x === 'string' ? { v: x, tensor: b.name, access } : { ...x, tensor: b.name, access };
  return [...k.inputs.map((b, i) => buf(b, ins[i]!, 'read')), ...k.outputs.map((b, j) => buf(b, outs[j]!, 'read_write'))];
}

/** Bind the inputs read-only and the outputs read-write, in that order. */
export const ioBindings = (inputs: { name: string }[], outputs: { name: string }[]): BindingSpec[] => [
  ...inputs.map((b) => ({ tensor: b.name, access: 'read' as const })),
  ...outputs.map((b) => ({ tensor: b.name, access: 'read_write' as const })),
];

/** The lowered kernel: WGSL from its lines (newline-terminated), binding table, uniform words and grid. */
export const lowered = (
  name: string,
  lines: string[],
  bindings: BindingSpec[],
  rest: { uniform?: Uint32Array; workgroups: [number, number, number]; bound?: LoweredKernel['bound'] },
): LoweredKernel => ({ name, wgsl: [...lines, ''].join('\n'), bindings, ...rest });

/** Sanitised text for a WGSL line comment. */
export const commentText = (s: string): string => s.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');

export function header(kind: string, name: string): string {
  return `// generated by smcirc: ${kind} kernel ${commentText(name)}`;
}
