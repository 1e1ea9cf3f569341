// The dispatch plan: what the GPU executor runs — WGSL kernels (deduplicated by text), physical buffers, the
// tensors placed in them, and the ordered dispatches with their bindings. The compiler produces it
// (compiler/kernels/plan.ts); the runtime executes it and bundles serialize it (runtime/abi/manifest.ts).
import { createHash } from 'node:crypto';

export type TensorRole = 'input' | 'output' | 'param' | 'grad' | 'state' | 'temp';

/** A storage range, a constant table, or the routing buffer (routed uniforms and counts; written by args kernels). */
export type PlanBinding = { buffer: number; byteOffset: number; byteSize: number } | { constant: number } | { routing: 0 };

/**
 * Sample routing: uniform word `word` of a dispatch holds `items`, the extent the kernel stops at, which is a leading
 * batch of samples. With `count` of `batch` samples to cover, the route's args kernel writes items / batch · count
 * there on the device, so the kernel returns past the flagged samples (the grid stays; the extra workgroups exit).
 */
/** The kernel name of the zero-tail kernels sample routing inserts (validate mode leaves them out). */
export const ZERO_TAIL_KERNEL = 'route.zero_tail';

export interface BatchBound {
  word: number;
  items: number;
}

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
  /** Routed: its uniform lives in the routing buffer at byte `at`, and its route's args kernel lowers `bound` there. */
  routed?: { route: number; at: number; bound: BatchBound };
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
  /**
   * Sample routing: per route the scalar tensor holding how many of `batch` samples its dispatches must cover and
   * the dispatch after which it is known (its args kernel runs there); the routing buffer's size, and the byte offset
   * of the counts (u32, one per route) that zero-tail kernels read.
   */
  routing?: { routes: { count: string; batch: number; after: number }[]; bytes: number; counts: number };
  /** Buffer copies encoded after the dispatches of every step (state updates: new value → state tensor). */
  copies?: { from: string; to: string }[];
}

/** WGSL without comments: kernels that differ only in names (comments) share one pipeline. */
export const wgslCode = (wgsl: string): string => wgsl.replace(/\/\/[^\n]*/g, '').replace(/[ \t]+\n/g, '\n');

/** sha256 of the comment-free WGSL. */
export const wgslHash = (wgsl: string): string => createHash('sha256').update(wgslCode(wgsl)).digest('hex');
