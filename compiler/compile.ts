// compileModel: a checked spec → the two graphs a run needs — the train step (forward + loss + backward + clip +
// Adam, batch statistics, dropout on) and the evaluation forward (dropout off, DMFD statistics per `eval`).

import { DiagnosticError, diag, type Diagnostic } from '../grammar/diagnostics.js';
import { checkSpec, type CheckOptions, type CheckResult } from './check/index.js';
import type { StatSite } from './check/elaborate.js';
import type { Settings } from './check/settings.js';
import type { Graph } from './ir/graph.js';
import { buildTrainStep, trainStepOptionsFromSettings, type TrainStep } from './train-step.js';
import { isInternalName } from '../runtime/abi/names.js';
import { routeSamples, type Route } from './passes/route-samples.js';

export interface CompiledModel {
  specPath: string;
  settings: Settings;
  /** The training forward (dropout on, batch statistics, with the loss) the train step extends. */
  forward: Graph;
  /** The train step for batch `settings.train.batch_size`. */
  train: TrainStep;
  /** Evaluation forward for batch `evalBatch`. */
  eval: Graph;
  evalBatch: number;
  /** Every constant's value after imports and overrides. */
  constants: Record<string, unknown>;
  /** Population-statistics sites of the eval graph (empty with `dmfd_stats = "batch"`). */
  evalStats: StatSite[];
  /** Names of the model's outputs (pred, state_v, ...). */
  outputs: string[];
  /** Input names the data must provide (inputs and targets, without internal ones). */
  inputs: Map<string, number[]>;
  /** Sample routing (compiler/passes/route-samples.ts) of the train and eval forwards; empty when off. */
  routes: { train: Route[]; eval: Route[]; skipped: string[] };
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

export class CompileError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly sources: Map<string, string>,
  ) {
    super(diagnostics.map((d) => d.message).join('; '));
  }
}

export interface CompileOptions {
  overrides?: string[];
  evalBatch?: number;
  dmfdStats?: 'batch' | 'population';
  text?: string;
  /** Run each generator only on the samples its `where` mask flags (default true; false: every sample). */
  route?: boolean;
}

function mustCheck(path: string, o: CheckOptions): CheckResult {
  const r = checkSpec(path, o);
  if (!r.ok || !r.elaborated || !r.settings) throw new CompileError(r.diagnostics, r.program.sources);
  return r;
}

/** Throws CompileError (with diagnostics) when the spec does not check. */
export function compileModel(specPath: string, opts: CompileOptions = {}): CompiledModel {
  const base: CheckOptions = { overrides: opts.overrides, text: opts.text };
  const tr = mustCheck(specPath, { ...base, training: true, withLoss: true });
  const settings = tr.settings!;
  const evalBatch = opts.evalBatch ?? settings.eval.batch_size;
  const dmfdStats = opts.dmfdStats ?? settings.eval.dmfd_stats;
  const ev = mustCheck(specPath, { ...base, training: false, withLoss: false, batch: evalBatch, dmfdStats });
  const route = opts.route ?? true;
  const routed = (graph: Graph) => (route ? routeSamples(graph) : { graph, routes: [], skipped: [] });
  const [routedTrain, routedEval] = [routed(tr.elaborated!.graph), routed(ev.elaborated!.graph)];
  let train: TrainStep;
  try {
    train = buildTrainStep(routedTrain.graph, trainStepOptionsFromSettings(settings.train));
  } catch (e) {
    const d = e instanceof DiagnosticError ? e.diagnostic : diag('SMC3004', `cannot build the train step: ${(e as Error).message}`, { file: tr.program.entry, line: 1, column: 1 });
    throw new CompileError([d], tr.program.sources);
  }
  // Population statistics are computed from per-sample scores in a first pass, fed as zeros there: a score
  // must therefore not depend on any statistic.
  const evGraph = routedEval.graph;
  for (const site of ev.elaborated!.stats) {
    const statInputs = new Set(ev.elaborated!.stats.map((x) => evGraph.inputs.get(x.input)!));
    const seen = new Set<number>();
    const stack = [evGraph.outputs.get(site.score)!];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (statInputs.has(id)) {
        const span = evGraph.nodes[evGraph.outputs.get(site.score)!]!.span;
        throw new CompileError([diag('SMC3004', 'a DMFD score depends on another batch statistic, which population statistics cannot evaluate', span && { file: span.file, line: span.line, column: span.column }, 'use `eval { dmfd_stats = "batch" }` for this spec')], tr.program.sources);
      }
      stack.push(...evGraph.nodes[id]!.inputs);
    }
  }
  const inputs = new Map<string, number[]>();
  for (const [name, id] of ev.elaborated!.graph.inputs) if (!isInternalName(name)) inputs.set(name, [...ev.elaborated!.graph.nodes[id]!.shape.slice(1)]);
  for (const [name, id] of tr.elaborated!.graph.inputs) if (!isInternalName(name) && !inputs.has(name)) inputs.set(name, [...tr.elaborated!.graph.nodes[id]!.shape.slice(1)]);
  return {
    specPath: tr.program.entry,
    settings,
    forward: routedTrain.graph,
    train,
    eval: routedEval.graph,
    evalBatch,
    evalStats: ev.elaborated!.stats,
    constants: tr.elaborated!.constants,
    outputs: [...ev.elaborated!.outputs.keys()],
    inputs,
    diagnostics: [...tr.diagnostics, ...ev.diagnostics.filter((d) => !tr.diagnostics.some((t) => t.message === d.message))],
    routes: { train: routedTrain.routes, eval: routedEval.routes, skipped: [...new Set([...routedTrain.skipped, ...routedEval.skipped])] },
    sources: tr.program.sources,
  };
}
