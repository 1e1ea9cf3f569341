// A train-step graph on the GPU: lowers it (fused or one kernel per primitive), plans and loads it, feeds inputs
// and state by name, runs a step as one submit (dispatches + state copies) and reads back the loss.
import type { Graph } from '../../compiler/ir/graph.js';
import type { TrainStep } from '../../compiler/train-step.js';
import { lowerGraphToKernels, type LoweredGraph } from '../../compiler/passes/lower-to-kernels.js';
import { tensorName, type FusionMode } from '../../compiler/passes/fusion.js';
import { buildDispatchPlan, type DispatchPlan, type KernelProgram } from '../../compiler/kernels/plan.js';
import { selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import type { GpuContext } from './device.js';
import { Executor, type ExecutorOptions } from './executor.js';
import { GpuError } from './errors.js';

export interface GpuGraphOptions extends ExecutorOptions {
  mode?: FusionMode;
  /** Debug hook: edit the kernel program before it is planned (tests inject faults with it). */
  transformProgram?: (p: KernelProgram) => void;
  /** Nodes whose values stay readable after a step (e.g. gradients, for tests). */
  keep?: number[];
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

  static async create(ctx: GpuContext, graph: Graph, opts: GpuGraphOptions & { copies?: { from: string; to: string }[] } = {}): Promise<GpuGraph> {
    const cfg = opts.cfg ?? selectKernelConfig(ctx.adapter);
    const lowered = lowerGraphToKernels(graph, { mode: opts.mode ?? 'fused', maxStorageBuffers: cfg.maxStorageBuffers, keep: opts.keep });
    lowered.program.copies = opts.copies;
    opts.transformProgram?.(lowered.program);
    const plan = buildDispatchPlan(lowered.program, cfg);
    const executor = await Executor.load(ctx, plan, opts);
    return new GpuGraph(graph, lowered, plan, executor);
  }

  /** Feeds an input (by input name) or a parameter (by parameter name). */
  feed(name: string, data: Float32Array): void {
    const id = this.graph.inputs.get(name) ?? this.graph.params.find((p) => p.name === name)?.node;
    if (id === undefined) throw new GpuError('SMC4020', `the graph has no input or parameter named ${name}`);
    const t = this.lowered.tensorOf.get(id);
    if (!t) return; // unused by every kernel
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

  destroy(): void {
    this.executor.destroy();
  }
}

/** State copies of a train step: each state update's value → the state's input / parameter tensor. */
export function stateCopies(step: TrainStep): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const s of step.state) {
    const from = `new:${s.name}`;
    const id = step.graph.outputs.get(from)!;
    out.push({ from: `@${id}`, to: tensorName(step.graph.nodes[s.node]!) });
  }
  return out;
}

/** A train step on the GPU: state lives on the device; `run` returns the loss and the gradient norm. */
export class GpuTrainStep {
  private constructor(
    readonly step: TrainStep,
    readonly gpu: GpuGraph,
  ) {}

  static async create(ctx: GpuContext, step: TrainStep, opts: GpuGraphOptions = {}): Promise<GpuTrainStep> {
    // resolve `@id` placeholders once the lowering has named the update tensors
    const cfg = opts.cfg ?? selectKernelConfig(ctx.adapter);
    const lowered = lowerGraphToKernels(step.graph, { mode: opts.mode ?? 'fused', maxStorageBuffers: cfg.maxStorageBuffers, keep: opts.keep });
    const copies = stateCopies(step)
      .map((c) => ({ from: lowered.tensorOf.get(Number(c.from.slice(1)))!, to: c.to }))
      .filter((c) => c.from !== c.to && lowered.tensorOf.size > 0);
    const live = new Set(lowered.program.tensors.map((t) => t.name));
    const gpu = await GpuGraph.create(ctx, step.graph, { ...opts, cfg, copies: copies.filter((c) => live.has(c.to)) });
    return new GpuTrainStep(step, gpu);
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
