// Backends for a spec compiled here (the CLI's path): picks the GPU through Dawn, the CPU reference interpreter, or
// `auto` (the GPU when Dawn finds an adapter, otherwise the interpreter, said in one line), and lowers the spec for
// the adapter at hand. A bundle's GPU path needs none of this: runtime/bundle/runtime.ts.

import type { CompiledModel } from '../../compiler/compile.js';
import { describeModel, lowerModel } from '../../compiler/bundle/model-abi.js';
import type { ModelAbi } from '../abi/model.js';
import { GpuError } from '../gpu/errors.js';
import type { Backend } from './backend.js';
import type { GpuBackendOptions } from './gpu.js';
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

export interface SpecBackendOptions {
  /** Write every kernel's WGSL here at load. */
  dumpWgslDir?: string;
  /** Run every kernel of the first train step and forward against the interpreter; stop at the first that disagrees. */
  validate?: boolean;
  /** Fuse kernels (default) or run one kernel per primitive (benchmarks). */
  fuse?: boolean;
  /** The --set overrides the spec was compiled with (recorded in the model). */
  overrides?: string[];
  /** A bundle's model: the GPU runs its own programs instead of lowering the spec again. */
  bundle?: ModelAbi;
}

/** The interpreter's view of a GPU program's graph, for validate mode: a disagreement stops the run naming the kernel. */
async function validatorFor(model: CompiledModel): Promise<GpuBackendOptions['validator']> {
  const { validateAgainstInterpreter } = await import('../dev/validate.js');
  return async (program, which, feeds) => {
    const bad = await validateAgainstInterpreter(program, which === 'train' ? model.train.graph : model.eval, feeds);
    if (bad) {
      const what = which === 'train' ? 'train step' : 'forward';
      throw new GpuError('SMC4030', `validate: kernel ${bad.kernel} (#${bad.index} of the ${what}) disagrees with the reference interpreter at element ${bad.element} of node ${bad.node}: GPU ${bad.gpu}, reference ${bad.reference}`,
        'rerun with --dump-wgsl <dir> to read that kernel; please report it with the spec', bad.kernel);
    }
  };
}

/** A backend for a compiled spec and the model as the runtime sees it: the GPU (the spec lowered for this adapter,
 *  or a bundle's own programs) or the CPU interpreter. */
export async function openBackend(name: BackendName, model: CompiledModel, o: SpecBackendOptions = {}): Promise<{ backend: Backend; abi: ModelAbi }> {
  if (name === 'reference') return { backend: new ReferenceBackend(model), abi: o.bundle ?? describeModel(model, o.overrides) };
  const { GpuBackend, adapterTarget, sharedGpu } = await import('./gpu.js');
  let abi = o.bundle;
  if (!abi?.gpu) {
    const ctx = await sharedGpu();
    abi = lowerModel(model, adapterTarget(ctx.adapter), o.overrides, o.fuse === false ? 'unfused' : 'fused');
  }
  const backend = await GpuBackend.create(abi, { dumpWgslDir: o.dumpWgslDir, validator: o.validate ? await validatorFor(model) : undefined });
  return { backend, abi };
}
