// A compiled model as the runtime sees it (runtime/abi/model.ts): settings, data roles, parameters, state and
// statistics, and, lowered for a target, the GPU programs with every feed, output, state and node mapped to its
// tensor. What `smcirc compile` writes to manifest.json and `smcirc train <spec>` hands the runtime in memory.

import type { CompiledModel } from '../compile.js';
import type { Graph } from '../ir/graph.js';
import type { TrainStep } from '../train-step.js';
import type { KernelTrace, ModelAbi, ProgramAbi, TargetAbi } from '../../runtime/abi/model.js';
import { selectKernelConfig } from '../kernels/select.js';
import { planGraph, planTrainStep, type GraphPlan } from '../passes/plan-graph.js';
import type { FusionMode } from '../passes/fusion.js';
import { specFiles } from '../spec-sources.js';
import { targetFacts } from '../targets.js';

/** Forward nodes that must stay readable: the per-sample scores behind population statistics. */
export const forwardKeep = (model: CompiledModel): number[] => model.evalStats.map((s) => model.eval.outputs.get(s.score)!);

/** The model without GPU programs (the reference backend, `check`, a bundle compiled without kernels). */
export function describeModel(model: CompiledModel, overrides: string[] = []): ModelAbi {
  const { files, entry } = specFiles(model);
  const ev = model.eval;
  return {
    spec: { entry, files, overrides },
    settings: model.settings,
    constants: model.constants,
    inputs: model.inputs,
    outputs: model.outputs.map((name) => ({ name, shape: [...ev.nodes[ev.outputs.get(name)!]!.shape.slice(1)] })),
    parameters: model.train.graph.params.map((p) => ({ name: p.name, shape: p.shape, init: p.init, frozen: p.frozen, group: p.group })),
    state: model.train.state.map((s) => ({ name: s.name, kind: s.kind, shape: s.shape })),
    stats: model.evalStats.map((s) => ({ kind: s.kind, label: s.label, input: s.input, score: s.score })),
    batch: { train: model.settings.train.batch_size, forward: model.evalBatch },
  };
}

/** A graph's plan with the names the runtime uses mapped to tensors. */
export function programAbi(graph: Graph, gp: GraphPlan, batch: number, step?: TrainStep): ProgramAbi {
  const { tensorOf, program, kernelNodes } = gp.lowered;
  const feeds: Record<string, string> = {};
  const bind = (name: string, id: number): void => {
    const t = tensorOf.get(id);
    if (t) feeds[name] = t;
  };
  for (const [name, id] of graph.inputs) bind(name, id);
  for (const p of graph.params) bind(p.name, p.node);
  const outputs: Record<string, string> = {};
  for (const [name, id] of graph.outputs) {
    const t = tensorOf.get(id);
    if (t) outputs[name] = t;
  }
  const state: Record<string, string> = {};
  for (const s of step?.state ?? []) {
    const t = tensorOf.get(s.node);
    if (t) state[s.name] = t;
  }
  const nodes: Record<string, string> = {};
  for (const [id, t] of tensorOf) nodes[String(id)] = t;
  // an arena's members: a kernel reading the arena reads them too
  const members = new Map<string, string[]>();
  for (const t of program.tensors) if (t.alias) members.set(t.alias.of, [...(members.get(t.alias.of) ?? []), t.name]);
  const within = (name: string): string[] => [name, ...(members.get(name) ?? []).flatMap(within)];
  const trace: KernelTrace[] = program.kernels.map((k, i) => ({ nodes: kernelNodes[i] ?? [], reads: [...new Set(k.inputs.flatMap((b) => within(b.name)))] }));
  return { plan: gp.plan, batch, feeds, outputs, state, nodes, trace };
}

/** Lowers the train step and the evaluation forward for `target`. */
export function lowerModel(model: CompiledModel, target: TargetAbi, overrides: string[] = [], mode: FusionMode = 'fused'): ModelAbi {
  const cfg = selectKernelConfig(targetFacts(target));
  const train = planTrainStep(model.train, cfg, { mode, routes: model.routes.train });
  const forward = planGraph(model.eval, cfg, { mode, keep: forwardKeep(model), routes: model.routes.eval });
  return {
    ...describeModel(model, overrides),
    gpu: {
      train: programAbi(model.train.graph, train, model.settings.train.batch_size, model.train),
      forward: programAbi(model.eval, forward, model.evalBatch),
      target,
    },
  };
}
