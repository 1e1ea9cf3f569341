// The bundle format: manifest.json is a ModelAbi (runtime/abi/model.ts) serialized, plus the content hash of
// every file the bundle holds and one hash over the manifest itself. A bundle promises integrity against
// accidents (an edited kernel, spec, setting or override, a truncated file), not authenticity: whoever edits a
// bundle on purpose can recompute the hashes. Reading a manifest checks its shape and names the first bad field.

import { createHash } from 'node:crypto';
import type { InitSpec, KernelTrace, ModelAbi, ParameterAbi, ProgramAbi, StatAbi, StateAbi, TargetAbi } from './model.js';
import type { DispatchPlan, PlanBinding, PlanDispatch, TensorRole } from './plan.js';
import type { Settings } from './settings.js';

export const BUNDLE_FORMAT = 'smcirc-bundle';
/** Bumped whenever the manifest or the kernel calling convention changes. */
export const BUNDLE_ABI = 2;
export const MANIFEST_FILE = 'manifest.json';

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** One hash over every spec file (path and text), in a stable order. */
export function specHash(files: Map<string, string>): string {
  const h = createHash('sha256');
  for (const [name, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) h.update(`${name}\0${text}\0`);
  return h.digest('hex');
}

export interface ManifestKernel {
  name: string;
  file: string;
  sha256: string;
  layout: ('read' | 'read_write' | 'uniform')[];
}

export interface ManifestProgram {
  batch: number;
  kernels: ManifestKernel[];
  buffers: { label: string; bytes: number }[];
  /** Constant buffers, base64 of their little-endian bytes, with their element type. */
  constants: { type: 'u32' | 'f32'; base64: string }[];
  tensors: Record<string, { buffer: number; byteOffset: number; size: number; role: TensorRole }>;
  dispatches: { label: string; kernel: number; source: number; bindings: PlanBinding[]; uniform?: number[]; workgroups: [number, number, number]; routed?: PlanDispatch['routed'] }[];
  /** Sample routing (routed dispatches read their uniforms from the routing buffer, which args kernels lower). */
  routing?: DispatchPlan['routing'];
  /** Uploads done once at load (constant tensors), base64 of f32 values. */
  inits: { tensor: string; base64: string }[];
  /** Buffer copies after each step's dispatches (state updates). */
  copies: { from: string; to: string }[];
  feeds: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  nodes: Record<string, string>;
  trace: KernelTrace[];
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  abi: number;
  generator: string;
  spec: { entry: string; sha256: string; overrides: string[]; files: string[] };
  settings: Settings;
  constants?: Record<string, unknown>;
  batch: { train: number; forward: number };
  stats: StatAbi[];
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  parameters: (ParameterAbi & { size: number })[];
  state: StateAbi[];
  programs: { train_step?: ManifestProgram; forward?: ManifestProgram };
  target?: TargetAbi;
  glue?: { ts: string; js: string; class: string };
  /** sha256 of this manifest's canonical JSON without this field. */
  manifest_sha256?: string;
}

const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromB64 = (s: string): ArrayBuffer => {
  const bytes = Buffer.from(s, 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

/** A program as manifest JSON plus the kernel files it names. */
export function programToManifest(prefix: string, p: ProgramAbi): { program: ManifestProgram; files: Map<string, string> } {
  const plan = p.plan;
  const files = new Map<string, string>();
  const kernels = plan.kernels.map((k, i) => {
    const file = `kernels/${prefix}-${String(i).padStart(3, '0')}-${fileSafe(k.name)}.wgsl`;
    files.set(file, k.wgsl);
    return { name: k.name, file, sha256: sha256(k.wgsl), layout: k.layout };
  });
  const tensors: ManifestProgram['tensors'] = {};
  for (const [name, t] of plan.tensors) tensors[name] = { buffer: t.buffer, byteOffset: t.byteOffset, size: t.size, role: t.role };
  return {
    files,
    program: {
      batch: p.batch,
      kernels,
      buffers: plan.buffers,
      constants: plan.constants.map((c) => ({ type: c instanceof Uint32Array ? 'u32' : 'f32', base64: b64(c) })),
      tensors,
      dispatches: plan.dispatches.map((d) => ({ label: d.label, kernel: d.kernel, source: d.source, bindings: d.bindings, uniform: d.uniform ? [...d.uniform] : undefined, workgroups: d.workgroups, routed: d.routed })),
      routing: plan.routing,
      inits: (plan.inits ?? []).map((i) => ({ tensor: i.tensor, base64: b64(i.data) })),
      copies: plan.copies ?? [],
      feeds: p.feeds,
      outputs: p.outputs,
      state: p.state,
      nodes: p.nodes,
      trace: p.trace,
    },
  };
}

/** Rebuilds a program from manifest JSON and the kernel texts (hashes already checked by the caller). */
export function programFromManifest(p: ManifestProgram, wgsl: (file: string) => string): ProgramAbi {
  const plan: DispatchPlan = {
    kernels: p.kernels.map((k) => ({ name: k.name, wgsl: wgsl(k.file), layout: k.layout, hash: k.sha256 })),
    buffers: p.buffers,
    constants: p.constants.map((c) => (c.type === 'u32' ? new Uint32Array(fromB64(c.base64)) : new Float32Array(fromB64(c.base64)))),
    tensors: new Map(Object.entries(p.tensors)),
    dispatches: p.dispatches.map((d) => ({ ...d, uniform: d.uniform ? Uint32Array.from(d.uniform) : undefined })),
    inits: p.inits.map((i) => ({ tensor: i.tensor, data: new Float32Array(fromB64(i.base64)) })),
    copies: p.copies,
    routing: p.routing,
  };
  return { plan, batch: p.batch, feeds: p.feeds, outputs: p.outputs, state: p.state, nodes: p.nodes, trace: p.trace };
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The manifest of a model (its programs, when it has them) and the files it names, except the glue. */
export function modelToManifest(m: ModelAbi, generator: string): { manifest: BundleManifest; files: Map<string, string> } {
  const files = new Map<string, string>(m.spec.files);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    abi: BUNDLE_ABI,
    generator,
    spec: { entry: m.spec.entry, sha256: specHash(m.spec.files), overrides: m.spec.overrides, files: [...m.spec.files.keys()].sort() },
    settings: m.settings,
    constants: m.constants,
    batch: m.batch,
    stats: m.stats,
    inputs: [...m.inputs].map(([name, shape]) => ({ name, shape })),
    outputs: m.outputs,
    parameters: m.parameters.map((p) => ({ ...p, size: numel(p.shape) })),
    state: m.state,
    programs: {},
  };
  if (m.gpu) {
    const t = programToManifest('train', m.gpu.train);
    const f = programToManifest('forward', m.gpu.forward);
    manifest.programs = { train_step: t.program, forward: f.program };
    manifest.target = m.gpu.target;
    for (const [k, v] of [...t.files, ...f.files]) files.set(k, v);
  }
  return { manifest, files };
}

/** Canonical JSON (sorted keys) of the manifest without its own hash: what `manifest_sha256` covers. */
export function manifestDigest(m: BundleManifest): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().filter((k) => k !== 'manifest_sha256').map((k) => [k, canon((v as Record<string, unknown>)[k])])) : v;
  return sha256(JSON.stringify(canon(m)));
}

/** A manifest field that does not have the expected shape: `path` names it (e.g. `programs.forward.kernels`). */
export class ManifestShapeError extends Error {
  constructor(readonly path: string, readonly expected: string) {
    super(`${path} should be ${expected}`);
  }
}

type Check = (v: unknown, path: string) => void;
const fail = (path: string, expected: string): never => {
  throw new ManifestShapeError(path, expected);
};
const str: Check = (v, p) => void (typeof v === 'string' || fail(p, 'a string'));
const num: Check = (v, p) => void ((typeof v === 'number' && Number.isFinite(v)) || fail(p, 'a number'));
const count: Check = (v, p) => void ((typeof v === 'number' && Number.isInteger(v) && v >= 0) || fail(p, 'a whole number ≥ 0'));
const bool: Check = (v, p) => void (typeof v === 'boolean' || fail(p, 'true or false'));
const arr = (each: Check): Check => (v, p) => {
  if (!Array.isArray(v)) fail(p, 'a list');
  (v as unknown[]).forEach((x, i) => each(x, `${p}[${i}]`));
};
const rec = (each: Check): Check => (v, p) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(p, 'an object');
  for (const [k, x] of Object.entries(v as object)) each(x, `${p}.${k}`);
};
const obj = (fields: Record<string, Check>, optional: string[] = []): Check => (v, p) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(p, 'an object');
  for (const [k, c] of Object.entries(fields)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined && optional.includes(k)) continue;
    c(x, `${p}.${k}`);
  }
};
const shape = arr(count);
const named = obj({ name: str, shape });
const init: Check = (v, p) => {
  obj({ kind: str })(v, p);
  const i = v as InitSpec;
  if (i.kind === 'normal') num(i.std, `${p}.std`);
  else if (i.kind === 'uniform') num(i.bound, `${p}.bound`);
  else if (i.kind === 'xavier_uniform') obj({ fanIn: num, fanOut: num })(v, p);
  else if (i.kind !== 'zeros' && i.kind !== 'ones') fail(`${p}.kind`, 'zeros, ones, normal, uniform or xavier_uniform');
};
const binding: Check = (v, p) => {
  if (v && typeof v === 'object' && 'constant' in v) return count((v as { constant: unknown }).constant, `${p}.constant`);
  if (v && typeof v === 'object' && 'routing' in v) return void ((v as { routing: unknown }).routing === 0 || fail(`${p}.routing`, '0'));
  obj({ buffer: count, byteOffset: count, byteSize: count })(v, p);
};
const program = obj({
  batch: count,
  kernels: arr(obj({ name: str, file: str, sha256: str, layout: arr(str) })),
  buffers: arr(obj({ label: str, bytes: count })),
  constants: arr(obj({ type: str, base64: str })),
  tensors: rec(obj({ buffer: count, byteOffset: count, size: count, role: str })),
  dispatches: arr(obj({
    label: str, kernel: count, source: count, bindings: arr(binding), uniform: arr(count), workgroups: arr(count),
    routed: obj({ route: count, at: count, bound: obj({ word: count, items: count }) }),
  }, ['uniform', 'routed'])),
  routing: obj({ routes: arr(obj({ count: str, batch: count, after: count })), bytes: count, counts: count }),
  inits: arr(obj({ tensor: str, base64: str })),
  copies: arr(obj({ from: str, to: str })),
  feeds: rec(str),
  outputs: rec(str),
  state: rec(str),
  nodes: rec(str),
  trace: arr(obj({ nodes: arr(count), reads: arr(str) })),
}, ['routing']);
const manifestShape = obj(
  {
    format: str,
    abi: num,
    generator: str,
    spec: obj({ entry: str, sha256: str, overrides: arr(str), files: arr(str) }),
    settings: obj({ train: obj({ batch_size: count, seeds: arr(count), max_epochs: count, early_stop: count }), data: obj({ keys: rec(str) }), eval: obj({ batch_size: count, conditions: arr(str), dmfd_stats: str }) }),
    batch: obj({ train: count, forward: count }),
    stats: arr(obj({ kind: str, label: str, input: str, score: str })),
    inputs: arr(named),
    outputs: arr(named),
    parameters: arr(obj({ name: str, shape, init, frozen: bool, group: str })),
    state: arr(obj({ name: str, kind: str, shape })),
    programs: obj({ train_step: program, forward: program }, ['train_step', 'forward']),
    target: obj({ adapter: str, software: bool, limits: rec(num), features: arr(str) }),
    manifest_sha256: str,
  },
  ['target'],
);

/** Checks a parsed manifest's shape (format and ABI first, so that another version gets its own message). */
export function checkManifestShape(m: unknown): asserts m is BundleManifest {
  obj({ format: str, abi: num })(m, 'manifest');
  const f = m as BundleManifest;
  if (f.format !== BUNDLE_FORMAT || f.abi !== BUNDLE_ABI) return;
  manifestShape(m, 'manifest');
  for (const [name, p] of Object.entries(f.programs)) if (p) checkRouting(p, `manifest.programs.${name}`);
}

/** Routed dispatches point into the routing buffer, at a uniform-aligned offset, at a word of their own uniform. */
function checkRouting(p: ManifestProgram, path: string): void {
  const r = p.routing;
  if (r && (r.counts % 4 !== 0 || r.counts + 4 * r.routes.length > r.bytes)) fail(`${path}.routing.counts`, `a word offset whose counts fit in ${r.bytes} bytes`);
  p.dispatches.forEach((d, i) => {
    if (!d.routed) return;
    const at = `${path}.dispatches[${i}].routed`;
    if (!r || d.routed.route >= r.routes.length) return fail(`${at}.route`, `one of the program's ${r?.routes.length ?? 0} routes`);
    const words = d.uniform?.length ?? 0;
    if (d.routed.at % 256 !== 0 || d.routed.at + 4 * words > r.bytes) fail(`${at}.at`, `a multiple of 256 leaving room for its ${words}-word uniform in ${r.bytes} bytes`);
    if (d.routed.bound.word >= words) fail(`${at}.bound.word`, `a word of its ${words}-word uniform`);
  });
}

/** The model a manifest describes; `read` returns a file of the bundle (its hash checked by the caller). */
export function manifestToModel(m: BundleManifest, read: (file: string) => string): ModelAbi {
  const files = new Map(m.spec.files.map((f) => [f, read(f)]));
  const model: ModelAbi = {
    spec: { entry: m.spec.entry, files, overrides: m.spec.overrides },
    settings: m.settings,
    constants: m.constants,
    inputs: new Map(m.inputs.map((i) => [i.name, i.shape])),
    outputs: m.outputs,
    parameters: m.parameters.map(({ size: _size, ...p }) => p),
    state: m.state,
    stats: m.stats,
    batch: m.batch,
  };
  const { train_step, forward } = m.programs;
  if (train_step && forward && m.target) {
    model.gpu = { train: programFromManifest(train_step, read), forward: programFromManifest(forward, read), target: m.target };
  }
  return model;
}
