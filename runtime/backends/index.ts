// Picks the execution backend: the GPU through Dawn (default) or the CPU reference interpreter.

import type { CompiledModel } from '../../compiler/compile.js';
import type { Backend } from './backend.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import { ReferenceBackend } from './reference.js';

export type BackendName = 'gpu' | 'reference';

export interface BackendOptions {
  /** Write every kernel's WGSL here at load. */
  dumpWgslDir?: string;
  /** Run every kernel against the interpreter and stop at the first that disagrees. */
  validate?: boolean;
  /** Fuse kernels (default) or run one kernel per primitive (benchmarks). */
  fuse?: boolean;
  /** A bundle's dispatch plans: the GPU backend refuses to run if its own lowering generates other kernels. */
  plans?: { train: DispatchPlan; forward: DispatchPlan };
}

export async function createBackend(name: BackendName, model: CompiledModel, opts: BackendOptions = {}): Promise<Backend> {
  if (name === 'reference') return new ReferenceBackend(model);
  const { GpuBackend } = await import('./gpu.js');
  return GpuBackend.create(model, opts);
}
