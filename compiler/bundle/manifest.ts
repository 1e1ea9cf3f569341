// The bundle manifest: ABI version, spec hash, inputs/outputs, parameter table, and for each program (train step,
// forward) its buffers, dispatch plan and the content hash of every kernel. The runtime checks it before running.

import { createHash } from 'node:crypto';
import type { CompiledModel } from '../compile.js';
import type { DispatchPlan, PlanBinding } from '../kernels/plan.js';
import { numel } from '../ir/graph.js';

export const BUNDLE_FORMAT = 'smcirc-bundle';
/** Bumped whenever the manifest or the kernel calling convention changes. */
export const BUNDLE_ABI = 1;

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
  tensors: Record<string, { buffer: number; byteOffset: number; size: number; role: string }>;
  dispatches: { label: string; kernel: number; bindings: PlanBinding[]; uniform?: number[]; workgroups: [number, number, number] }[];
  /** Uploads done once at load (constant tensors), base64 of f32 values. */
  inits: { tensor: string; base64: string }[];
  /** Buffer copies after each step's dispatches (state updates). */
  copies: { from: string; to: string }[];
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  abi: number;
  generator: string;
  spec: { entry: string; sha256: string; overrides: string[]; files: string[] };
  /** Batch sizes the programs are built for: the train step and the evaluation forward. */
  batch: { train: number; forward: number };
  /** Population statistics the forward reads (empty with batch statistics): each is the mean or population std of
   *  the per-sample output `score` over the evaluated split. */
  stats: { input: string; kind: 'mean' | 'std'; score: string }[];
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  parameters: { name: string; shape: number[]; frozen: boolean; size: number }[];
  state: { name: string; kind: string; shape: number[] }[];
  programs: { train_step?: ManifestProgram; forward?: ManifestProgram };
  target: { adapter: string; limits: Record<string, number>; features: string[] };
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** One hash over every spec file (path and text), in a stable order. */
export function specHash(files: Map<string, string>): string {
  const h = createHash('sha256');
  for (const [name, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) h.update(`${name}\0${text}\0`);
  return h.digest('hex');
}

const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

export function programManifest(prefix: string, plan: DispatchPlan, batch: number): { program: ManifestProgram; files: Map<string, string> } {
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
      batch,
      kernels,
      buffers: plan.buffers,
      constants: plan.constants.map((c) => ({ type: c instanceof Uint32Array ? 'u32' : 'f32', base64: Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('base64') })),
      tensors,
      dispatches: plan.dispatches.map((d) => ({ label: d.label, kernel: d.kernel, bindings: d.bindings, uniform: d.uniform ? [...d.uniform] : undefined, workgroups: d.workgroups })),
      inits: (plan.inits ?? []).map((i) => ({ tensor: i.tensor, base64: Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength).toString('base64') })),
      copies: plan.copies ?? [],
    },
  };
}

/** Rebuilds a DispatchPlan from a manifest program and the kernel texts. */
export function planFromManifest(p: ManifestProgram, wgsl: (file: string) => string): DispatchPlan {
  return {
    kernels: p.kernels.map((k) => ({ name: k.name, wgsl: wgsl(k.file), layout: k.layout, hash: k.sha256 })),
    buffers: p.buffers,
    constants: p.constants.map((c) => {
      const bytes = Buffer.from(c.base64, 'base64');
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      return c.type === 'u32' ? new Uint32Array(ab) : new Float32Array(ab);
    }),
    tensors: new Map(Object.entries(p.tensors).map(([k, v]) => [k, { ...v, role: v.role as never }])),
    dispatches: p.dispatches.map((d) => ({ ...d, uniform: d.uniform ? Uint32Array.from(d.uniform) : undefined })),
    inits: p.inits.map((i) => {
      const bytes = Buffer.from(i.base64, 'base64');
      return { tensor: i.tensor, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    }),
    copies: p.copies,
  };
}

export function baseManifest(model: CompiledModel, specFiles: Map<string, string>, entry: string, overrides: string[], generator: string): BundleManifest {
  const ev = model.eval;
  return {
    format: BUNDLE_FORMAT,
    abi: BUNDLE_ABI,
    generator,
    spec: { entry, sha256: specHash(specFiles), overrides, files: [...specFiles.keys()].sort() },
    batch: { train: model.settings.train.batch_size, forward: model.evalBatch },
    stats: model.evalStats.map((s) => ({ input: s.input, kind: s.kind, score: s.score })),
    inputs: [...model.inputs].map(([name, shape]) => ({ name, shape })),
    outputs: model.outputs.map((name) => ({ name, shape: [...ev.nodes[ev.outputs.get(name)!]!.shape.slice(1)] })),
    parameters: model.train.graph.params.map((p) => ({ name: p.name, shape: p.shape, frozen: p.frozen, size: numel(p.shape) })),
    state: model.train.state.map((s) => ({ name: s.name, kind: s.kind, shape: s.shape })),
    programs: {},
    target: { adapter: 'none', limits: {}, features: [] },
  };
}
