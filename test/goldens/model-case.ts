// The whole-model golden: specs/smcir-tiny.smcir elaborated at batch 8 (eval mode: dropout off), §8 init seed 1111,
// one batch that exercises every DMFD state (vision missing, audio missing, both, none) and its train step.
import { numel, type Graph } from '../../compiler/ir/graph.js';
import { checkSpec } from '../../compiler/check/index.js';
import { buildTrainStep, paramGroup, trainStepOptionsFromSettings, type TrainStep, type TrainStepOptions } from '../../compiler/train-step.js';
import { initParams } from '../../runtime/abi/init.js';
import { rngNormal, streamOf } from '../../runtime/abi/rng.js';

export const MODEL_CASE = 'model_tiny';
export const MODEL_SPEC = new URL('../../specs/smcir-tiny.smcir', import.meta.url).pathname;
export const MODEL_BATCH = 8;
/** Samples whose vision / audio features are zeroed (sample 4: both). */
export const ZERO_V = [0, 1, 4];
export const ZERO_A = [2, 3, 4];

export interface ModelCase {
  graph: Graph;
  step: TrainStep;
  opts: TrainStepOptions;
}

export function buildModelCase(): ModelCase {
  const r = checkSpec(MODEL_SPEC, { withLoss: true, batch: MODEL_BATCH, training: false });
  if (!r.ok || !r.graph || !r.settings) throw new Error(`smcir-tiny does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const opts = trainStepOptionsFromSettings(r.settings.train, 'loss');
  return { graph: r.graph, step: buildTrainStep(r.graph, opts), opts };
}

export function modelFeeds(c: ModelCase): [string, number[], Float32Array][] {
  const t: [string, number[], Float32Array][] = [];
  for (const [name, id] of c.graph.inputs) {
    const shape = c.graph.nodes[id]!.shape;
    const n = numel(shape);
    const a = new Float32Array(n);
    const st = streamOf(name);
    for (let i = 0; i < n; i++) a[i] = name === 'label' ? 3 * Math.tanh(rngNormal(5, st, i)) : rngNormal(5, st, i);
    const zero = name === 'vision' ? ZERO_V : name === 'audio' ? ZERO_A : [];
    const per = n / MODEL_BATCH;
    for (const b of zero) a.fill(0, b * per, (b + 1) * per);
    t.push([`in:${name}`, shape, a]);
  }
  const init = initParams(c.graph.params, 1111);
  for (const p of c.graph.params) t.push([`param:${p.name}`, p.shape, init.get(p.name)!]);
  return t;
}

/** What torch_goldens.py needs to rebuild the optimiser: per-parameter group, lr, weight decay, frozen. */
export function modelMeta(c: ModelCase): unknown {
  return {
    train: { eps: c.opts.eps, betas: c.opts.betas, maxGradNorm: c.opts.maxGradNorm },
    params: Object.fromEntries(c.graph.params.map((p) => {
      const g = paramGroup(p, c.opts);
      return [p.name, { group: g.group, lr: g.lr, weightDecay: g.weightDecay, frozen: p.frozen }];
    })),
  };
}
