// The reference backend: runs the compiled graphs on the CPU interpreter in f32 (`--backend reference`).

import type { CompiledModel } from '../../compiler/compile.js';
import { run, type Feeds } from '../interpreter/index.js';
import { runTrainStep } from '../interpreter/train.js';
import { statValue, type Backend, type Tensors } from './backend.js';
import { SEED_INPUT } from '../abi/names.js';

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  private state: Feeds = new Map();

  constructor(private readonly model: CompiledModel) {}

  async setState(state: Tensors): Promise<void> {
    for (const [k, v] of state) this.state.set(k, v);
  }

  async getState(): Promise<Tensors> {
    const out: Tensors = new Map();
    for (const [k, v] of this.state) out.set(k, v instanceof Float32Array ? v : Float32Array.from(v));
    return out;
  }

  async trainStep(batch: Tensors, seed: number): Promise<{ loss: number; gradNorm: number }> {
    const feeds: Feeds = new Map(batch);
    feeds.set(SEED_INPUT, Float32Array.of(seed));
    const r = runTrainStep(this.model.train, this.state, feeds, { dtype: 'f32' });
    this.state = r.state;
    return { loss: r.loss, gradNorm: r.gradNorm };
  }

  async forward(batch: Tensors, stats: Map<string, number>): Promise<Tensors> {
    const feeds: Feeds = new Map(batch);
    for (const p of this.model.eval.params) feeds.set(p.name, this.state.get(p.name)!);
    for (const s of this.model.evalStats) feeds.set(s.input, Float32Array.of(statValue(stats, s.input)));
    const out = run(this.model.eval, feeds, { dtype: 'f32' });
    const res: Tensors = new Map();
    for (const [k, v] of out) res.set(k, v instanceof Float32Array ? v : Float32Array.from(v));
    return res;
  }

  async dispose(): Promise<void> {}

  describe(): string {
    return 'CPU reference interpreter (f32)';
  }
}
