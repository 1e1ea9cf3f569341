// A kernel after WGSL generation: the text, its binding table, uniform words and workgroup grid.
import type { BatchBound } from '../../runtime/abi/plan.js';

export interface BindingSpec {
  /** Logical tensor bound here; for a constant table, a name private to the kernel. */
  tensor: string;
  access: 'read' | 'read_write';
  /** Constant table contents (e.g. Adam's block table): the executor uploads it once. */
  data?: Uint32Array | Float32Array;
  /** Bind only elements [offset, offset + size) of the tensor (default: all of it); offset·4 must be storage-aligned. */
  range?: { offset: number; size: number };
}

export interface LoweredKernel {
  name: string;
  wgsl: string;
  /** Storage bindings, in @binding order from 0. */
  bindings: BindingSpec[];
  /** Uniform block (32-bit words) at @binding(bindings.length), when the kernel takes shapes as uniforms. */
  uniform?: Uint32Array;
  workgroups: [number, number, number];
  /** The uniform word holding the extent the kernel stops at, when it is a leading batch of items (sample routing). */
  bound?: BatchBound;
}
