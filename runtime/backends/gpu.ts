// The GPU backend: a model's two programs (train step, evaluation forward) from its ModelAbi — a bundle's manifest
// or a spec lowered for this adapter — run through Dawn. State (parameters, Adam moments) lives on the device
// between steps; the forward gets the current parameters before each evaluation pass. Imports nothing from the
// compiler: validate mode, which needs the graphs, is handed in as a hook.

import type { ModelAbi, TargetAbi } from '../abi/model.js';
import { openGpu, type AdapterSummary, type GpuContext } from '../gpu/device.js';
import { GpuError } from '../gpu/errors.js';
import { GpuProgram } from '../gpu/program.js';
import { statValue, type Backend, type Tensors } from './backend.js';
import { GRAD_NORM_OUTPUT, LOSS_OUTPUT, SEED_INPUT } from '../abi/names.js';

/** One device per process: Dawn and lavapipe are slow to open and keep compiled pipelines in the context. */
let shared: Promise<GpuContext> | undefined;
export function sharedGpu(): Promise<GpuContext> {
  shared ??= openGpu().catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/** This adapter as a compile target. */
export function adapterTarget(a: AdapterSummary): TargetAbi {
  return { adapter: a.description || a.device || a.vendor, software: a.isSoftware, limits: { ...a.limits }, features: a.features };
}

/** Refuses programs compiled for more than this adapter offers, naming the limit. */
export function checkTargetFits(target: TargetAbi, adapter: AdapterSummary): void {
  const have = adapter.limits as unknown as Record<string, number>;
  for (const [k, want] of Object.entries(target.limits)) {
    const got = have[k];
    if (got === undefined) continue;
    const ok = k.startsWith('min') ? want >= got && want % got === 0 : want <= got;
    if (!ok) {
      throw new GpuError(
        'SMC4003',
        `the bundle was compiled for ${k} = ${want}; this adapter (${adapter.description || adapter.device}) ${k.startsWith('min') ? 'needs a multiple of' : 'offers'} ${got}`,
        'recompile for this machine: `smcirc train <bundle> --recompile`, or `smcirc compile <spec> -o <dir>` here (the default target fits every WebGPU adapter)',
      );
    }
  }
}

export interface GpuBackendOptions {
  /** Write every kernel's WGSL here at load. */
  dumpWgslDir?: string;
  /** Validate mode: check the first train step and the first forward kernel by kernel (runtime/dev/validate.ts). */
  validator?: (program: GpuProgram, which: 'train' | 'forward', feeds: Tensors) => Promise<void>;
}

export class GpuBackend implements Backend {
  readonly name = 'gpu' as const;
  /** Host copy of the last state set: frozen parameters never change, so they are served from here. */
  private host: Tensors = new Map();
  private forwardStale = true;
  private pendingValidation = { train: false, forward: false };

  private constructor(
    private readonly model: ModelAbi,
    private readonly ctx: GpuContext,
    readonly train: GpuProgram,
    readonly fwd: GpuProgram,
    private readonly validator: GpuBackendOptions['validator'],
  ) {}

  static async create(model: ModelAbi, opts: GpuBackendOptions = {}): Promise<GpuBackend> {
    if (!model.gpu) throw new GpuError('SMC4020', 'the model has no GPU programs', 'compile it for a target (`smcirc compile`), or use --backend reference');
    const ctx = await sharedGpu();
    checkTargetFits(model.gpu.target, ctx.adapter);
    const train = await GpuProgram.load(ctx, model.gpu.train, { dumpWgslDir: opts.dumpWgslDir && `${opts.dumpWgslDir}/train_step` });
    const fwd = await GpuProgram.load(ctx, model.gpu.forward, { dumpWgslDir: opts.dumpWgslDir && `${opts.dumpWgslDir}/forward` });
    const b = new GpuBackend(model, ctx, train, fwd, opts.validator);
    if (opts.validator) b.pendingValidation = { train: true, forward: true };
    return b;
  }

  async setState(state: Tensors): Promise<void> {
    for (const [k, v] of state) this.host.set(k, v);
    this.train.feedAll(state);
    this.forwardStale = true;
  }

  async getState(): Promise<Tensors> {
    const onDevice = await this.train.readState();
    const out = new Map(this.host);
    for (const [k, v] of onDevice) out.set(k, v);
    this.host = out;
    return out;
  }

  async trainStep(batch: Tensors, seed: number): Promise<{ loss: number; gradNorm: number }> {
    const feeds = new Map(batch);
    feeds.set(SEED_INPUT, Float32Array.of(seed));
    if (this.pendingValidation.train) {
      this.pendingValidation.train = false;
      const state = await this.getState();
      await this.validator!(this.train, 'train', new Map([...state, ...feeds]));
      this.train.feedAll(state); // validation wrote the interpreter's values into the buffers: restore the state
    }
    this.train.feedAll(feeds);
    const out = await this.train.run([LOSS_OUTPUT, GRAD_NORM_OUTPUT]);
    this.ctx.checkFatal();
    this.forwardStale = true;
    return { loss: out.get(LOSS_OUTPUT)![0]!, gradNorm: out.get(GRAD_NORM_OUTPUT)![0]! };
  }

  async forward(batch: Tensors, stats: Map<string, number>): Promise<Tensors> {
    if (this.forwardStale) {
      const state = await this.getState();
      for (const p of this.model.parameters) if (this.fwd.reads(p.name)) this.fwd.feed(p.name, state.get(p.name)!);
      this.forwardStale = false;
    }
    const statFeeds: Tensors = new Map(this.model.stats.map((s) => [s.input, Float32Array.of(statValue(stats, s.input))]));
    if (this.pendingValidation.forward) {
      this.pendingValidation.forward = false;
      const feeds: Tensors = new Map([...batch, ...statFeeds]);
      for (const p of this.model.parameters) feeds.set(p.name, this.host.get(p.name)!);
      await this.validator!(this.fwd, 'forward', feeds);
    }
    this.fwd.feedAll(batch);
    this.fwd.feedAll(statFeeds);
    const names = Object.keys(this.fwd.abi.outputs);
    const out = await this.fwd.run(names);
    this.ctx.checkFatal();
    return out;
  }

  /** Per-kernel timings of one train step on `batch` (timestamp queries when the adapter has them). */
  async profile(batch: Tensors, seed = 1): Promise<{ label: string; ms: number; source: string }[]> {
    await this.trainStep(batch, seed); // warm-up: pipelines compiled, buffers touched
    return this.train.executor.profile();
  }

  get dispatchCount(): { train: number; forward: number; kernels: number } {
    return { train: this.train.plan.dispatches.length, forward: this.fwd.plan.dispatches.length, kernels: this.train.plan.kernels.length + this.fwd.plan.kernels.length };
  }

  describe(): string {
    const a = this.ctx.adapter;
    return `${[a.vendor, a.description || a.device, a.architecture].filter(Boolean).join(' / ')}${a.isSoftware ? ' (software)' : ''}`;
  }

  async dispose(): Promise<void> {
    this.train.destroy();
    this.fwd.destroy();
  }
}
