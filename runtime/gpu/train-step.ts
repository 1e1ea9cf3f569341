// A graph (or a train step) on the GPU: planned for the adapter (fused or one kernel per primitive), loaded once,
// fed by input / parameter name; a step is one submit (dispatches + state copies) reading back only what is asked.
import type { Graph } from '../../compiler/ir/graph.js';
import type { TrainStep } from '../../compiler/train-step.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import type { LoweredGraph } from '../../compiler/passes/lower-to-kernels.js';
import { planGraph, planTrainStep, type GraphPlan, type PlanGraphOptions } from '../../compiler/passes/plan-graph.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import type { GpuContext } from './device.js';
import { Executor, type ExecutorOptions } from './executor.js';
import { GpuError } from './errors.js';
import type { Feeds } from '../interpreter/evaluate.js';
import { validateAgainstInterpreter, type KernelDisagreement, type ValidateOptions } from './validate.js';

export interface GpuGraphOptions extends ExecutorOptions, PlanGraphOptions {
  cfg?: KernelConfig;
}

/** Any graph compiled for the GPU: feeds by input / parameter name, outputs by name, nodes by id. */
export class GpuGraph {
  private constructor(
    readonly graph: Graph,
    readonly lowered: LoweredGraph,
    readonly plan: DispatchPlan,
    readonly executor: Executor,
  ) {}

  static async create(ctx: GpuContext, graph: Graph, opts: GpuGraphOptions = {}): Promise<GpuGraph> {
    return GpuGraph.fromPlan(ctx, graph, planGraph(graph, opts.cfg ?? selectKernelConfig(ctx.adapter), opts), opts);
  }

  /** Loads an already planned graph (pipelines compiled asynchronously, buffers and bind groups created once). */
  static async fromPlan(ctx: GpuContext, graph: Graph, gp: GraphPlan, opts: ExecutorOptions = {}): Promise<GpuGraph> {
    const executor = await Executor.load(ctx, gp.plan, opts);
    return new GpuGraph(graph, gp.lowered, gp.plan, executor);
  }

  /** Feeds an input (by input name) or a parameter (by parameter name); values no kernel reads are ignored. */
  feed(name: string, data: Float32Array): void {
    const id = this.graph.inputs.get(name) ?? this.graph.params.find((p) => p.name === name)?.node;
    if (id === undefined) throw new GpuError('SMC4020', `the graph has no input or parameter named ${name}`);
    const t = this.lowered.tensorOf.get(id);
    if (!t) return;
    this.executor.write(t, data);
  }

  outputTensor(name: string): string {
    const id = this.graph.outputs.get(name);
    if (id === undefined) throw new GpuError('SMC4020', `the graph has no output named ${name}`);
    return this.lowered.tensorOf.get(id)!;
  }

  /** One step: every dispatch (and the state copies) in one submit; reads back the named outputs. */
  async run(outputs: string[] = []): Promise<Map<string, Float32Array>> {
    const tensors = outputs.map((o) => this.outputTensor(o));
    const got = await this.executor.step(tensors);
    return new Map(outputs.map((o, i) => [o, got.get(tensors[i]!)!]));
  }

  /** Values of kept (or otherwise materialised) nodes after the last step. */
  async readNodes(ids: number[]): Promise<Map<number, Float32Array>> {
    const ts = ids.map((id) => {
      const t = this.lowered.tensorOf.get(id);
      if (!t) throw new GpuError('SMC4020', `node ${id} has no buffer (pass it in keep)`);
      return t;
    });
    const got = await this.executor.read(ts);
    return new Map(ids.map((id, i) => [id, got.get(ts[i]!)!]));
  }

  /**
   * Validate mode: runs the kernels one at a time on the interpreter's values of their inputs and returns the
   * first kernel whose results disagree with the interpreter (undefined when all agree).
   */
  async validate(feeds: Feeds, opts: ValidateOptions = {}): Promise<KernelDisagreement | undefined> {
    return validateAgainstInterpreter(this, feeds, opts);
  }

  destroy(): void {
    this.executor.destroy();
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
    return new GpuTrainStep(step, await GpuGraph.fromPlan(ctx, step.graph, gp, opts));
  }

  /** Feeds data inputs, parameters and optimizer state by name (see compiler/train-step.ts initTrainState). */
  feed(values: ReadonlyMap<string, Float32Array>): void {
    for (const [k, v] of values) this.gpu.feed(k, v);
  }

  async run(): Promise<{ loss: number; gradNorm: number }> {
    const out = await this.gpu.run(['loss', 'grad_norm']);
    return { loss: out.get('loss')![0]!, gradNorm: out.get('grad_norm')![0]! };
  }

  /** Current state (parameters, Adam m / v / step counts) by feed name. */
  async readState(): Promise<Map<string, Float32Array>> {
    const ids = this.step.state.map((s) => s.node).filter((id) => this.gpu.lowered.tensorOf.has(id));
    const got = await this.gpu.readNodes(ids);
    const out = new Map<string, Float32Array>();
    for (const s of this.step.state) if (got.has(s.node)) out.set(s.name, got.get(s.node)!);
    return out;
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
