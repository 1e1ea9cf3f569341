// Deterministic prediction over a whole split: fixed order, fixed batches (a short last batch is padded), and,
// with population DMFD statistics, a first pass that computes the statistics over the whole split.

import type { ModelAbi } from '../abi/model.js';
import { iterateBatches, type ModalityArrays } from '../data/index.js';
import type { Backend, Tensors } from '../backends/backend.js';
import { batchTensors, roles } from '../train/data-source.js';
import { isInternalName, isScoreOutput } from '../abi/names.js';

export interface Predictions {
  /** Per-sample values of each model output that is per-sample ([B] in the graph). */
  outputs: Map<string, Float32Array>;
  /** The population statistics used (empty in batch mode). */
  stats: Map<string, number>;
  /** Per-sample DMFD scores behind the population statistics, by the block that computes them (e.g. `dmfd.rule_v`). */
  scores: Map<string, Float32Array>;
}

async function pass(model: ModelAbi, backend: Backend, split: ModalityArrays, stats: Map<string, number>, want: (name: string) => boolean): Promise<Map<string, Float32Array>> {
  const { target } = roles(model);
  const B = model.batch.forward;
  const out = new Map<string, Float32Array>();
  for (const batch of iterateBatches(split, B, { shuffle: false })) {
    const res: Tensors = await backend.forward(batchTensors(batch, B, target), stats);
    for (const [name, v] of res) {
      if (!want(name) || v.length !== B) continue;
      let dst = out.get(name);
      if (!dst) out.set(name, (dst = new Float32Array(split.n)));
      dst.set(v.subarray(0, batch.n), batch.index * B);
    }
  }
  return out;
}

export async function predictSplit(model: ModelAbi, backend: Backend, split: ModalityArrays): Promise<Predictions> {
  const stats = new Map<string, number>();
  const byLabel = new Map<string, Float32Array>();
  if (model.stats.length) {
    // pass 1: the per-sample scores do not depend on the statistics, which are fed as zeros
    const zeros = new Map(model.stats.map((s) => [s.input, 0]));
    const scores = await pass(model, backend, split, zeros, isScoreOutput);
    for (const s of model.stats) {
      const x = scores.get(s.score)!;
      if (!byLabel.has(s.label)) byLabel.set(s.label, x);
      let mean = 0;
      for (const v of x) mean += v;
      mean /= x.length;
      if (s.kind === 'mean') stats.set(s.input, mean);
      else {
        let ss = 0;
        for (const v of x) ss += (v - mean) * (v - mean);
        stats.set(s.input, Math.sqrt(ss / x.length));
      }
    }
  }
  const outputs = await pass(model, backend, split, stats, (n) => !isInternalName(n));
  return { outputs, stats, scores: byLabel };
}
