// The dispatch plan: what the GPU executor runs — WGSL kernels (deduplicated by text), physical buffers, the
// tensors placed in them, and the ordered dispatches with their bindings. The compiler produces it
// (compiler/kernels/plan.ts); the runtime executes it and bundles serialize it (runtime/abi/manifest.ts).
import { createHash } from 'node:crypto';

export type TensorRole = 'input' | 'output' | 'param' | 'grad' | 'state' | 'temp';

export type PlanBinding = { buffer: number; byteOffset: number; byteSize: number } | { constant: number };

export interface PlanDispatch {
  /** Kernel name (its label in errors and timings). */
  label: string;
  /** Index into DispatchPlan.kernels. */
  kernel: number;
  /** Index of the kernel-IR kernel this dispatch lowers (a kernel may need several dispatches, e.g. in chunks). */
  source: number;
  bindings: PlanBinding[];
  uniform?: Uint32Array;
  workgroups: [number, number, number];
}

export interface PlanKernel {
  name: string;
  wgsl: string;
  /** Bind group layout: access of each storage binding, then 'uniform' when the kernel takes one. */
  layout: ('read' | 'read_write' | 'uniform')[];
  /** sha256 of the comment-free WGSL text (bundle manifests, pipeline cache keys). */
  hash: string;
}

export interface PlanTensorPlace {
  buffer: number;
  byteOffset: number;
  size: number;
  role: TensorRole;
}

export interface DispatchPlan {
  kernels: PlanKernel[];
  buffers: { label: string; bytes: number }[];
  constants: (Uint32Array | Float32Array)[];
  tensors: Map<string, PlanTensorPlace>;
  dispatches: PlanDispatch[];
  /** Uploads done once at load. */
  inits?: { tensor: string; data: Float32Array }[];
  /** Buffer copies encoded after the dispatches of every step (state updates: new value → state tensor). */
  copies?: { from: string; to: string }[];
}

/** WGSL without comments: kernels that differ only in names (comments) share one pipeline. */
export const wgslCode = (wgsl: string): string => wgsl.replace(/\/\/[^\n]*/g, '').replace(/[ \t]+\n/g, '\n');

/** sha256 of the comment-free WGSL. */
export const wgslHash = (wgsl: string): string => createHash('sha256').update(wgslCode(wgsl)).digest('hex');
