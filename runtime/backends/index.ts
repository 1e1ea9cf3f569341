// Picks the execution backend: the GPU through Dawn, the CPU reference interpreter, or `auto` (the GPU when Dawn
// finds an adapter, otherwise the interpreter, said in one line).

import type { CompiledModel } from '../../compiler/compile.js';
import type { Backend } from './backend.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import { ReferenceBackend } from './reference.js';

export type BackendName = 'gpu' | 'reference';
export type BackendChoice = BackendName | 'auto';

/** Resolves `auto` by probing for an adapter (in a child process: Dawn's own messages stay out of the output);
 *  `gpu` without an adapter fails here, before a command writes anything. */
export async function resolveBackend(choice: BackendChoice, say: (line: string) => void): Promise<BackendName> {
  if (choice === 'reference') return choice;
  const { probeAdapter } = await import('../gpu/probe.js');
  const probe = await probeAdapter();
  if (probe.ok) return 'gpu';
  if (choice === 'gpu') {
    // before anything is written (a run folder): the same error the device would give, with Dawn's reason
    const { GpuError, NO_ADAPTER_HINT } = await import('../gpu/errors.js');
    throw new GpuError('SMC4001', `no WebGPU adapter found: ${probe.reason}`, NO_ADAPTER_HINT);
  }
  say(
    `note: no usable GPU (${probe.reason}); running on the CPU reference interpreter, which is much slower.\n` +
      '      For the GPU path: as root, `bash scripts/setup.sh` installs Mesa lavapipe (software Vulkan), or install a GPU driver ' +
      'with Vulkan; `--backend reference` runs on the CPU without this note.',
  );
  return 'reference';
}

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
