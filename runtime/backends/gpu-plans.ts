// Lowers a compiled model's train step and forward to GPU dispatch plans for an adapter (or software defaults).

import type { CompiledModel } from '../../compiler/compile.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import type { BundleManifest } from '../../compiler/bundle/manifest.js';

export async function lowerModelForGpu(_model: CompiledModel, _target: 'auto' | 'software'): Promise<{ plans?: { train: DispatchPlan; forward: DispatchPlan }; target: BundleManifest['target'] }> {
  // Filled in when the fusion pass lands (compiler/passes).
  return { target: { adapter: 'none', limits: {}, features: [] } };
}
