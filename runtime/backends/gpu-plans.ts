// Lowers a compiled model's train step and forward to GPU dispatch plans: for this machine's adapter, or for a
// software (lavapipe-like) adapter when there is none or `--target software` asks for it. The GPU backend and
// bundles use the same functions, so a bundle's kernels can be checked against a fresh lowering.

import type { BundleManifest } from '../../compiler/bundle/manifest.js';
import type { CompiledModel } from '../../compiler/compile.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import { selectKernelConfig, SOFTWARE_DEFAULTS, type AdapterFacts, type KernelConfig } from '../../compiler/kernels/select.js';
import { planGraph, planTrainStep, type GraphPlan } from '../../compiler/passes/plan-graph.js';
import type { FusionMode } from '../../compiler/passes/fusion.js';
import { GpuError } from '../gpu/errors.js';
import { sharedGpu } from './gpu.js';

/** Forward nodes that must stay readable: the per-sample scores behind population statistics. */
export const forwardKeep = (model: CompiledModel): number[] => model.evalStats.map((s) => model.eval.outputs.get(s.score)!);

export function planModel(model: CompiledModel, cfg: KernelConfig, mode: FusionMode = 'fused'): { train: GraphPlan; forward: GraphPlan } {
  return { train: planTrainStep(model.train, cfg, { mode }), forward: planGraph(model.eval, cfg, { mode, keep: forwardKeep(model) }) };
}

const SOFTWARE: AdapterFacts = { ...SOFTWARE_DEFAULTS, limits: { ...SOFTWARE_DEFAULTS.limits, maxStorageBuffersPerShaderStage: 16 } };

export async function lowerModelForGpu(model: CompiledModel, target: 'auto' | 'software'): Promise<{ plans: { train: DispatchPlan; forward: DispatchPlan }; target: BundleManifest['target'] }> {
  let facts: AdapterFacts = SOFTWARE;
  let t: BundleManifest['target'] = { adapter: 'software (lavapipe defaults)', limits: { ...SOFTWARE.limits }, features: [] };
  if (target === 'auto') {
    try {
      const ctx = await sharedGpu();
      facts = ctx.adapter;
      t = { adapter: ctx.adapter.description || ctx.adapter.device, limits: { ...ctx.adapter.limits }, features: ctx.adapter.features };
    } catch (e) {
      if (!(e instanceof GpuError)) throw e;
      // no adapter here: compile for the software target, which is what lavapipe runs
    }
  }
  const p = planModel(model, selectKernelConfig(facts));
  return { plans: { train: p.train.plan, forward: p.forward.plan }, target: t };
}
