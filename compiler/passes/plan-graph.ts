// Graph → dispatch plan for an adapter configuration: lowering (fused or one kernel per primitive), the train
// step's state copies, and the memory plan. What runtimes and bundles call.
import type { Graph } from '../ir/graph.js';
import type { TrainStep } from '../train-step.js';
import { buildDispatchPlan, type DispatchPlan, type KernelProgram } from '../kernels/plan.js';
import type { KernelConfig } from '../kernels/select.js';
import { tensorName, type FusionMode } from './fusion.js';
import { lowerGraphToKernels, type LoweredGraph } from './lower-to-kernels.js';
import { newStateOutput } from '../../runtime/abi/names.js';
import type { Route } from './route-samples.js';
import { compactedOf, routeGroups, routeKeep, routeKernels } from './route-dispatch.js';

export interface PlanGraphOptions {
  mode?: FusionMode;
  /** Nodes whose values stay readable after a step. */
  keep?: number[];
  /** Sample routes of the graph: their kernels stop after the flagged samples (extents lowered on the device). */
  routes?: readonly Route[];
  /** Debug hook: edit the kernel program before it is planned. */
  transformProgram?: (p: KernelProgram) => void;
}

export interface GraphPlan {
  lowered: LoweredGraph;
  plan: DispatchPlan;
}

function finish(lowered: LoweredGraph, cfg: KernelConfig, opts: PlanGraphOptions): GraphPlan {
  opts.transformProgram?.(lowered.program);
  return { lowered, plan: buildDispatchPlan(lowered.program, cfg) };
}

export function planGraph(graph: Graph, cfg: KernelConfig, opts: PlanGraphOptions = {}): GraphPlan {
  const routes = opts.routes ?? [];
  const keep = [...(opts.keep ?? []), ...routeKeep(routes)];
  const compacted = compactedOf(graph, routes);
  const lowered = lowerGraphToKernels(graph, { mode: opts.mode ?? 'fused', maxStorageBuffers: cfg.maxStorageBuffers, keep, mergeGroups: routeGroups(compacted) });
  if (routes.length) lowered.program.routing = routeKernels(routes, compacted, lowered);
  return finish(lowered, cfg, opts);
}

/** Copies after each step: every state update's tensor → the state's input / parameter tensor. */
export function trainStepCopies(step: TrainStep, lowered: LoweredGraph): { from: string; to: string }[] {
  const byName = new Map(lowered.program.tensors.map((t) => [t.name, t]));
  // where a tensor lives: its arena and offset (state updated in place has its new value where it is read)
  const at = (name: string): string => {
    let [base, offset] = [name, 0];
    for (let t = byName.get(name); t?.alias; t = byName.get(t.alias.of)) [base, offset] = [t.alias.of, offset + t.alias.offset];
    return `${base}@${offset}`;
  };
  const out: { from: string; to: string }[] = [];
  for (const s of step.state) {
    const from = lowered.tensorOf.get(step.graph.outputs.get(newStateOutput(s.name))!);
    const to = tensorName(step.graph.nodes[s.node]!);
    if (from && byName.has(to) && at(from) !== at(to)) out.push({ from, to });
  }
  return out;
}

/** The train step's plan: state lives on the device and is updated in place by the copies after each step. */
export function planTrainStep(step: TrainStep, cfg: KernelConfig, opts: PlanGraphOptions = {}): GraphPlan {
  const routes = opts.routes ?? [];
  const keep = [...(opts.keep ?? []), ...routeKeep(routes)];
  const compacted = compactedOf(step.graph, routes);
  const lowered = lowerGraphToKernels(step.graph, { mode: opts.mode ?? 'fused', maxStorageBuffers: cfg.maxStorageBuffers, keep, mergeGroups: routeGroups(compacted) });
  lowered.program.copies = trainStepCopies(step, lowered);
  if (routes.length) lowered.program.routing = routeKernels(routes, compacted, lowered);
  return finish(lowered, cfg, opts);
}
