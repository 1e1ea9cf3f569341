// A BundleRuntime for a bundle's generated glue: opens and verifies the bundle and serves loadWeights / trainStep /
// forward from its own programs on the GPU — manifest.json and kernels/*.wgsl alone, nothing of the compiler —
// or, with `backend: 'reference'`, from the CPU interpreter over the bundled spec (which compiles it).

import type { Backend, Tensors } from '../backends/backend.js';
import { initParams, initTrainState } from '../abi/init.js';
import { loadWeights } from '../train/checkpoints.js';
import { openBundle } from './load.js';

export interface BundleRuntime {
  loadWeights(path: string): Promise<void>;
  setState(state: Tensors): Promise<void>;
  getState(): Promise<Tensors>;
  trainStep(batch: Tensors, seed: number): Promise<{ loss: number }>;
  forward(batch: Tensors, stats: Map<string, number>): Promise<Tensors>;
  dispose(): Promise<void>;
}

/** Opens `dir` (refusing a changed or foreign bundle) and returns a runtime with freshly initialised weights. */
export async function createBundleRuntime(dir: string, o: { backend?: 'gpu' | 'reference'; seed?: number } = {}): Promise<BundleRuntime> {
  const b = openBundle(dir);
  const model = b.model;
  let backend: Backend;
  if (o.backend === 'reference') {
    // the interpreter evaluates graphs: it needs the compiler (a dynamic import, off the GPU path)
    const { referenceBackendForSpec } = await import('../dev/reference-from-spec.js');
    backend = referenceBackendForSpec(b.spec, model.spec.overrides);
  } else {
    const { GpuBackend } = await import('../backends/gpu.js');
    backend = await GpuBackend.create(model);
  }
  await backend.setState(initTrainState(model.state, initParams(model.parameters, o.seed ?? 1111)));
  return {
    loadWeights: (path) => loadWeights(model, backend, path),
    setState: (s) => backend.setState(s),
    getState: () => backend.getState(),
    trainStep: (batch, seed) => backend.trainStep(batch, seed),
    forward: (batch, stats) => backend.forward(batch, stats),
    dispose: () => backend.dispose(),
  };
}
