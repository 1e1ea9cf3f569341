// A BundleRuntime for a bundle's generated glue: opens and verifies the bundle, compiles its spec, and serves
// loadWeights / trainStep / forward from a backend (the GPU, with the bundle's own kernels, or the interpreter).

import { compileModel } from '../../compiler/compile.js';
import { createBackend, type BackendName } from '../backends/index.js';
import type { Tensors } from '../backends/backend.js';
import { loadWeights } from '../train/loop.js';
import { initParams } from '../../compiler/init.js';
import { initTrainState } from '../../compiler/train-step.js';
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
export async function createBundleRuntime(dir: string, o: { backend?: BackendName; seed?: number } = {}): Promise<BundleRuntime> {
  const b = openBundle(dir);
  const model = compileModel(b.spec, { overrides: b.overrides });
  const backend = await createBackend(o.backend ?? 'gpu', model, { plans: b.plans });
  await backend.setState(initTrainState(model.train, initParams(model.train.graph.params, o.seed ?? 1111)));
  return {
    loadWeights: (path) => loadWeights(model, backend, path),
    setState: (s) => backend.setState(s),
    getState: () => backend.getState(),
    trainStep: (batch, seed) => backend.trainStep(batch, seed),
    forward: (batch, stats) => backend.forward(batch, stats),
    dispose: () => backend.dispose(),
  };
}
