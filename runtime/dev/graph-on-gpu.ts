// The developer path: compile any graph (or a train step) for the adapter at hand and run it on the GPU, fed by
// input / parameter name and read by node id — for tests, benchmarks and validate mode. Models and bundles run
// through runtime/gpu/program.ts instead, from their manifest alone.
import type { Graph } from '../../compiler/ir/graph.js';
import type { TrainStep } from '../../compiler/train-step.js';
import type { DispatchPlan } from '../abi/plan.js';
import type { LoweredGraph } from '../../compiler/passes/lower-to-kernels.js';
import { planGraph, planTrainStep, type GraphPlan, type PlanGraphOptions } from '../../compiler/passes/plan-graph.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import { programAbi } from '../../compiler/bundle/model-abi.js';
import type { GpuContext } from '../gpu/device.js';
import type { ExecutorOptions } from '../gpu/executor.js';
import { GpuError } from '../gpu/errors.js';
import { GpuProgram } from '../gpu/program.js';
import type { Feeds } from '../interpreter/evaluate.js';
import { validateAgainstInterpreter, type KernelDisagreement, type ValidateOptions } from './validate.js';
import { GRAD_NORM_OUTPUT, LOSS_OUTPUT } from '../abi/names.js';

export interface GpuGraphOptions extends ExecutorOptions, PlanGraphOptions {
  cfg?: KernelConfig;
  /** Debug hook: edit the dispatch plan before it is loaded (tests that plant a faulty kernel). */
  transformPlan?: (plan: DispatchPlan) => void;
}

/** Any graph compiled for the GPU: feeds by input / parameter name, outputs by name, nodes by id. */
export class GpuGraph {
  private constructor(
    readonly graph: Graph,
    readonly lowered: LoweredGraph,
    readonly program: GpuProgram,
  ) {}

  static async create(ctx: GpuContext, graph: Graph, opts: GpuGraphOptions = {}): Promise<GpuGraph> {
    return GpuGraph.fromPlan(ctx, graph, planGraph(graph, opts.cfg ?? selectKernelConfig(ctx.adapter), opts), opts);
  }

  /** Loads an already planned graph (pipelines compiled asynchronously, buffers and bind groups created once). */
  static async fromPlan(ctx: GpuContext, graph: Graph, gp: GraphPlan, opts: GpuGraphOptions = {}, step?: TrainStep): Promise<GpuGraph> {
    opts.transformPlan?.(gp.plan);
    return new GpuGraph(graph, gp.lowered, await GpuProgram.load(ctx, programAbi(graph, gp, 0, step), opts));
  }

  get plan(): DispatchPlan {
    return this.program.plan;
  }

  get executor() {
    return this.program.executor;
  }

  /** Feeds an input (by input name) or a parameter (by parameter name); values no kernel reads are ignored. */
  feed(name: string, data: Float32Array): void {
    if (!this.graph.inputs.has(name) && !this.graph.params.some((p) => p.name === name)) throw new GpuError('SMC4020', `the graph has no input or parameter named ${name}`);
    if (this.program.reads(name)) this.program.feed(name, data);
  }

  /** One step: every dispatch (and the state copies) in one submit; reads back the named outputs. */
  run(outputs: string[] = []): Promise<Map<string, Float32Array>> {
    return this.program.run(outputs);
  }

  /** Values of kept (or otherwise materialised) nodes after the last step. */
  readNodes(ids: number[]): Promise<Map<number, Float32Array>> {
    return this.program.readNodes(ids);
  }

  /** Validate mode: the first kernel whose results disagree with the interpreter (undefined when all agree). */
  validate(feeds: Feeds, opts: ValidateOptions = {}): Promise<KernelDisagreement | undefined> {
    return validateAgainstInterpreter(this.program, this.graph, feeds, opts);
  }

  destroy(): void {
    this.program.destroy();
  }
}

/** A train step on the GPU: state lives on the device; `run` returns the loss and the gradient norm. */
export class GpuTrainStep {
  private constructor(
    readonly step: TrainStep,
    readonly gpu: GpuGraph,
  ) {}

  static async create(ctx: GpuContext, step: TrainStep, opts: GpuGraphOptions = {}): Promise<GpuTrainStep> {
    const gp = planTrainStep(step, opts.cfg ?? selectKernelConfig(ctx.adapter), opts);
    return new GpuTrainStep(step, await GpuGraph.fromPlan(ctx, step.graph, gp, opts, step));
  }

  /** Feeds data inputs, parameters and optimizer state by name (see runtime/abi/init.ts initTrainState). */
  feed(values: ReadonlyMap<string, Float32Array>): void {
    for (const [k, v] of values) this.gpu.feed(k, v);
  }

  async run(): Promise<{ loss: number; gradNorm: number }> {
    const out = await this.gpu.run([LOSS_OUTPUT, GRAD_NORM_OUTPUT]);
    return { loss: out.get(LOSS_OUTPUT)![0]!, gradNorm: out.get(GRAD_NORM_OUTPUT)![0]! };
  }

  /** Current state (parameters, Adam m / v / step counts) by feed name. */
  readState(): Promise<Map<string, Float32Array>> {
    return this.gpu.program.readState();
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
