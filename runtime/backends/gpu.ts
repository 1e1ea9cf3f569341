// The GPU backend: the train step and the evaluation forward lowered to fused WGSL kernels and run through Dawn.
// State (parameters, Adam moments) lives on the device between steps; the forward gets the current
// parameters before each evaluation pass. A bundle's kernels are checked against what this build lowers.

import type { CompiledModel } from '../../compiler/compile.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import { openGpu, type GpuContext } from '../gpu/device.js';
import { GpuError } from '../gpu/errors.js';
import { GpuGraph, GpuTrainStep } from '../gpu/train-step.js';
import { selectKernelConfig } from '../../compiler/kernels/select.js';
import { forwardKeep } from './gpu-plans.js';
import { statValue, type Backend, type Tensors } from './backend.js';
import type { BackendOptions } from './index.js';

/** One device per process: Dawn and lavapipe are slow to open and keep compiled pipelines in the context. */
let shared: Promise<GpuContext> | undefined;
export function sharedGpu(): Promise<GpuContext> {
  shared ??= openGpu().catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

function sameKernels(kind: string, bundle: DispatchPlan, built: DispatchPlan): void {
  const a = bundle.kernels.map((k) => k.wgsl);
  const b = built.kernels.map((k) => k.wgsl);
  if (a.length !== b.length || a.some((w, i) => w !== b[i])) {
    throw new GpuError('SMC4020', `the bundle's ${kind} kernels differ from what this smcirc build generates for this adapter`, 'recompile the bundle with `smcirc compile` on this machine (kernels are chosen per adapter)');
  }
}

export class GpuBackend implements Backend {
  readonly name = 'gpu' as const;
  /** Host copy of the last state set: frozen parameters never change, so they are served from here. */
  private host: Tensors = new Map();
  private forwardStale = true;
  /** Validate mode: the first train step and the first forward are checked kernel by kernel. */
  private pendingValidation = { train: false, forward: false };

  private constructor(
    private readonly model: CompiledModel,
    private readonly ctx: GpuContext,
    private readonly train: GpuTrainStep,
    private readonly fwd: GpuGraph,
  ) {}

  static async create(model: CompiledModel, opts: BackendOptions): Promise<Backend> {
    const ctx = await sharedGpu();
    const mode = opts.fuse === false ? 'unfused' : 'fused';
    const cfg = selectKernelConfig(ctx.adapter);
    const train = await GpuTrainStep.create(ctx, model.train, { mode, cfg, dumpWgslDir: opts.dumpWgslDir && `${opts.dumpWgslDir}/train_step` });
    const fwd = await GpuGraph.create(ctx, model.eval, { mode, cfg, keep: forwardKeep(model), dumpWgslDir: opts.dumpWgslDir && `${opts.dumpWgslDir}/forward` });
    if (opts.plans) {
      sameKernels('train-step', opts.plans.train, train.gpu.plan);
      sameKernels('forward', opts.plans.forward, fwd.plan);
    }
    const b = new GpuBackend(model, ctx, train, fwd);
    if (opts.validate) b.pendingValidation = { train: true, forward: true };
    return b;
  }

  /** Runs `graph` kernel by kernel against the interpreter; a disagreement stops the run naming the kernel. */
  private async validate(graph: GpuGraph, feeds: Tensors, what: string): Promise<void> {
    const bad = await graph.validate(feeds);
    if (bad) {
      throw new GpuError('SMC4030', `validate: kernel ${bad.kernel} (#${bad.index} of the ${what}) disagrees with the reference interpreter at element ${bad.element} of node ${bad.node}: GPU ${bad.gpu}, reference ${bad.reference}`,
        'rerun with --dump-wgsl <dir> to read that kernel; please report it with the spec', bad.kernel);
    }
  }

  async setState(state: Tensors): Promise<void> {
    for (const [k, v] of state) this.host.set(k, v);
    this.train.feed(state);
    this.forwardStale = true;
  }

  async getState(): Promise<Tensors> {
    const onDevice = await this.train.readState();
    const out = new Map(this.host);
    for (const [k, v] of onDevice) out.set(k, v);
    this.host = out;
    return out;
  }

  async trainStep(batch: Tensors, seed: number): Promise<{ loss: number }> {
    const feeds = new Map(batch);
    feeds.set('__seed', Float32Array.of(seed));
    if (this.pendingValidation.train) {
      this.pendingValidation.train = false;
      const state = await this.getState();
      await this.validate(this.train.gpu, new Map([...state, ...feeds]), 'train step');
      this.train.feed(state); // validation wrote the interpreter's values into the buffers: restore the state
    }
    for (const [k, v] of feeds) if (this.model.train.graph.inputs.has(k)) this.train.gpu.feed(k, v);
    const { loss } = await this.train.run();
    this.ctx.checkFatal();
    this.forwardStale = true;
    return { loss };
  }

  async forward(batch: Tensors, stats: Map<string, number>): Promise<Tensors> {
    if (this.forwardStale) {
      const state = await this.getState();
      for (const p of this.model.eval.params) this.fwd.feed(p.name, state.get(p.name)!);
      this.forwardStale = false;
    }
    if (this.pendingValidation.forward) {
      this.pendingValidation.forward = false;
      const feeds: Tensors = new Map(batch);
      for (const p of this.model.eval.params) feeds.set(p.name, this.host.get(p.name)!);
      for (const s of this.model.evalStats) feeds.set(s.input, Float32Array.of(statValue(stats, s.input)));
      await this.validate(this.fwd, feeds, 'forward');
    }
    for (const [k, v] of batch) if (this.model.eval.inputs.has(k)) this.fwd.feed(k, v);
    for (const s of this.model.evalStats) this.fwd.feed(s.input, Float32Array.of(statValue(stats, s.input)));
    const names = [...this.model.eval.outputs.keys()];
    const out = await this.fwd.run(names);
    this.ctx.checkFatal();
    return out;
  }

  /** Per-kernel timings of one train step on `batch` (timestamp queries when the adapter has them). */
  async profile(batch: Tensors, seed = 1): Promise<{ label: string; ms: number; source: string }[]> {
    await this.trainStep(batch, seed); // warm-up: pipelines compiled, buffers touched
    return this.train.gpu.executor.profile();
  }

  get dispatchCount(): { train: number; forward: number; kernels: number } {
    return { train: this.train.gpu.plan.dispatches.length, forward: this.fwd.plan.dispatches.length, kernels: this.train.gpu.plan.kernels.length + this.fwd.plan.kernels.length };
  }

  async dispose(): Promise<void> {
    this.train.destroy();
    this.fwd.destroy();
  }
}
